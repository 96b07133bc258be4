"""The last resort: log what a handler raised, and keep serving."""

import logging

from telegram.ext import ContextTypes

log = logging.getLogger(__name__)


async def log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling %r", update, exc_info=context.error)
