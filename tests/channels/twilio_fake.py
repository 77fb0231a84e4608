"""A local stand-in for Twilio's Messages API, served by uvicorn on 127.0.0.1.

What the SMS channel calls, in the shapes Twilio documents for API 2010-04-01,
with HTTP basic auth on every request:

- ``POST /Accounts/{sid}/Messages.json``: 201 with a message resource (status
  ``queued``, or ``accepted`` through a Messaging Service; ``date_sent`` null
  until the message goes out); errors as ``{"code", "message", "more_info",
  "status"}``; a number that sent STOP (:meth:`block`) gets 400 / 21610.
- ``GET /Accounts/{sid}/Messages.json``: the list, newest first, filtered by
  ``To``, ``From``, ``DateSent``, ``DateSent<`` and ``DateSent>`` (on or
  before / after; a date or a date-time; a message not sent yet has no
  ``date_sent`` and matches no DateSent filter), paged with ``PageSize``,
  ``Page`` and ``PageToken`` and ``next_page_uri``.
- ``GET /Accounts/{sid}/Messages/{MessageSid}.json``: one message, or 404 / 20404.

``fail_next`` queues failures of the create call (429 with Retry-After, 500, 400
with an error code); ``lose_next_response`` creates the message and then
answers 502, as a proxy losing Twilio's answer would; ``fail_next_list`` fails
reads. :meth:`progress` moves a message on (sent, delivered, failed ...) and
returns the status callback Twilio would post, with its URL and parameters.
The clock is injectable, so dates follow the test's clock.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

__all__ = ["FakeTwilio", "StatusCallback"]

API = "/2010-04-01"


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    code: int | None
    message: str
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class StatusCallback:
    """What Twilio would POST to a message's StatusCallback URL."""

    url: str
    params: dict[str, str]


class FakeTwilio:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock or (lambda: datetime.now(UTC))
        # Form of every message created, in order (what reached the phone network).
        self.sent: list[dict[str, str]] = []
        self.messages: list[dict[str, Any]] = []  # The resources, in order of creation.
        self.callbacks: dict[str, str] = {}  # MessageSid -> StatusCallback URL
        self.requests = 0  # Create calls, answered or not.
        self.reads = 0  # List and fetch calls.
        self.blocked: set[str] = set()
        self._failures: list[_Failure] = []
        self._read_failures: list[_Failure] = []
        self._lose = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.base_url = ""
        self.app = FastAPI()
        self.app.post(API + "/Accounts/{sid}/Messages.json")(self._create)
        self.app.get(API + "/Accounts/{sid}/Messages.json")(self._list)
        self.app.get(API + "/Accounts/{sid}/Messages/{message_sid}.json")(self._fetch)

    # -- test controls -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        message: str = "",
        retry_after: int | None = None,
    ) -> None:
        self._failures.append(_Failure(status, code, message or f"error {status}", retry_after))

    def fail_next_list(self, status: int, code: int | None = None) -> None:
        self._read_failures.append(_Failure(status, code, f"error {status}", None))

    def lose_next_response(self) -> None:
        """The next create succeeds at Twilio, but its answer is lost (502)."""
        self._lose += 1

    def block(self, number: str) -> None:
        """The number sent STOP to Twilio: creates to it fail with 21610 until unblocked."""
        self.blocked.add(number)

    def unblock(self, number: str) -> None:
        self.blocked.discard(number)

    def progress(self, sid: str, status: str, error_code: int | None = None) -> StatusCallback:
        """Move a message on, as the carrier would, and return Twilio's status callback."""
        message = next(m for m in self.messages if m["sid"] == sid)
        now = self._date(self.clock())
        message["status"] = status
        message["date_updated"] = now
        if status in ("sending", "sent", "delivered", "undelivered", "failed", "read"):
            message["date_sent"] = message["date_sent"] or now
        if error_code is not None:
            message["error_code"] = error_code
            message["error_message"] = f"error {error_code}"
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if message.get("messaging_service_sid"):
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return StatusCallback(self.callbacks.get(sid, ""), params)

    # -- the API ---------------------------------------------------------------------------------

    def _authorized(self, sid: str, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and request.headers.get("authorization") == (
            f"Basic {expected}"
        )

    async def _create(self, sid: str, request: Request) -> Response:
        self.requests += 1
        if not self._authorized(sid, request):
            return self._error(_Failure(401, 20003, "Authenticate", None))
        if self._failures:
            return self._error(self._failures.pop(0))
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(_Failure(400, 21604, "A 'To' phone number is required.", None))
        if form["To"] in self.blocked:
            text = "Attempt to send to unsubscribed recipient"
            return self._error(_Failure(400, 21610, text, None))
        self.sent.append(form)
        now = self._date(self.clock())
        message_sid = "SM" + secrets.token_hex(16)
        uri = f"{API}/Accounts/{sid}/Messages/{message_sid}.json"
        service = form.get("MessagingServiceSid")
        message: dict[str, Any] = {
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # Through a Messaging Service, Twilio picks the sender from the pool.
            "from": form.get("From") or ("+15005550001" if service else None),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form.get("To"),
            "uri": uri,
        }
        self.messages.append(message)
        if form.get("StatusCallback"):
            self.callbacks[message_sid] = form["StatusCallback"]
        if self._lose:
            self._lose -= 1
            return Response("<html><body>502 Bad Gateway</body></html>", 502)
        return JSONResponse(message, status_code=201)

    async def _list(self, sid: str, request: Request) -> Response:
        self.reads += 1
        if not self._authorized(sid, request):
            return self._error(_Failure(401, 20003, "Authenticate", None))
        if self._read_failures:
            return self._error(self._read_failures.pop(0))
        query = request.query_params
        found = [m for m in self.messages if self._matches(m, query)]
        # Newest first, by the time sent (or created, for one not sent yet).
        found.sort(key=lambda m: self._when(m), reverse=True)
        size = max(1, min(1000, int(query.get("PageSize") or 50)))
        page = max(0, int(query.get("Page") or 0))
        chunk = found[page * size : (page + 1) * size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}
        base = f"{API}/Accounts/{sid}/Messages.json"

        def page_uri(number: int) -> str:
            extra: dict[str, str | int] = {"PageSize": size, "Page": number}
            if number:
                extra["PageToken"] = f"PASM{number:030d}"
            return f"{base}?{urlencode({**filters, **extra})}"

        more = (page + 1) * size < len(found)
        body = {
            "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": page_uri(0),
            "messages": chunk,
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * size,
            "uri": page_uri(page),
        }
        return JSONResponse(body)

    async def _fetch(self, sid: str, message_sid: str, request: Request) -> Response:
        self.reads += 1
        if not self._authorized(sid, request):
            return self._error(_Failure(401, 20003, "Authenticate", None))
        if self._read_failures:
            return self._error(self._read_failures.pop(0))
        for message in self.messages:
            if message["sid"] == message_sid:
                return JSONResponse(message)
        text = f"The requested resource {request.url.path} was not found"
        return self._error(_Failure(404, 20404, text, None))

    def _matches(self, message: dict[str, Any], query: Any) -> bool:
        if "To" in query and message["to"] != query["To"]:
            return False
        if "From" in query and message["from"] != query["From"]:
            return False
        sent = self._parse(message["date_sent"]) if message["date_sent"] else None
        for key, sign in (("DateSent", 0), ("DateSent<", -1), ("DateSent>", 1)):
            if key not in query:
                continue
            if sent is None:
                return False  # Not sent yet: no DateSent to compare.
            value = query[key]
            if len(value) == 10:  # YYYY-MM-DD: the whole day.
                day = datetime.strptime(value, "%Y-%m-%d").date()
                order = (sent.date() > day) - (sent.date() < day)
            else:
                bound = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                order = (sent > bound) - (sent < bound)
            # Equal always matches; "<" and ">" are "on or before" and "on or after".
            if order != 0 and order != sign:
                return False
        return True

    def _when(self, message: dict[str, Any]) -> datetime:
        return self._parse(message["date_sent"] or message["date_created"])

    @staticmethod
    def _date(moment: datetime) -> str:
        return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)

    @staticmethod
    def _parse(value: str) -> datetime:
        return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)

    @staticmethod
    def _error(failure: _Failure) -> JSONResponse:
        body = {
            "code": failure.code,
            "message": failure.message,
            "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
            "status": failure.status,
        }
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else None
        return JSONResponse(body, status_code=failure.status, headers=headers)

    # -- the server ------------------------------------------------------------------------------

    async def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers a flag only
            await asyncio.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
