"""Group chats: photos are captioned when asked for (/caption in reply, or a mention of the bot in
the photo's caption), or all of them after an administrator's /auto on; /lang and /auto are for
the group's administrators. A photo has one job, however many people ask for it, so it is
answered once."""

import logging

from telegram import ChatMember, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers import language
from bot.handlers.reply import language_for, reply
from bot.handlers.submit import submit
from bot.images import is_image_document, pick_photo
from bot.services import BotContext, services
from bot.storage import group_settings
from bot.texts import t

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
CAPTION_COMMAND = "/caption"


def photo_file(message: Message) -> tuple[str, str, int | None] | None:
    """(file_id, file_unique_id, file_size) of the message's photo or image file, if it has one."""
    if message.photo:
        photo = pick_photo(message.photo)
        return photo.file_id, photo.file_unique_id, photo.file_size
    document = message.document
    if document is not None and is_image_document(document.mime_type, document.file_name):
        return document.file_id, document.file_unique_id, document.file_size
    return None


def asks_bot(message: Message, username: str, bot_id: int) -> bool:
    """Whether the photo's caption mentions the bot or is a /caption command."""
    entities = message.parse_caption_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION, MessageEntity.BOT_COMMAND]
    )
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION:
            if entity.user is not None and entity.user.id == bot_id:
                return True
        elif entity.type == MessageEntity.MENTION:
            if text.lower() == f"@{username}".lower():
                return True
        elif entity.offset == 0:
            command, _, addressee = text.partition("@")
            if command.lower() == CAPTION_COMMAND and addressee.lower() in ("", username.lower()):
                return True
    return False


async def is_admin(update: Update, context: BotContext) -> bool:
    """Whether the update's sender administers its group (an anonymous admin posts as it)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None:
        return False
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    return await administers(context, chat.id, user.id)


async def administers(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether `user_id` is an administrator or the owner of the group (False if unknown)."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("chat %d: could not check whether %d is an admin: %s", chat_id, user_id, exc)
        return False
    return member.status in ADMIN_STATUSES


async def caption(update: Update, context: BotContext) -> None:
    """/caption (or /caption@bot) in reply to a photo: caption that photo."""
    message = update.effective_message
    if message is None:
        return
    target = message.reply_to_message
    if target is None:
        await reply(update, context, "caption_usage")
        return
    found = photo_file(target)
    if found is None:
        await reply(update, context, "caption_not_photo")
        return
    await submit(update, context, *found, photo=target)


async def on_photo(update: Update, context: BotContext) -> None:
    """A photo posted in a group: captioned if the bot is asked, /auto is on, or the rest of its
    album was asked for (the queue judges the last two, in its thread). No await comes before
    the submit, and submits keep their order, so an album's photos are judged in the order they
    were posted."""
    message = update.effective_message
    if message is None:
        return
    found = photo_file(message)
    if found is None:
        return
    asked = asks_bot(message, context.bot.username, context.bot.id)
    await submit(update, context, *found, asked=asked)


async def bot_sees_every_message(context: BotContext, chat_id: int) -> bool:
    """Privacy mode off, or the bot an administrator of the group."""
    return context.bot.can_read_all_group_messages or await administers(
        context, chat_id, context.bot.id
    )


async def auto(update: Update, context: BotContext) -> None:
    """/auto on|off: caption every photo posted in the group (administrators only)."""
    chat = update.effective_chat
    if chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        await reply(update, context, "groups_only")
        return
    args = [arg.lower() for arg in context.args or []]
    if len(args) != 1 or args[0] not in ("on", "off"):
        on = await services(context).read(group_settings.auto_caption, chat.id)
        state = t("auto_state_on" if on else "auto_state_off", await language_for(update, context))
        await reply(update, context, "auto_usage", state=state)
        return
    if not await is_admin(update, context):
        await reply(update, context, "admins_only")
        return
    on = args[0] == "on"
    await services(context).write(group_settings.set_auto_caption, chat.id, chat.type, on)
    log.info("chat %d: automatic captions %s", chat.id, "on" if on else "off")
    if not on:
        await reply(update, context, "auto_off")
    elif await bot_sees_every_message(context, chat.id):
        await reply(update, context, "auto_on")
    else:
        await reply(update, context, "auto_on_needs_rights")


async def lang(update: Update, context: BotContext) -> None:
    """/lang in a group: the group's setting, for its administrators."""
    if not await is_admin(update, context):
        await reply(update, context, "admins_only")
        return
    await language.lang(update, context)


async def guard_lang_button(update: Update, context: BotContext) -> None:
    """Runs before the /lang buttons' own handler: in a group, only administrators get past."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or chat.type == ChatType.PRIVATE:
        return
    if not await is_admin(update, context):
        await query.answer(t("admins_only", await language_for(update, context)), show_alert=True)
        raise ApplicationHandlerStop
