"""All runtime settings, read once from the environment (and an optional .env).

One place for every knob. Names are part of the public contract (documented
in README.md): keep them stable.
"""

from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Storage. SQLAlchemy async URLs: sqlite+aiosqlite:///path or postgresql+asyncpg://...
    database_url: str = Field(default="", alias="DATABASE_URL")
    redis_url: str = Field(default="", alias="REDIS_URL")
    # Connections each process keeps open to PostgreSQL, and how many more it may
    # open in a burst. Every worker has its own pool: keep workers x (size +
    # overflow) under the server's max_connections (100 by default).
    database_pool_size: int = Field(default=24, ge=1, alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(default=16, ge=0, alias="DATABASE_MAX_OVERFLOW")
    # Keys and channels in Redis start with this, so deployments can share a server.
    redis_prefix: str = Field(default="harborline", alias="REDIS_PREFIX")
    var_dir: Path = Field(default=DEFAULT_VAR_DIR, alias="HARBORLINE_VAR_DIR")

    # Secrets. ENCRYPTION_KEYS is a comma-separated list of Fernet keys; the first
    # encrypts, all decrypt, so keys can be rotated. Generated into var/ when unset.
    encryption_keys: str = Field(default="", alias="ENCRYPTION_KEYS")
    address_hash_key: str = Field(default="", alias="ADDRESS_HASH_KEY")

    # Privacy.
    retention_days: int = Field(default=30, alias="RETENTION_DAYS", ge=1, le=3650)

    # Conversation limits.
    max_message_chars: int = Field(default=4000, alias="MAX_MESSAGE_CHARS", ge=100)
    rate_limit_per_minute: int = Field(default=20, alias="RATE_LIMIT_PER_MINUTE", ge=1)
    default_country: str = Field(default="US", alias="DEFAULT_COUNTRY")

    # Web.
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=8080, alias="PORT")
    quick_exit_url: str = Field(
        default="https://www.google.com/search?q=weather", alias="QUICK_EXIT_URL"
    )
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Staff console cookies get the Secure flag on https requests, and always when set
    # (set it behind a TLS-terminating proxy that forwards plain http).
    cookie_secure: bool = Field(default=False, alias="COOKIE_SECURE")

    # Background jobs (recovery of interrupted turns, retention purge); 0 turns them off.
    maintenance_interval_seconds: float = Field(
        default=300.0, alias="MAINTENANCE_INTERVAL_SECONDS", ge=0
    )

    # Paging: seconds to wait for an acknowledgement before paging the next person.
    page_timeout_imminent_seconds: float = Field(
        default=60.0, alias="PAGE_TIMEOUT_IMMINENT_SECONDS", gt=0
    )
    page_timeout_high_seconds: float = Field(default=180.0, alias="PAGE_TIMEOUT_HIGH_SECONDS", gt=0)
    # The paging loop runs in `harborline run`; tests drive it by hand.
    paging_enabled: bool = Field(default=True, alias="PAGING_ENABLED")
    # Dispositions a counselor can choose when closing, comma-separated.
    dispositions: str = Field(
        default="resolved,referred,emergency services,no reply,other", alias="DISPOSITIONS"
    )

    # Intents: the built-in classifier, or a Rasa server (falls back to built-in).
    nlu_backend: str = Field(default="builtin", alias="NLU_BACKEND", pattern="^(builtin|rasa)$")
    rasa_url: str = Field(default="http://127.0.0.1:5005", alias="RASA_URL")
    rasa_timeout_seconds: float = Field(default=0.5, alias="RASA_TIMEOUT_SECONDS", gt=0)

    # Rasa-compatible REST channel (POST /webhooks/rest/webhook): off unless enabled.
    rest_channel_enabled: bool = Field(default=False, alias="REST_CHANNEL_ENABLED")
    rest_channel_token: str = Field(default="", alias="REST_CHANNEL_TOKEN")

    # Telegram (bot/channels/telegram.py): off without a token. Long polling unless
    # TELEGRAM_WEBHOOK_URL is set; then POST /telegram/webhook with the secret header.
    telegram_bot_token: str = Field(default="", alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_BASE")
    telegram_webhook_secret: str = Field(default="", alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_webhook_url: str = Field(default="", alias="TELEGRAM_WEBHOOK_URL")
    # Counselors' private group: escalation cards, claims, relay. "tg_id:name,..." maps
    # Telegram users to counselor accounts allowed to claim and reply.
    telegram_counselor_chat_id: int | None = Field(default=None, alias="TELEGRAM_COUNSELOR_CHAT_ID")
    telegram_counselor_ids: str = Field(default="", alias="TELEGRAM_COUNSELOR_IDS")

    # SMS over Twilio (bot/channels/sms.py): off without an account SID and auth token.
    # PUBLIC_BASE_URL is the URL Twilio calls and signs (https://example.org), so the
    # signature is checked against it, never against the Host header.
    twilio_account_sid: str = Field(default="", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field(default="", alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str = Field(default="", alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str = Field(default="", alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_api_base: str = Field(default="https://api.twilio.com", alias="TWILIO_API_BASE")
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")

    # Knowledge base.
    kb_content_dir: Path | None = Field(default=None, alias="KB_CONTENT_DIR")
    # Articles not reviewed and listings not verified for this many days are due for
    # review (/admin, /admin/stale, `kb stale`, `kb validate` warnings).
    kb_stale_days: int = Field(default=180, alias="KB_STALE_DAYS", ge=1, le=3650)

    @field_validator("default_country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper() or "US"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'harborline.db').as_posix()}"

    @property
    def fernet_keys(self) -> list[str]:
        return [k.strip() for k in self.encryption_keys.split(",") if k.strip()]

    def with_generated_secrets(self) -> Settings:
        """Fill missing secrets from var/secrets.json, creating it on first run.

        This keeps `make run` free of set-up on one machine. Deployments beyond
        one machine must set ENCRYPTION_KEYS and ADDRESS_HASH_KEY themselves, so
        every worker shares them.
        """
        if self.fernet_keys and self.address_hash_key:
            return self
        path = self.var_dir / "secrets.json"
        stored: dict[str, str] = {}
        if path.exists():
            stored = json.loads(path.read_text())
        else:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            stored = {
                "encryption_keys": Fernet.generate_key().decode(),
                "address_hash_key": secrets.token_urlsafe(32),
            }
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(stored, handle)
        return self.model_copy(
            update={
                "encryption_keys": self.encryption_keys or stored["encryption_keys"],
                "address_hash_key": self.address_hash_key or stored["address_hash_key"],
            }
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings().with_generated_secrets()
