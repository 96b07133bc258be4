"""The last resort: log what a handler raised, and keep serving. The update is named by its id
and kind only: its content (users' texts and names) never reaches the log."""

import logging

from telegram import Update

from bot.services import BotContext

log = logging.getLogger(__name__)


def kinds(update: Update) -> str:
    """Which fields of the update are set (message, callback_query, ...)."""
    return ",".join(kind for kind in Update.ALL_TYPES if getattr(update, kind, None)) or "empty"


async def log_error(update: object, context: BotContext) -> None:
    if isinstance(update, Update):
        what = f"update {update.update_id} ({kinds(update)})"
    else:
        what = type(update).__name__
    log.error("error while handling %s", what, exc_info=context.error)
