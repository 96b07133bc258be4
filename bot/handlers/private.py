"""Private chats: photos and image files are queued for captioning; anything else gets a hint."""

import logging

from telegram import Update

from bot.handlers.reply import reply
from bot.handlers.submit import submit
from bot.images import is_image_document, pick_photo
from bot.services import BotContext

log = logging.getLogger(__name__)


async def on_photo(update: Update, context: BotContext) -> None:
    """A photo (with or without a caption of its own)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    photo = pick_photo(message.photo)
    await submit(update, context, photo.file_id, photo.file_unique_id, photo.file_size)


async def on_document(update: Update, context: BotContext) -> None:
    """A file: an image is captioned like a photo; anything else gets told what is accepted."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    if not is_image_document(document.mime_type, document.file_name):
        log.info("chat %d sent a %s file; not an image", message.chat_id, document.mime_type)
        await reply(update, context, "not_image")
        return
    await submit(update, context, document.file_id, document.file_unique_id, document.file_size)


async def on_other_media(update: Update, context: BotContext) -> None:
    """Stickers, videos, voice notes and the like."""
    message = update.effective_message
    log.info("chat %s sent something that is not a photo", message.chat_id if message else "?")
    await reply(update, context, "not_image")


async def on_text(update: Update, context: BotContext) -> None:
    """Text that is not a command."""
    await reply(update, context, "text_hint")
