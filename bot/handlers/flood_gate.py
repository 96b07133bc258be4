"""The first handler every update meets: an update another webhook replica took is dropped (with
webhook replicas behind one address), edited messages are ignored, and one user's commands,
texts, stickers, voice and video messages, button presses and inline queries beyond
UPDATES_PER_MINUTE are dropped without an answer, so a flood of them costs almost nothing.
Photos and image files pass: the caption queue has its own limits (and notices) for them."""

import asyncio
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.services import BotContext, Services, services
from bot.storage import seen_updates

log = logging.getLogger(__name__)


async def gate(update: Update, context: BotContext) -> None:
    shared = services(context)
    if shared.deduplicate_updates and not await asyncio.to_thread(first_sight, shared, update):
        log.info("update %d: taken by another replica, dropped", update.update_id)
        raise ApplicationHandlerStop
    if update.edited_message is not None or update.edited_channel_post is not None:
        log.debug("update %d: an edited message, ignored", update.update_id)
        raise ApplicationHandlerStop
    message, user = update.message, update.effective_user
    if user is None or (message is not None and (message.photo or message.document)):
        return
    if not services(context).updates.allow(user.id):
        log.info(
            "update %d from user %d: over UPDATES_PER_MINUTE, dropped", update.update_id, user.id
        )
        raise ApplicationHandlerStop


def first_sight(shared: Services, update: Update) -> bool:
    with shared.sessions.begin() as session:
        return seen_updates.first_sight(session, update.update_id)
