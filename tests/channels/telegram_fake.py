"""A fake Telegram Bot API server on 127.0.0.1 for tests and the bench.

It speaks the real Bot API over HTTP (``/bot<token>/<method>``, form or JSON
parameters, ``{"ok": ..., "result": ...}`` answers, ``error_code`` and
``parameters.retry_after`` on errors), so the real aiogram ``Bot`` talks to it
through ``TelegramAPIServer.from_base(url)``. Methods: getMe, getUpdates (long
polling), sendMessage, editMessageText, deleteMessage, answerCallbackQuery,
setMyCommands, setWebhook, deleteWebhook. Failures are injected per method.
It also builds updates as Telegram sends them, and (``Worlds``) runs the app
against it: a second app on the same storage is a restart or a second worker.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["FakeTelegram", "Sent", "World", "Worlds", "eventually"]

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Harborline", "username": "harborline_bot"}


@dataclass
class Sent:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    reply_to: int | None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    deleted: list[tuple[int, int]] = field(default_factory=list)
    edited: list[tuple[int, int, str]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    # method -> queue of (status, retry_after) to answer with instead of success
    failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    # method -> queue of "pass", "lost" (never arrives) or "taken" (done, no answer comes)
    stalls: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._release = asyncio.Event()  # Ends stalled calls when the server stops.
        self._runner: web.AppRunner | None = None

    # server -----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self, method: str, status: int, retry_after: int | None = None, times: int = 1
    ) -> None:
        self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def stall(self, method: str, *, after: int = 0, taken: bool = False, times: int = 1) -> None:
        """After ``after`` normal calls, the next calls of ``method`` never answer: the
        caller waits until it dies.

        ``taken=False``: as if the request never reached Telegram (nothing happens).
        ``taken=True``: Telegram did the work (a message is sent), the answer is lost.
        """
        modes = ["pass"] * after + ["taken" if taken else "lost"] * times
        self.stalls.setdefault(method, []).extend(modes)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            loaded: dict[str, Any] = await request.json()
            return loaded
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = value if isinstance(value, str) else str(value)
            try:
                params[key] = json.loads(text)
            except ValueError:
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        queued = self.failures.get(method)
        if queued:
            status, retry_after = queued.pop(0)
            return _error(status, _DESCRIPTIONS.get(status, "Error"), retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        stalled = self.stalls.get(method)
        mode = stalled.pop(0) if stalled else "pass"
        if mode != "pass":
            if mode == "taken":
                await handler(params)
            await self._release.wait()  # The caller is gone by then: nobody reads this.
            return _error(500, _DESCRIPTIONS[500])
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    # methods ----------------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                return []
        return [u for u in self._updates if u["update_id"] >= offset]

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        text = str(params["text"])
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        chat_id = int(params["chat_id"])
        reply = params.get("reply_parameters") or {}
        message_id = next(self._ids)
        markup = params.get("reply_markup")
        self.sent.append(Sent(chat_id, message_id, text, markup, reply.get("message_id")))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": text,
            **({"reply_markup": markup} if markup else {}),
        }

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self.edited.append((chat_id, message_id, str(params["text"])))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": str(params["text"]),
        }

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        self.deleted.append((int(params["chat_id"]), int(params["message_id"])))
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered.append(str(params["callback_query_id"]))
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[str(params.get("language_code") or "")] = list(params["commands"])
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    # updates as Telegram sends them -----------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        self._updates.append(update)
        self._new_update.set()

    def _user(self, user_id: int, language: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Sam"}
        if language:
            user["language_code"] = language
        return user

    def message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        language: str | None = "en",
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: Sent | None = None,
        extra: dict[str, Any] | None = None,
        kind: str = "message",
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": self._user(user_id or abs(chat_id), language),
        }
        if text is not None:
            message["text"] = text
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "date": int(time.time()),
                "chat": {"id": reply_to.chat_id, "type": chat_type},
                "from": BOT_USER,
                "text": reply_to.text,
            }
        if kind == "edited_message":
            message["edit_date"] = int(time.time())
        message.update(extra or {})
        return {"update_id": next(self._update_ids), kind: message}

    def callback(
        self, chat_id: int, data: str, *, user_id: int | None = None, language: str | None = "en"
    ) -> dict[str, Any]:
        on = next((s for s in reversed(self.sent) if s.chat_id == chat_id), None)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cq{next(self._ids)}",
                "from": self._user(user_id or abs(chat_id), language),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": on.message_id if on else 1,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                    "from": BOT_USER,
                    "text": on.text if on else "",
                },
            },
        }

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]


_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry later",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


# -- the app around the fake (tests) ------------------------------------------------------

SECRET = "webhook-secret-0123456789"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
CHAT = 5550001  # a survivor's private chat (and user id)
GROUP = -1009990001  # the counselors' group
COUNSELOR_TG = 777  # a counselor listed in TELEGRAM_COUNSELOR_IDS (as "ana")
WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class World:
    """One running app (a worker) with its runtime and an HTTP client to its webhook."""

    fake: FakeTelegram
    http: Any  # httpx.AsyncClient
    runtime: Any  # bot.runtime.Runtime
    channel: Any  # bot.channels.telegram.TelegramChannel
    lifespan: Any = None

    async def post(self, update: dict[str, Any], headers: dict[str, str] = HEADERS) -> int:
        response = await self.http.post(WEBHOOK_PATH, json=update, headers=headers)
        return int(response.status_code)

    async def say(self, text: str, chat: int = CHAT, language: str | None = "en") -> list[str]:
        before = len(self.fake.to(chat))
        assert await self.post(self.fake.message(chat, text, language=language)) == 200
        return [s.text for s in self.fake.to(chat)[before:]]

    async def tap(self, value: str, chat: int = CHAT, user_id: int | None = None) -> int:
        return await self.post(self.fake.callback(chat, value, user_id=user_id))

    async def count(self, model: Any) -> int:
        from sqlalchemy import func, select

        async with self.runtime.db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class Worlds:
    """Builds apps against the fake; the same ``home`` (or database URL) is the same
    storage, so a second app on it is the service after a restart, or a second worker."""

    def __init__(self, tmp_path: Any, fake: FakeTelegram, kb: Any, intents: Any, clock: Any):
        self.tmp_path = tmp_path
        self.fake = fake
        self.kb = kb
        self.intents = intents
        self.clock = clock
        self.open: list[World] = []
        self._built = 0

    async def build(
        self,
        home: str | None = None,
        *,
        database_url: str = "",
        redis_url: str = "",
        **extra: object,
    ) -> World:
        import httpx

        from bot.runtime import build_runtime
        from bot.web.app import create_app
        from tests.conftest import make_settings

        self._built += 1
        values: dict[str, object] = {
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE": self.fake.url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_COUNSELOR_CHAT_ID": GROUP,
            "TELEGRAM_COUNSELOR_IDS": f"{COUNSELOR_TG}:ana",
        }
        values.update(extra)
        folder = self.tmp_path / (home or f"w{self._built}")
        settings = make_settings(folder, database_url, redis_url, **values)
        runtime = await build_runtime(settings, kb=self.kb, intents=self.intents, clock=self.clock)
        app = create_app(settings, runtime)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        world = World(self.fake, http, runtime, app.state.telegram, lifespan)
        self.open.append(world)
        return world

    async def stop(self, world: World) -> None:
        """The worker ends (after a simulated crash, nothing more of it runs)."""
        if world in self.open:
            self.open.remove(world)
            await world.http.aclose()
            await world.lifespan.__aexit__(None, None, None)
            await world.runtime.close()

    async def close(self) -> None:
        for world in reversed(list(self.open)):
            await self.stop(world)


async def eventually(check: Any, seconds: float = 5.0) -> None:
    """Wait for background work (bus listeners) without a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
