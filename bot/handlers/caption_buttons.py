"""The buttons under a caption: the attention map (sent once per photo, as a reply to the caption)
and the other captions the beam search found (added to the caption message, with scores)."""

import asyncio
import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.attention_map import render_jpeg
from bot.caption_keyboard import parse, without
from bot.handlers.reply import language_for
from bot.handlers.stale_button import message_of, stale
from bot.services import BotContext, services
from bot.storage import albums, attention_maps, jobs
from bot.storage.models import Job
from bot.texts import t
from captioning.preprocessing import BadImageError, open_image

log = logging.getLogger(__name__)

ATTENTION_PATTERN = r"^attn:\d+$"
ALTERNATIVES_PATTERN = r"^alts:\d+$"


def someone_elses(query: CallbackQuery, message: Message, job: Job) -> bool:
    """In a group, the buttons under a caption are for the person who asked for it."""
    return message.chat.type != ChatType.PRIVATE and query.from_user.id != job.user_id


async def pressed(
    update: Update, context: BotContext
) -> tuple[CallbackQuery, Message, Job | None] | None:
    """The query, the caption message it came from, and its job (None if forgotten meanwhile).
    None, once the press is answered, if the message is gone or too old for the bot to see (it
    cannot be edited or replied to), or the button's data is not one of ours."""
    query = update.callback_query
    if query is None:
        return None
    message, found = message_of(query), parse(query.data)
    if message is None or found is None:
        await stale(update, context)
        return None
    job = await services(context).read(jobs.get_in_chat, found[1], message.chat_id)
    return query, message, job


async def drop_button(query: CallbackQuery, message: Message) -> None:
    """Take the pressed button off the caption message."""
    markup = without(message.reply_markup, query.data or "")
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:  # pressed twice at once: already off
        log.debug("removing the button: %s", exc.message)


def draw_map(photo: bytes, job: Job) -> bytes:
    """The attention map of the job's caption over its photo, as JPEG (decoding and drawing take
    a while: run it off the event loop)."""
    weights = jobs.attention_of(job)
    if weights is None or job.words is None:
        raise BadImageError("the job has no attention maps")
    return render_jpeg(open_image(photo), job.words, weights)


async def attention(update: Update, context: BotContext) -> None:
    """Send the attention map of the photo, once: later presses are pointed to it."""
    found = await pressed(update, context)
    if found is None:
        return
    query, message, job = found
    language = await language_for(update, context)
    if job is None or job.caption is None or job.words is None:
        await query.answer(t("photo_gone", language), show_alert=True)
        return
    if someone_elses(query, message, job):
        await query.answer(t("not_your_button", language), show_alert=True)
        return
    svc = services(context)
    if not await svc.write(attention_maps.claim, job.id):
        await query.answer(t("attention_already_sent", language))
        return
    await query.answer()
    try:
        file = await context.bot.get_file(job.file_id)
        data = bytes(await file.download_as_bytearray())
        picture = await asyncio.to_thread(draw_map, data, job)
        sent = await context.bot.send_photo(
            message.chat_id,
            picture,
            caption=t("attention_caption", language, caption=job.caption),
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
        )
    except Exception as exc:  # whatever went wrong, the button must work again
        expected = isinstance(exc, TelegramError | BadImageError)
        log.warning(
            "job %d: could not send the attention map: %s", job.id, exc, exc_info=not expected
        )
        await svc.write(attention_maps.release, job.id)
        await message.reply_text(t("photo_unavailable", language), do_quote=True)
        return
    await svc.write(attention_maps.sent, job.id, sent.message_id)
    log.info("job %d: attention map sent", job.id)
    await drop_button(query, message)


def alternatives_text(job: Job, number: int | None, language: str) -> str:
    header = (
        t("alternatives_header_numbered", language, number=number)
        if number
        else t("alternatives_header", language)
    )
    lines = [f"• {text} ({score:.2f})" for text, score in job.alternatives or []]
    return "\n".join([header, *lines])


async def alternatives(update: Update, context: BotContext) -> None:
    """Add the other beam captions, with their scores, under the caption (once)."""
    found = await pressed(update, context)
    if found is None:
        return
    query, message, job = found
    language = await language_for(update, context)
    if job is None:
        await query.answer(t("photo_gone", language), show_alert=True)
        return
    if someone_elses(query, message, job):
        await query.answer(t("not_your_button", language), show_alert=True)
        return
    if not job.alternatives:
        await query.answer(t("alternatives_none", language), show_alert=True)
        await drop_button(query, message)
        return
    number = await services(context).read(albums.reply_position, job)
    section = alternatives_text(job, number, language)
    current = message.text or ""
    await query.answer()
    if section in current:  # added by an earlier press
        await drop_button(query, message)
        return
    markup: InlineKeyboardMarkup | None = without(message.reply_markup, query.data or "")
    try:
        await query.edit_message_text(f"{current}\n\n{section}", reply_markup=markup)
    except BadRequest as exc:  # two presses at once: the first one's edit stands
        log.debug("job %d: alternatives: %s", job.id, exc.message)
