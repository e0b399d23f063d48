"""One typed, frozen settings object, read once from the environment (and `.env`).

Every field has a help text; `tests/test_config.py` checks that `.env.example` documents exactly these
fields, so an operator never has to read code to deploy.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


class Settings(BaseSettings):
    """Deployment settings; names match DESIGN.md §4."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = Field(
        default=None, description="Token from @BotFather. Telegram is served only when it is set."
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL; point it at the local emulator (http://127.0.0.1:PORT/bot) for tests.",
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL Telegram posts updates to. Unset = long polling (the default).",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; required with a webhook URL.",
    )
    telegram_send_rate: float = Field(
        default=30.0, ge=0, description="Messages per second to Telegram overall (its limit is about 30)."
    )
    zalo_bot_token: SecretStr | None = Field(
        default=None, description="Zalo Bot Platform token. Zalo is served only when it is set."
    )
    zalo_api_base_url: str = Field(
        default="https://bot-api.zaloplatforms.com/bot",
        description="Zalo Bot API base URL; point it at a local emulator for tests.",
    )
    zalo_webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL Zalo posts updates to (…/zalo on the bot's web server). Unset = long polling.",
    )
    zalo_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret (8-256 characters) Zalo sends in X-Bot-Api-Secret-Token; required with a webhook URL.",
    )
    zalo_send_rate: float = Field(
        default=10.0,
        ge=0,
        description="Messages per second to Zalo overall. Zalo publishes no limit: raise it only if it holds.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Public HTTPS root of the bot's web server (https://bot.example.vn). Needed on Zalo for "
        "charts, QR codes and report files, which go out as signed, expiring links under <root>/files/.",
    )
    file_link_hours: int = Field(
        default=24, ge=1, le=168, description="Hours a file link (Zalo: reports, charts, QR codes) keeps working."
    )
    file_link_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs file links; unset = a random key made once and kept in the database.",
    )
    web_listen: str = Field(
        default="127.0.0.1",
        description="Address the bot's web server (webhooks) listens on; put a TLS reverse proxy in front.",
    )
    web_port: int = Field(default=8443, ge=0, le=65535, description="Port of the bot's web server.")
    bulk_chat_interval: float = Field(
        default=1.0, ge=0, description="Seconds between two bulk messages (announcements) to the same chat."
    )
    database_url: str = Field(
        default="sqlite:///data/dvcbot.db",
        description="SQLAlchemy-style URL: sqlite:///relative.db, sqlite:////abs/path.db.",
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="The commune's time zone for schedules.")
    commune: str = Field(default="11242", description="Code of the commune to serve: content/communes/<code>.yaml.")
    content_dir: Path = Field(default=REPO_CONTENT_DIR, description="Folder holding guides/, communes/, strings/.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    digest_time: time = Field(
        default=time(7, 30),
        description="Local time (HH:MM) the weekly digest goes out on Mondays and the monthly one on the 1st.",
    )

    @field_validator("commune")
    @classmethod
    def _commune_is_code(cls, value: str) -> str:
        if not value.isdigit() or len(value) > 6:
            raise ValueError("COMMUNE must be a numeric commune code, e.g. 11242")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """https only: reports and exports travel under it (plain http for this machine, the demo)."""
        local = ("http://127.0.0.1", "http://localhost")
        if value and not (value.startswith("https://") or value.startswith(local)):
            raise ValueError("PUBLIC_BASE_URL must start with https://")
        return value.rstrip("/") if value else None

    def zalo_token(self) -> str | None:
        return self.zalo_bot_token.get_secret_value() if self.zalo_bot_token else None

    def telegram_token(self) -> str | None:
        """The token as a plain string, only where a client needs it."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None
