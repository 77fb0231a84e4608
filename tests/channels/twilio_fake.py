"""A local stand-in for Twilio's Messages API, served by uvicorn on 127.0.0.1.

Only what the SMS channel calls: ``POST /2010-04-01/Accounts/{sid}/Messages.json``
with HTTP basic auth, answering with the JSON shapes Twilio documents (201 with a
message resource, errors as ``{"code", "message", "more_info", "status"}``).
``fail_next`` queues failures (429 with Retry-After, 500, 400 with an error code).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

__all__ = ["FakeTwilio"]


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    code: int | None
    message: str
    retry_after: int | None


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[dict[str, str]] = []
        self.requests = 0
        self._failures: list[_Failure] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.base_url = ""
        self.app = FastAPI()
        self.app.post("/2010-04-01/Accounts/{sid}/Messages.json")(self._create)

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        message: str = "",
        retry_after: int | None = None,
    ) -> None:
        self._failures.append(_Failure(status, code, message or f"error {status}", retry_after))

    async def _create(self, sid: str, request: Request) -> JSONResponse:
        self.requests += 1
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if sid != self.account_sid or request.headers.get("authorization") != f"Basic {expected}":
            return self._error(_Failure(401, 20003, "Authenticate", None))
        if self._failures:
            return self._error(self._failures.pop(0))
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.sent.append(form)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        message_sid = "SM" + secrets.token_hex(16)
        uri = f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json"
        body: dict[str, Any] = {
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form.get("To"),
            "uri": uri,
        }
        return JSONResponse(body, status_code=201)

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
