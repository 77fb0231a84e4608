"""ASGI entry point for uvicorn workers: `uvicorn bot.web.asgi:app`."""

from bot.settings import get_settings
from bot.web.app import create_app

app = create_app(get_settings(), serving=True)
