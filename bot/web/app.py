"""The HTTP face: web chat, health checks. Channels translate; the pipeline decides."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftercare.dispatcher import from_runtime as checkin_dispatcher
from bot.channels.rest import ErrorBody, InvalidRequestBody, RestWebhookFastPath
from bot.channels.rest import router as rest_router
from bot.maintenance import run_maintenance
from bot.outbox import take_for_contact
from bot.pipeline import TurnResult
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.storage.migrate import upgrade_in_child
from bot.types import InboundMessage
from bot.warmup import release_free_memory, warm_up
from bot.web.admin import router as admin_router
from bot.web.auth import router as auth_router
from bot.web.console import router as console_router
from bot.web.console_checkins import router as console_checkins_router

__all__ = ["create_app"]

log = logging.getLogger("harborline.web")
HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024
CHAT_PATH = "/api/chat"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


class ChatFrame(BaseModel):
    """One message from the web chat page."""

    session: str = Field(min_length=16, max_length=128, description="Random per-tab token")
    id: str = Field(min_length=1, max_length=64, description="Client message id, for retries")
    text: str = Field(max_length=20_000)
    locale: str | None = Field(default=None, pattern="^(en|es)$")

    @field_validator("session", "id")
    @classmethod
    def _token(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError("letters, digits, - and _ only")
        return value


class ChoiceOut(BaseModel):
    label: str
    value: str


class ReplyOut(BaseModel):
    text: str
    choices: list[ChoiceOut] = []


class ChatResponse(BaseModel):
    replies: list[ReplyOut]
    locale: str
    status: str
    exit: bool = False


class ChatUpdates(BaseModel):
    messages: list[ReplyOut]


class BodySizeLimit:
    """Refuse oversized bodies before reading them (413), whatever the route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                response = JSONResponse({"error": "body too large"}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


GC_THRESHOLDS = (20_000, 20, 50)


def create_app(
    settings: Settings, runtime: Runtime | None = None, *, serving: bool = False
) -> FastAPI:
    """The web app. ``serving`` is for a server process (not tests): see below."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        if runtime is None and serving:
            # In a child process: a server never needs Alembic again once migrated.
            await upgrade_in_child(settings.effective_database_url)
        app.state.runtime = runtime or await build_runtime(settings, migrate=not serving)
        if serving:
            # Index the knowledge base before the first survivor asks (about 0.3 s
            # that would otherwise stall every chat waiting behind that question):
            # first load what the database serves, so only that gets indexed.
            rt = app.state.runtime
            await rt.kb.refresh(rt.db)
            await asyncio.to_thread(rt.kb.warm)
            await warm_up(rt)  # The first turn of each kind is slow; pay for it now.
            # Models, the KB index and imports live as long as the process: keep the
            # collector from walking them again on every full collection (a pause).
            gc.collect()  # What start-up threw away goes now, not into the frozen set.
            gc.freeze()
            release_free_memory()  # ... and back to the system, not kept in malloc's heaps.
            # A turn allocates thousands of short-lived objects (ORM rows, n-grams,
            # JSON); at the default threshold (700) the young generation is collected
            # several times a turn. Fewer, larger young collections cost less in all.
            gc.set_threshold(*GC_THRESHOLDS)
        interval = settings.maintenance_interval_seconds
        # SQLite's WAL is checkpointed here, on a thread, never inside a commit.
        loops = [asyncio.create_task(app.state.runtime.db.checkpoint_forever())]
        if interval > 0:
            loops.append(asyncio.create_task(run_maintenance(app.state.runtime.pipeline, interval)))
        if settings.paging_enabled:
            loops.append(asyncio.create_task(app.state.runtime.paging.run_forever()))
            # The same switch: tests drive background loops by hand.
            loops.append(asyncio.create_task(app.state.runtime.outbox.run_forever()))
            loops.append(asyncio.create_task(checkin_dispatcher(app.state.runtime).run_forever()))
        # Channels start what they need (senders, polling) once the runtime exists.
        for start in channel_starters:
            loops.extend(await start(app.state.runtime))
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
            if owned:
                await app.state.runtime.close()

    # Filled by channel installers: called with the runtime at start-up, each
    # returns the background tasks it started (cancelled at shutdown).
    channel_starters: list[ChannelStarter] = []
    app = FastAPI(title="Harborline", version="0.1.0", lifespan=lifespan)
    # Innermost first: oversized bodies are refused before a fast path reads one.
    app.add_middleware(RestWebhookFastPath)
    app.add_middleware(ChatFastPath)
    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "fields": fields}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "chat.html", {"quick_exit_url": settings.quick_exit_url}
        )

    @app.post(
        CHAT_PATH,
        response_model=ChatResponse,
        responses={
            400: {"model": ErrorBody},
            413: {"model": ErrorBody},
            422: {"model": InvalidRequestBody},
            429: {"model": ChatResponse},
            503: {"model": ChatResponse},
        },
    )
    async def chat_message(frame: ChatFrame, request: Request) -> JSONResponse:
        return await answer_chat(request.app.state.runtime, frame)

    # The other channels' webhooks next, before the less busy routes.
    app.include_router(rest_router)
    for install in CHANNEL_INSTALLERS:
        starter = install(app, settings)
        if starter is not None:
            channel_starters.append(starter)

    @app.get(
        "/api/chat/updates",
        response_model=ChatUpdates,
        responses={422: {"model": InvalidRequestBody}},
    )
    async def chat_updates(
        request: Request,
        session: str = Query(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$"),
    ) -> ChatUpdates:
        """Messages for this chat that the service started (a counselor's words)."""
        runtime_: Runtime = request.app.state.runtime
        who = runtime_.pipeline.identity("web", session)
        texts = await take_for_contact(
            runtime_.db, runtime_.pipeline.cipher, who, runtime_.pipeline.clock()
        )
        return ChatUpdates(messages=[ReplyOut(text=t) for t in texts])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {}})
    async def readyz(request: Request) -> JSONResponse:
        runtime_: Runtime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            await runtime_.db.ping()
            checks["database"] = "ok"
        except (SQLAlchemyError, OSError):
            checks["database"] = "unreachable"
        if settings.redis_url:
            try:
                await runtime_.state.ping()
                checks["redis"] = "ok"
            except Exception:
                checks["redis"] = "unreachable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    # Staff routes last: a request is matched against the routes in order (about
    # 0.1 ms when dozens of admin and console routes come first), and survivors'
    # messages are the busiest paths.
    app.include_router(auth_router)
    app.include_router(console_router)
    app.include_router(console_checkins_router)
    app.include_router(admin_router)
    return app


ChannelStarter = Callable[[Runtime], Awaitable[list[asyncio.Task[None]]]]
# A channel module's `install(app, settings)` adds its routes and may return a starter.
ChannelInstaller = Callable[[FastAPI, Settings], ChannelStarter | None]
CHANNEL_INSTALLERS: list[ChannelInstaller] = []

_STATUS = {"rate_limited": 429, "unavailable": 503, "degraded": 503}


async def answer_chat(runtime: Runtime, frame: ChatFrame) -> JSONResponse:
    """One web chat message through the pipeline, and the page's answer."""
    message = InboundMessage(
        channel="web",
        address=frame.session,
        text=frame.text,
        # Keyed hash: the inbox outlives an erasure and must not hold the session token.
        provider_id=runtime.pipeline.identity("web-msg", f"{frame.session}:{frame.id}"),
        received_at=datetime.now(UTC),
        locale_hint=frame.locale,
    )
    result = await runtime.pipeline.handle(message)
    return JSONResponse(_chat_body(result), status_code=_STATUS.get(result.status, 200))


class ChatFastPath:
    """Hand a well-formed ``POST /api/chat`` straight to ``answer_chat``, past the router.

    Every survivor message on the web chat comes here. FastAPI's routing, body
    parsing, dependency solving and inner middlewares are a share of each
    message's server time (about 6% on the REST webhook, where the same shortcut
    was measured), and a frame that validates needs none of them.
    Anything else (another method or path, another content type, a frame that
    does not validate) goes to the router with its body replayed, so every error
    answer and the OpenAPI document stay the router's.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != CHAT_PATH
            or not _plain_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        try:
            body = await Request(scope, receive).body()
        except ClientDisconnect:
            return  # Nobody to answer, and nothing was stored.
        try:
            frame = ChatFrame.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)
            return
        response = await answer_chat(scope["app"].state.runtime, frame)
        await response(scope, receive, send)


def _plain_json(scope: Scope) -> bool:
    """A JSON content type: the router reads such a body as JSON too (and no other)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already-read body first, then the client's events."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _chat_body(result: TurnResult) -> dict[str, object]:
    return {
        "replies": [
            {"text": r.text, "choices": [{"label": c.label, "value": c.value} for c in r.choices]}
            for r in result.replies
        ],
        "locale": result.locale,
        "status": result.status,
        "exit": any(e.type == "session.exit" for e in result.events),
    }


def install_telegram(app: FastAPI, settings: Settings) -> ChannelStarter | None:
    """Off without a token. aiogram is imported only when the channel is on: its
    types cost about 130 MB of memory, most of this process's size."""
    if not settings.telegram_bot_token:
        return None
    from bot.channels.telegram import install

    return install(app, settings)


CHANNEL_INSTALLERS.append(install_telegram)

from bot.channels.sms import install as install_sms  # noqa: E402

CHANNEL_INSTALLERS.append(install_sms)
