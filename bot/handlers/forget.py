"""/forget: after a confirmation button, delete this user's jobs and captions."""

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.handlers.reply import language_for, reply
from bot.services import services
from bot.storage import chats, jobs
from bot.texts import t

log = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^forget:\d+:(yes|no)$"


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None:
        return
    language = language_for(update, context)
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


async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, owner, answer = query.data.split(":")
    language = language_for(update, context)
    if query.from_user.id != int(owner):
        await query.answer(t("not_your_button", language))
        return
    if answer != "yes":
        await query.answer()
        await query.edit_message_text(t("forget_cancelled", language))
        return
    with services(context).sessions.begin() as session:
        count = jobs.forget_user(session, int(owner))
        chats.forget_user(session, int(owner))
    log.info("user %s: forgot %d job(s)", owner, count)
    await query.answer()
    await query.edit_message_text(t("forget_done", language, count=count))
