"""`harborline` command line: run, db, chat (and more as features land)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.logs import configure_logging
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from nlu.intents import IntentClassifier

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    code: int = args.handler(args)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harborline", description=__doc__)
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="serve the web app (and background loops)")
    run.add_argument("--host", default=None)
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--workers", type=int, default=1)
    run.set_defaults(handler=_run)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the newest")
    upgrade.set_defaults(handler=_db_upgrade)

    chat = sub.add_parser("chat", help="talk to the assistant in the terminal")
    chat.add_argument("--script", help="file with one user message per line ('-' for stdin)")
    chat.add_argument("--json", action="store_true", help="one JSON object per user line")
    chat.set_defaults(handler=_chat)

    # Domain packages add their own commands (`harborline kb ...`, `harborline nlu ...`).
    for module_name in PLUGIN_MODULES:
        module = importlib.import_module(module_name)
        module.register(sub)
    return parser


PLUGIN_MODULES = ("nlu.cli", "resources_kb.cli", "escalation.cli", "bot.channels.telegram_cli")


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    if args.workers > 1:
        # Once, before the workers start (each then finds the schema current).
        from bot.storage.migrate import upgrade_sync

        upgrade_sync(settings.effective_database_url)
        # Workers are separate processes: they must share secrets and storage.
        os.environ.setdefault("ENCRYPTION_KEYS", ",".join(settings.fernet_keys))
        os.environ.setdefault("ADDRESS_HASH_KEY", settings.address_hash_key)
        uvicorn.run(
            "bot.web.asgi:app",
            host=host,
            port=port,
            workers=args.workers,
            log_config=None,
            access_log=False,
        )
    else:
        from bot.web.app import create_app

        # The app migrates at start-up, in a child process (see bot.storage.migrate).
        app = create_app(settings, serving=True)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage.migrate import upgrade_sync

    settings = get_settings()
    upgrade_sync(settings.effective_database_url)
    print("database is up to date")
    return 0


def _chat(args: argparse.Namespace) -> int:
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    if args.script:
        handle: TextIO = sys.stdin if args.script == "-" else Path(args.script).open()
        with handle:
            lines = [line.rstrip("\n") for line in handle]
        return asyncio.run(_play(lines, as_json=args.json, out=sys.stdout))
    return asyncio.run(_interactive())


def _scratch_settings(tmp: str) -> Settings:
    """Embedded defaults in a throwaway folder: a fresh contact, nothing left behind."""
    return Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/chat.db",
        REDIS_URL="",
        HARBORLINE_VAR_DIR=Path(tmp),
    ).with_generated_secrets()


async def _play(lines: Iterable[str], *, as_json: bool, out: TextIO) -> int:
    from bot.runtime import build_runtime
    from bot.script import ScriptClock, ScriptedChat
    from nlu.engine import install_risk_model

    with tempfile.TemporaryDirectory(prefix="harborline-chat-") as tmp:
        settings = _scratch_settings(tmp)
        clock = ScriptClock()
        install_risk_model(get_settings().var_dir / "models")  # Cached, not per script.
        runtime = await build_runtime(
            settings, intents=_cached_intents(get_settings()), clock=clock
        )
        chat = ScriptedChat(runtime, clock)
        try:
            for line in lines:
                record = await chat.play(line)
                if as_json:
                    fields = {
                        "user": record.user,
                        "replies": record.replies,
                        "events": record.events,
                    }
                    out.write(json.dumps(fields, ensure_ascii=False) + "\n")
                else:
                    out.write(f"> {line}\n" + "".join(f"< {r}\n" for r in record.replies))
                out.flush()
        finally:
            await runtime.close()
    return 0


def _cached_intents(settings: Settings) -> IntentClassifier | None:
    from nlu.intents import IntentClassifier

    return IntentClassifier.load_or_train(settings.var_dir / "models")


async def _interactive() -> int:
    from bot.runtime import build_runtime
    from bot.script import _render
    from bot.types import InboundMessage

    print("Harborline terminal chat. Ctrl-D to leave.")
    with tempfile.TemporaryDirectory(prefix="harborline-chat-") as tmp:
        settings = _scratch_settings(tmp)
        runtime = await build_runtime(settings)
        address = uuid.uuid4().hex
        last_choices: list[str] = []
        try:
            for number in range(1_000_000):
                try:
                    line = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    break
                if line.strip().isdigit() and 0 < int(line) <= len(last_choices):
                    line = last_choices[int(line) - 1]
                message = InboundMessage("cli", address, line, f"i-{number}", datetime.now(UTC))
                result = await runtime.pipeline.handle(message)
                last_choices = []
                for reply in result.replies:
                    print("bot>", _render(reply.text, [c.label for c in reply.choices]))
                    last_choices = [c.value for c in reply.choices] or last_choices
        finally:
            await runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
