"""Replying to the message being handled, in the user's language."""

from telegram import InlineKeyboardMarkup, Message, Update

from bot.language_policy import ui_language
from bot.services import BotContext, services, user_language_code
from bot.texts import megabytes, t


async def language_for(update: Update, context: BotContext) -> str:
    """ "en" or "ru": the chat's /lang choice, else the user's Telegram language."""
    chat = update.effective_chat
    chosen = await services(context).chat_language(chat.id) if chat else None
    return ui_language(chosen, user_language_code(update))


async def reply(
    update: Update,
    context: BotContext,
    key: str,
    markup: InlineKeyboardMarkup | None = None,
    **values: object,
) -> Message | None:
    """Reply to the update's message with the text `key` (`max_size` is MAX_FILE_BYTES)."""
    message = update.effective_message
    if message is None:
        return None
    language = await language_for(update, context)
    max_size = megabytes(services(context).settings.max_file_bytes, language)
    text = t(key, language, **{"max_size": max_size, **values})
    return await message.reply_text(text, reply_markup=markup, do_quote=True)
