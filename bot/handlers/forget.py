"""/forget: after a confirmation button, delete everything the bot holds about this user: their
jobs (captions, translations, attention maps), the cached translations of their captions, their
user row and their private chat's row. Only the user who asked may confirm."""

import logging

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.handlers.reply import language_for, reply
from bot.handlers.stale_button import message_of, stale
from bot.services import BotContext, services
from bot.storage import chats, jobs, translations
from bot.texts import t

log = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^forget:\d+:(yes|no)$"


async def forget(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    language = await language_for(update, context)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("forget_yes", language), callback_data=f"forget:{user.id}:yes"
                ),
                InlineKeyboardButton(
                    t("forget_no", language), callback_data=f"forget:{user.id}:no"
                ),
            ]
        ]
    )
    await reply(update, context, "forget_confirm", markup=buttons)


def forget_user(session: Session, user_id: int) -> int:
    """Delete the user's jobs, their captions' translations and their chat settings; how many
    jobs."""
    translations.forget_texts(session, jobs.captions_of(session, user_id))
    count = jobs.forget_user(session, user_id)
    chats.forget_user(session, user_id)
    return count


async def forget_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    if message_of(query) is None:
        await stale(update, context)
        return
    _, owner, answer = query.data.split(":")
    language = await language_for(update, context)
    if query.from_user.id != int(owner):
        await query.answer(t("not_your_button", language))
        return
    if answer != "yes":
        await query.answer()
        await query.edit_message_text(t("forget_cancelled", language))
        return
    count = await services(context).write(forget_user, int(owner))
    log.info("user %s: forgot %d job(s)", owner, count)
    await query.answer()
    await query.edit_message_text(t("forget_done", language, count=count))
