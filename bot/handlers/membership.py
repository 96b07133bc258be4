"""Updates about chats rather than photos: the bot added to or removed from a chat (a group, or a
user blocking it), and posts in a channel it was added to. They are logged (ids only) and left
alone: the bot says nothing in channels, and nothing when it joins or leaves."""

import logging

from telegram import ChatMember, Update

from bot.services import BotContext

log = logging.getLogger(__name__)

GONE = (ChatMember.LEFT, ChatMember.BANNED)


async def my_chat_member(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None:
        return
    before, after = change.old_chat_member.status, change.new_chat_member.status
    chat_id = change.chat.id
    if after in GONE and before not in GONE:
        log.info("update %d: the bot was removed from chat %d", update.update_id, chat_id)
    elif before in GONE and after not in GONE:
        log.info("update %d: the bot was added to chat %d", update.update_id, chat_id)
    else:
        log.info("update %d: the bot's rights in chat %d: %s", update.update_id, chat_id, after)


async def channel_post(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    log.info(
        "update %d: a channel post in chat %s, left alone",
        update.update_id,
        chat.id if chat else "?",
    )
