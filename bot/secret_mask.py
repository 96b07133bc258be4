"""Secrets never reach a log line: the bot token, the database password, the webhook secret and
the LibreTranslate key are replaced by `***` in every record the root logger's handlers write
(the message, its arguments and any traceback), whichever library logged it."""

import logging
import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
SHORTEST = 4  # shorter values would mask ordinary words


def database_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def safe_url(url: str) -> str:
    """A database URL fit to show: its password masked (the whole value if it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: mask what looks like one
        return re.sub(r"(://[^/@]*?:)[^/@]*@", rf"\1{MASK}@", url)


class SecretMask(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # the longest first, so that a token is masked whole rather than its secret part only
        self.secrets = sorted({s for s in secrets if len(s) >= SHORTEST}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, as without this filter
            return True
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def mask_secrets(secrets: list[str | None]) -> SecretMask:
    """Mask these values in every record of the root logger's handlers (those of
    `logging.basicConfig`, and any there now)."""
    mask = SecretMask([s for s in secrets if s])
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
    return mask
