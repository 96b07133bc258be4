"""Inline mode: `@bot words` in any chat lists the photos this user had captioned, newest first,
found by words of their English or Russian captions, to send with their captions."""

import logging

from sqlalchemy.orm import Session
from telegram import (
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedDocument,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)

from bot.language_policy import ui_language
from bot.services import BotContext, services
from bot.storage import search
from bot.texts import t

log = logging.getLogger(__name__)

CACHE_TIME_S = 10  # results are personal and change with every new caption
START_PARAMETER = "inline"


def caption_text(found: search.Found) -> str:
    return f"{found.caption}\n{found.caption_ru}" if found.caption_ru else found.caption


def as_result(found: search.Found) -> InlineQueryResult:
    """The photo as Telegram keeps it (no upload), with its caption."""
    if found.file_kind == "document":
        return InlineQueryResultCachedDocument(
            id=str(found.job_id),
            title=found.caption,
            document_file_id=found.file_id,
            caption=caption_text(found),
        )
    return InlineQueryResultCachedPhoto(
        id=str(found.job_id),
        photo_file_id=found.file_id,
        title=found.caption,
        description=found.caption_ru,
        caption=caption_text(found),
    )


def how_to_start(language: str, bot_username: str) -> InlineQueryResult:
    """The one result for someone with no captioned photos yet."""
    bot = f"@{bot_username}"
    return InlineQueryResultArticle(
        id="start",
        title=t("inline_empty_title", language),
        description=t("inline_empty_description", language),
        input_message_content=InputTextMessageContent(t("inline_empty_message", language, bot=bot)),
    )


def parse_offset(offset: str) -> int:
    return int(offset) if offset.isdigit() else 0


def look_up(
    session: Session, user_id: int, words: list[str], offset: int, limit: int
) -> tuple[list[search.Found], bool] | None:
    """A page of the user's captions matching `words`, and whether there are more; None if the
    user has no captions at all yet."""
    if not search.has_history(session, user_id):
        return None
    page, more = search.captioned(session, user_id, words, offset, limit)
    return page, more


async def inline_query(update: Update, context: BotContext) -> None:
    query = update.inline_query
    if query is None:
        return
    user = query.from_user
    language = ui_language(None, user.language_code)
    offset = parse_offset(query.offset)
    svc = services(context)
    page_size = svc.settings.inline_page_size
    found = await svc.read(look_up, user.id, query.query.split(), offset, page_size)
    if found is None:
        more = False
        results = [how_to_start(language, context.bot.username)] if offset == 0 else []
    else:
        page, more = found
        results = [as_result(item) for item in page]
    log.info("inline query from %d: %d result(s) at offset %d", user.id, len(results), offset)
    await query.answer(
        results,
        cache_time=CACHE_TIME_S,
        is_personal=True,
        next_offset=str(offset + page_size) if more else "",
        button=InlineQueryResultsButton(
            t("inline_button", language), start_parameter=START_PARAMETER
        ),
    )
