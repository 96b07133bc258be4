"""A photo handed in, from a private chat or a group: queued as a job, or refused politely."""

import logging
import math

from telegram import Message, Update

from bot.handlers.reply import reply
from bot.queue import REFUSALS, Outcome, PhotoRequest
from bot.services import BotContext, services, user_language_code
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


async def submit(
    update: Update,
    context: BotContext,
    file_id: str,
    file_unique_id: str,
    file_size: int | None,
    *,
    photo: Message | None = None,
    asked: bool = True,
) -> None:
    """Queue the photo as a job (before anything else), or say politely why not. The photo is
    the update's message unless `photo` names another (a group's /caption replying to it); not
    `asked`, only if its group has /auto on or some photo of its album was accepted before it
    (the queue judges that, off the event loop and in order)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    target = photo or message
    svc = services(context)
    too_big = file_size is not None and file_size > svc.settings.max_file_bytes
    outcome = await svc.queue.submit(
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
            asked=asked,
            too_big=too_big,
        )
    )
    if outcome == Outcome.ACCEPTED:
        log.info("chat %d message %d: %s", message.chat_id, target.message_id, outcome)
        await svc.typing.show(message.chat_id)
    elif outcome == Outcome.TOO_BIG:
        log.info("chat %d: file of %d bytes is over the limit", message.chat_id, file_size or 0)
        await reply(update, context, "too_big")
    elif outcome in REFUSALS:
        await refuse(update, context, outcome, user.id)


async def refuse(update: Update, context: BotContext, outcome: Outcome, user_id: int) -> None:
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
