"""Every setting of the bot, read from environment variables (and a `.env` file), typed and checked.

`Settings()` is built once by the command that starts the bot and handed to whatever needs it.
"""

import hashlib
import hmac
import logging
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.secret_mask import MASK, database_password, mask_secrets, safe_url
from captioning.bundle_config import SHIPPED_BUNDLE
from captioning.engines.names import DEFAULT_ENGINE, EngineName

log = logging.getLogger(__name__)
TRANSLATION_BACKENDS = ("google", "mymemory", "libre")
# settings whose values are never shown (DATABASE_URL is shown with its password masked)
SECRET_SETTINGS = frozenset({"telegram_bot_token", "webhook_secret", "libretranslate_api_key"})


class Settings(BaseSettings):
    """The bot's configuration. Field names are the environment variable names, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"

    database_url: str = "sqlite:///data/captionbot.sqlite3"
    model_path: Path = SHIPPED_BUNDLE
    beam_size: int = Field(default=3, ge=1, le=20)
    engine: EngineName = DEFAULT_ENGINE  # how the model runs (captioning/engines)

    queue_size: int = Field(default=256, ge=1)
    # one user's photos waiting at most; None: a quarter of QUEUE_SIZE
    user_queue_size: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=8, ge=1, le=256)
    batch_wait_ms: int = Field(default=50, ge=0, le=60_000)
    rate_limit_per_minute: int = Field(default=20, ge=1)
    # messages the bot sends into one group a minute at most (Telegram's limit is about 20)
    group_messages_per_minute: int = Field(default=20, ge=1, le=60)
    # one user's other updates (commands, texts, buttons, inline queries...) a minute
    updates_per_minute: int = Field(default=30, ge=1)
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # the most pixels one photo may have as decoded (a large JPEG is decoded reduced first, to
    # 1/8 at most: so this bounds PNGs, WebPs and HEICs, and JPEGs over 8 times as many)
    max_image_pixels: int = Field(default=40_000_000, ge=224 * 224)
    download_timeout_s: float = Field(default=30.0, gt=0, le=600)  # one photo's whole download
    # after this many failed tries of a photo's download, its user is told (once) that the bot
    # could not fetch it yet and keeps trying
    download_notice_after: int = Field(default=3, ge=1)
    # a passing Telegram failure (5xx, timeout, 429) is retried this long after the photo came
    reply_retry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    retry_backoff_max_s: float = Field(default=300.0, gt=0, le=3600)  # longest wait between tries

    translation_backends: Annotated[tuple[str, ...], NoDecode] = ("google", "mymemory")
    translation_timeout_s: float = Field(default=5.0, gt=0, le=120)
    google_translate_url: str | None = None
    mymemory_url: str | None = None
    libretranslate_url: str = "https://libretranslate.com/"
    libretranslate_api_key: str | None = None

    # a worker's claim on a job holds this long unless renewed (every third of it, while the
    # worker lives); a dead worker's jobs are taken over by another once it runs out
    lease_s: float = Field(default=30.0, ge=1, le=3600)
    worker_name: str | None = None  # how this worker's claims are marked; None: host:pid:random
    # messages a second this process sends at most: Telegram allows a bot about 30 in all, so
    # with N processes sending (workers), give each 30/N
    send_per_second: float = Field(default=30.0, gt=0, le=30)

    # Prometheus metrics on this port at /metrics (None: not served); each process its own port
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_address: str = "127.0.0.1"  # this machine only, unless set
    # answered photos (captions, attention maps) and cached translations are kept this long
    history_days: float = Field(default=90.0, gt=0)
    history_prune_every_s: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)

    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    inline_page_size: int = Field(default=20, ge=1, le=50)  # results per inline-mode page

    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    def webhook_secret_token(self) -> str:
        """The secret Telegram sends with each webhook delivery: WEBHOOK_SECRET, or else one
        derived from the bot token (an HMAC, which does not reveal the token), so that every
        replica of one bot registers and expects the same one."""
        if self.webhook_secret:
            return self.webhook_secret
        token = (self.telegram_bot_token or "").encode()
        return hmac.new(token, b"captionbot webhook secret", hashlib.sha256).hexdigest()

    def secret_values(self) -> list[str | None]:
        """What a log line or a page must never show."""
        token = self.telegram_bot_token
        return [
            token,
            token.partition(":")[2] if token else None,  # the part after the bot's id
            self.webhook_secret,
            self.webhook_secret_token() if token or self.webhook_secret else None,
            self.libretranslate_api_key,
            database_password(self.database_url),
        ]

    @field_validator("translation_backends", mode="before")
    @classmethod
    def _split_backends(cls, value: object) -> object:
        if isinstance(value, str):
            names = tuple(name.strip().lower() for name in value.split(",") if name.strip())
            unknown = [name for name in names if name not in TRANSLATION_BACKENDS]
            if unknown:
                raise ValueError(
                    f"unknown backend(s) {', '.join(unknown)}; choose from "
                    + ", ".join(TRANSLATION_BACKENDS)
                )
            return names
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("database_url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError as exc:  # its message would repeat the URL, password and all
            raise ValueError(
                "not an SQLAlchemy database URL (dialect+driver://user:password@host/database)"
            ) from exc
        return value

    @field_validator(
        "telegram_bot_token",
        "webhook_url",
        "webhook_secret",
        "user_queue_size",
        "worker_name",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def shown_value(field: str, value: object) -> str:
    """A bad setting's value as a message may show it: secrets masked."""
    if field in SECRET_SETTINGS:
        return MASK
    if field == "database_url" and isinstance(value, str):
        return repr(safe_url(value))
    return repr(value)


def describe_error(error: ValidationError) -> str:
    """A one-line-per-problem message naming each bad environment variable (secrets masked)."""
    lines = ["Bad settings:"]
    for problem in error.errors(include_input=True, include_url=False):
        field = "_".join(str(part) for part in problem["loc"][:1])
        value = shown_value(field.lower(), problem.get("input"))
        message = problem["msg"] if field.lower() not in SECRET_SETTINGS else "invalid"
        lines.append(f"  {field.upper() or '?'}={value}: {message}")
    return "\n".join(lines)


def load_settings() -> Settings | None:
    """The settings from the environment and `.env`, or None after logging what is wrong. From
    then on the secrets they hold are masked in every log line (bot/secret_mask.py)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        log.error("%s", describe_error(exc))
        return None
    mask_secrets(settings.secret_values())
    return settings
