"""/lang: the caption language of a chat (English, Russian or both), typed or chosen by buttons."""

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.handlers.reply import reply
from bot.handlers.stale_button import message_of, stale
from bot.language_policy import ui_language
from bot.services import BotContext, services
from bot.storage import chats
from bot.storage.models import CaptionMode
from bot.texts import LANGUAGE_BUTTONS, t

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "lang:"
CALLBACK_PATTERN = r"^lang:(en|ru|both)$"


def language_buttons() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=f"{CALLBACK_PREFIX}{mode.value}")]
            for mode, label in LANGUAGE_BUTTONS.items()
        ]
    )


async def store(update: Update, context: BotContext, mode: CaptionMode) -> str:
    """Save the chat's choice; returns the confirmation in the language now in force."""
    chat = update.effective_chat
    if chat is not None:
        await services(context).write(chats.set_chat_language, chat.id, chat.type, mode.value)
    log.info("chat %s: caption language %s", chat.id if chat else "?", mode.value)
    user = update.effective_user
    language = ui_language(mode.value, user.language_code if user else None)
    return t(f"lang_set_{mode.value}", language)


async def lang(update: Update, context: BotContext) -> None:
    """/lang en|ru|both sets the language; /lang alone offers buttons."""
    args = [arg.lower() for arg in context.args or []]
    if not args:
        await reply(update, context, "lang_prompt", markup=language_buttons())
        return
    if len(args) != 1 or args[0] not in set(CaptionMode):
        await reply(update, context, "lang_usage")
        return
    text = await store(update, context, CaptionMode(args[0]))
    if update.effective_message:
        await update.effective_message.reply_text(text, do_quote=True)


async def lang_button(update: Update, context: BotContext) -> None:
    """A press on one of the /lang buttons."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    if message_of(query) is None:
        await stale(update, context)
        return
    mode = CaptionMode(query.data.removeprefix(CALLBACK_PREFIX))
    text = await store(update, context, mode)
    await query.answer()
    await query.edit_message_text(text)
