"""A button the bot can no longer act on: under a deleted message, or one too old for the bot to
see (Telegram then sends an inaccessible message), or with data the bot does not know (an earlier
version's). The press is answered with a short notice instead of the spinner running on."""

import logging

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot.handlers.reply import language_for
from bot.services import BotContext
from bot.texts import t

log = logging.getLogger(__name__)


def message_of(query: CallbackQuery) -> Message | None:
    """The message under which the button was pressed, if the bot can still see and edit it."""
    message = query.message  # an inaccessible one has the date 0 (of whichever class)
    return message if isinstance(message, Message) and message.is_accessible else None


async def stale(update: Update, context: BotContext) -> None:
    """Answer the press: this button no longer works."""
    query = update.callback_query
    if query is None:
        return
    log.info("update %d: a button the bot can no longer act on", update.update_id)
    try:
        await query.answer(t("button_stale", await language_for(update, context)), show_alert=True)
    except BadRequest as exc:  # the query itself is too old to answer
        log.info("update %d: could not answer it: %s", update.update_id, exc.message)
