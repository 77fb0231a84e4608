"""Structured JSON logs. Never pass message text, addresses or numbers here."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["configure_logging", "quiet_noisy_loggers"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: tracebacks can carry message text in locals' reprs.
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs would carry URLs and client addresses; keep them off.
    logging.getLogger("uvicorn.access").disabled = True
    quiet_noisy_loggers()


def quiet_noisy_loggers() -> None:
    """Driver debug logs print SQL parameters and request bodies; never let them
    through, whatever LOG_LEVEL says."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


QUIET_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg", "httpx", "httpcore", "aiogram.event")
