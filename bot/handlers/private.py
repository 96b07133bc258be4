"""Private chats: photos and image files are queued for captioning; anything else gets a hint."""

import logging
import math

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.handlers.reply import reply
from bot.images import is_image_document, pick_photo
from bot.queue import REFUSALS, Outcome, PhotoRequest
from bot.services import services, user_language_code
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (with or without a caption of its own)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    photo = pick_photo(message.photo)
    await submit(update, context, photo.file_id, photo.file_unique_id, photo.file_size)


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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


async def on_other_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, videos, voice notes and the like."""
    message = update.effective_message
    log.info("chat %s sent something that is not a photo", message.chat_id if message else "?")
    await reply(update, context, "not_image")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text that is not a command."""
    await reply(update, context, "text_hint")


async def submit(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    file_id: str,
    file_unique_id: str,
    file_size: int | None,
    *,
    photo: Message | None = None,
) -> None:
    """Queue the photo as a job (before anything else), or say politely why not. The photo is
    the update's message unless `photo` names another (a group's /caption replying to it)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    target = photo or message
    svc = services(context)
    if file_size is not None and file_size > svc.settings.max_file_bytes:
        log.info("chat %d: file of %d bytes is over the limit", message.chat_id, file_size)
        await reply(
            update, context, "too_big", limit_mb=svc.settings.max_file_bytes // (1024 * 1024)
        )
        return
    outcome = svc.queue.submit(
        PhotoRequest(
            chat_id=message.chat_id,
            chat_type=message.chat.type,
            user_id=user.id,
            language_code=user_language_code(update),
            message_id=target.message_id,
            file_id=file_id,
            file_unique_id=file_unique_id,
            file_kind="document" if target.document else "photo",
            media_group_id=target.media_group_id,
        )
    )
    if outcome == Outcome.ACCEPTED:
        log.info("chat %d message %d: %s", message.chat_id, target.message_id, outcome)
        await svc.typing.show(message.chat_id)
    elif outcome in REFUSALS:
        await refuse(update, context, outcome, user.id)


async def refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, user_id: int
) -> None:
    """Tell the user once per window why their photos are not taken; drop the rest quietly."""
    svc = services(context)
    until = svc.queue.notice_due(user_id, outcome)
    message = update.effective_message
    assert message is not None
    if until is None:
        log.info(
            "chat %d message %d: %s, dropped without a reply",
            message.chat_id,
            message.message_id,
            outcome,
        )
        return
    log.info("chat %d message %d: %s, told so", message.chat_id, message.message_id, outcome)
    if outcome == Outcome.RATE_LIMITED:
        seconds = max(1, math.ceil((until - utcnow()).total_seconds()))
        await reply(
            update,
            context,
            "rate_limited",
            limit=svc.settings.rate_limit_per_minute,
            until=f"{until:%H:%M:%S}",
            seconds=seconds,
        )
    elif outcome == Outcome.USER_QUEUE_FULL:
        await reply(update, context, "user_queue_full", count=svc.queue.user_queue_size)
    else:
        await reply(update, context, "queue_full")
