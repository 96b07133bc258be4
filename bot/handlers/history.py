"""/history: this user's captions in this chat, newest first, paged by buttons."""

import math

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.handlers.reply import language_for
from bot.handlers.stale_button import message_of, stale
from bot.services import BotContext, services
from bot.storage import jobs
from bot.storage.models import Job
from bot.texts import t

PAGE_SIZE = 5
CALLBACK_PATTERN = r"^history:\d+:\d+$"


def page_text(items: list[Job], page: int, pages: int, language: str) -> str:
    lines = [t("history_header", language, page=page + 1, pages=pages)]
    for job in items:
        line = f"{job.received_at:%Y-%m-%d %H:%M} UTC — {job.caption}"
        if job.caption_ru:
            line += f" / {job.caption_ru}"
        lines.append(line)
    return "\n".join(lines)


def page_buttons(user_id: int, page: int, pages: int, language: str) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                t("history_newer", language), callback_data=f"history:{user_id}:{page - 1}"
            )
        )
    if page + 1 < pages:
        row.append(
            InlineKeyboardButton(
                t("history_older", language), callback_data=f"history:{user_id}:{page + 1}"
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


def page_of(session: Session, chat_id: int, user_id: int, page: int) -> tuple[list[Job], int, int]:
    """The jobs of one page (the last page if `page` is past it), that page and how many."""
    total = jobs.history_count(session, chat_id=chat_id, user_id=user_id)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    items = jobs.history(
        session, chat_id=chat_id, user_id=user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    return list(items), page, pages if total else 0


async def render(
    update: Update, context: BotContext, user_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of one page of history (the last page if `page` is past it)."""
    chat = update.effective_chat
    language = await language_for(update, context)
    if chat is None:
        return t("history_empty", language), None
    items, page, pages = await services(context).read(page_of, chat.id, user_id, page)
    if pages == 0:
        return t("history_empty", language), None
    return page_text(items, page, pages, language), page_buttons(user_id, page, pages, language)


async def history(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    text, buttons = await render(update, context, user.id, 0)
    await message.reply_text(text, reply_markup=buttons, do_quote=True)


async def history_page(update: Update, context: BotContext) -> None:
    """A press on Newer/Older: only the user whose history it is may page it."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    if message_of(query) is None:
        await stale(update, context)
        return
    _, owner, page = query.data.split(":")
    if query.from_user.id != int(owner):
        await query.answer(t("not_your_button", await language_for(update, context)))
        return
    text, buttons = await render(update, context, int(owner), int(page))
    await query.answer()
    await query.edit_message_text(text, reply_markup=buttons)
