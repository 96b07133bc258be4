"""The last resort: log what a handler raised, and keep serving."""

import logging

from bot.services import BotContext

log = logging.getLogger(__name__)


async def log_error(update: object, context: BotContext) -> None:
    log.error("error while handling %r", update, exc_info=context.error)
