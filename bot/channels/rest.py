"""Rasa-compatible REST channel: ``POST /webhooks/rest/webhook``.

Front ends and partner systems built for Rasa's REST channel talk to Harborline
unchanged. The request and answer are Rasa's::

    {"sender": "<opaque id>", "message": "...", "metadata": {"message_id": "..."}}
    -> [{"recipient_id": "<sender>", "text": "...",
         "buttons": [{"title": "...", "payload": "..."}]}, ...]

One element per reply; ``buttons`` only when the reply offers choices (the same
choices the web chat shows). Every message runs through the same pipeline as
every other channel, as channel ``rest`` with the sender id as the address
(hashed for identity, stored only encrypted).

Checks, in this order, each with a JSON body ``{"error": "..."}``:

    channel off (REST_CHANNEL_ENABLED unset)     -> 404, like any unknown path
    bearer token missing or wrong (constant time) -> 401, nothing read or stored
    body over 64 KiB                              -> 413
    not JSON, wrong types, missing fields,
    message over 20,000 characters                -> 422
    sender not 16-128 visible ASCII characters    -> 400
    too many messages from this sender            -> 429 (+ the kind reply)
    storage down                                  -> 503 (+ the crisis text on distress)

Rasa's channel has no message id, so a resent message cannot be recognised by
default: each request gets a fresh random inbox id. A client that sends
``metadata.message_id`` gets retries recognised: the inbox id is then a keyed
hash of sender and message id (stable, and no sender in the clear), and a resent
message returns the stored replies without a second turn.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.channels.http import read_capped_body
from bot.pipeline import TurnResult
from bot.runtime import Runtime
from bot.types import InboundMessage
from dialogs.texts import get_texts

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_MESSAGE_FIELD_CHARS",
    "PATH",
    "ErrorBody",
    "InvalidRequestBody",
    "RasaButton",
    "RasaMessage",
    "RestMessage",
    "RestWebhookFastPath",
    "TurnRefusedBody",
    "router",
]

log = logging.getLogger("harborline.channels.rest")

PATH = "/webhooks/rest/webhook"
CHANNEL = "rest"
MAX_BODY_BYTES = 64 * 1024
# Longer than MAX_MESSAGE_CHARS is still answered (read in part, with a kind
# note); this hard cap only refuses what no person types.
MAX_MESSAGE_FIELD_CHARS = 20_000
SENDER_MIN, SENDER_MAX = 16, 128
# Visible ASCII only: no spaces, controls, direction overrides or look-alike letters.
SENDER_PATTERN = re.compile(r"^[!-~]+$")
SENDER_RULE = f"sender must be {SENDER_MIN}-{SENDER_MAX} visible ASCII characters (no spaces)"
RETRY_AFTER_SECONDS = 60
_STATUS = {"rate_limited": 429, "unavailable": 503, "degraded": 503}


# -- request ---------------------------------------------------------------------------------


class RestMetadata(BaseModel):
    """Rasa passes metadata through untouched; we read only ``message_id``."""

    model_config = ConfigDict(extra="allow")

    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Client message id: a resend with the same id returns the same replies",
    )


class RestMessage(BaseModel):
    """Rasa's REST channel request. Unknown fields (``input_channel``) are ignored."""

    sender: str = Field(
        description=(
            f"Opaque sender id: {SENDER_MIN}-{SENDER_MAX} visible ASCII characters "
            "(no spaces or control characters); one sender is one conversation"
        ),
        json_schema_extra={
            "minLength": SENDER_MIN,
            "maxLength": SENDER_MAX,
            "pattern": SENDER_PATTERN.pattern,
        },
    )
    message: str = Field(max_length=MAX_MESSAGE_FIELD_CHARS)
    metadata: RestMetadata | None = None


# -- responses -------------------------------------------------------------------------------


class RasaButton(BaseModel):
    title: str
    payload: str


class RasaMessage(BaseModel):
    recipient_id: str
    text: str
    buttons: list[RasaButton] = Field(
        default=[], description="Present only when the reply offers choices"
    )


class ErrorBody(BaseModel):
    error: str


class InvalidRequestBody(ErrorBody):
    fields: list[str] = []


class TurnRefusedBody(ErrorBody):
    """429 and 503 still carry what the person should read, in Rasa's shape."""

    messages: list[RasaMessage]


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined, for ``openapi_extra``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The replies, one element each, in Rasa's shape"},
    400: {"model": ErrorBody, "description": "Sender id refused (length or characters)"},
    401: {"model": ErrorBody, "description": "Bearer token missing or wrong; nothing stored"},
    404: {"model": ErrorBody, "description": "The channel is off (REST_CHANNEL_ENABLED)"},
    413: {"model": ErrorBody, "description": "Body larger than 64 KiB"},
    422: {"model": InvalidRequestBody, "description": "Not JSON, wrong types, missing fields"},
    429: {
        "model": TurnRefusedBody,
        "description": "Too many messages from this sender; the kind reply is in `messages`",
        "headers": {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        },
    },
    503: {
        "model": TurnRefusedBody,
        "description": "Storage unavailable; `messages` has the crisis text if the message "
        "showed distress, else a request to send again",
    },
}
_OPENAPI_EXTRA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline_schema(RestMessage)}},
    }
}

router = APIRouter(tags=["channels"])
_bearer = HTTPBearer(auto_error=False, description="REST_CHANNEL_TOKEN")


@router.post(
    PATH,
    response_model=list[RasaMessage],
    responses=_RESPONSES,
    openapi_extra=_OPENAPI_EXTRA,
    summary="Rasa-compatible REST channel",
)
async def rest_webhook(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if not settings.rest_channel_enabled:
        return _error(404, "Not Found")
    if not _authorized(credentials, settings.rest_channel_token):
        return _error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
    body = await read_capped_body(request, MAX_BODY_BYTES)
    if body is None:
        return _error(413, "body too large")
    try:
        # The standard parser, as for the web chat: it keeps a lone surrogate
        # (a JavaScript client cutting an emoji in half), which the pipeline cleans.
        data = json.loads(body)
    except (ValueError, RecursionError):
        return JSONResponse({"error": "body is not JSON", "fields": []}, status_code=422)
    if isinstance(data, dict):
        if isinstance(data.get("sender"), str) and not _valid_sender(data["sender"]):
            return _error(400, SENDER_RULE)
        if isinstance(data.get("message"), str):
            # Lone surrogates become "?", as the pipeline would (validation cannot hold them).
            data["message"] = data["message"].encode("utf-8", "replace").decode("utf-8")
    try:
        frame = RestMessage.model_validate(data)
    except ValidationError as exc:
        fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "fields": fields}, status_code=422)
    message = InboundMessage(
        channel=CHANNEL,
        address=frame.sender,
        text=frame.message,
        provider_id=_provider_id(runtime, frame),
        received_at=datetime.now(UTC),
    )
    try:
        result = await runtime.pipeline.handle(message)
    except Exception as exc:  # handle() answers even when storage fails; this is a bug.
        log.error("rest turn failed, unexpected: %s", type(exc).__name__)
        sorry = {"recipient_id": frame.sender, "text": get_texts("en")("errors.unavailable")}
        return JSONResponse({"error": "service unavailable", "messages": [sorry]}, status_code=503)
    messages = _rasa_messages(frame.sender, result)
    status = _STATUS.get(result.status, 200)
    if status == 200:
        return JSONResponse(messages)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else None
    error = "too many messages" if status == 429 else "service unavailable"
    return JSONResponse({"error": error, "messages": messages}, status_code=status, headers=headers)


def _authorized(credentials: HTTPAuthorizationCredentials | None, token: str) -> bool:
    if not token:
        _warn_no_token()  # Enabled without a token is a configuration mistake: refuse everyone.
        return False
    given = credentials.credentials if credentials is not None else ""
    return hmac.compare_digest(given.encode(), token.encode())


@functools.cache
def _warn_no_token() -> None:
    log.warning("rest channel is enabled but REST_CHANNEL_TOKEN is empty; refusing every request")


def _valid_sender(sender: str) -> bool:
    return SENDER_MIN <= len(sender) <= SENDER_MAX and SENDER_PATTERN.fullmatch(sender) is not None


def _provider_id(runtime: Runtime, frame: RestMessage) -> str:
    message_id = frame.metadata.message_id if frame.metadata else None
    if message_id is None:
        return uuid.uuid4().hex
    # Keyed hash: stable across resends, and the sender never sits in the clear. Its own
    # domain, so it can never equal a contact's hash.
    return runtime.pipeline.identity(f"{CHANNEL}.message", json.dumps([frame.sender, message_id]))


def _rasa_messages(sender: str, result: TurnResult) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for reply in result.replies:
        item: dict[str, Any] = {"recipient_id": sender, "text": reply.text}
        if reply.choices:
            item["buttons"] = [{"title": c.label, "payload": c.value} for c in reply.choices]
        messages.append(item)
    return messages


def _error(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


class RestWebhookFastPath:
    """Hand ``POST PATH`` straight to ``rest_webhook``, past FastAPI's router.

    Partner systems send every survivor message here, so it is the busiest route.
    Routing, dependency resolution and the inner middlewares cost about a tenth
    of the server's time per message here, and this endpoint needs none of them:
    it reads its own body, checks its own token and builds its own response. The
    endpoint is the same function either way, and the route stays registered, so
    the OpenAPI document (and anything not exactly ``POST PATH``: other methods,
    a trailing slash) is the router's as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await rest_webhook(request, await _bearer(request))
        await response(scope, receive, send)
