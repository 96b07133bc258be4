"""/stats for the bot's administrators (ADMIN_IDS): queue, jobs, throughput, latency, failures.
The figures (and the last Telegram error) are shown in a private chat only, never in a group."""

import logging

from telegram import Update
from telegram.constants import ChatType

from bot.handlers.reply import language_for, reply
from bot.queue import CaptionQueue, Outcome
from bot.services import BotContext, services
from bot.storage import stats as figures
from bot.storage.models import utcnow
from bot.texts import t

log = logging.getLogger(__name__)


def seconds(value: float | None, language: str) -> str:
    if value is None:
        return t("stats_no_figure", language)
    return t("stats_seconds", language, value=f"{value:.2f}")


def stats_text(data: figures.Figures, language: str) -> str:
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(data.per_status.items()))
    last_error = t("stats_last_error", language, error=data.last_error) if data.last_error else ""
    return "\n".join(
        [
            t("stats_title", language),
            t("stats_queue", language, count=data.queue_depth),
            t("stats_statuses", language, statuses=statuses or t("stats_no_jobs", language)),
            t("stats_captioned", language, hour=data.captioned_hour, day=data.captioned_day),
            t(
                "stats_latency",
                language,
                median=seconds(data.latency_median_s, language),
                p95=seconds(data.latency_p95_s, language),
            ),
            t(
                "stats_translation_failures",
                language,
                day=data.translation_failures_day,
                total=data.translation_failures_total,
            ),
            t("stats_telegram_errors", language, count=data.retrying, retried=data.retried_day)
            + last_error,
        ]
    )


REFUSAL_REASONS = {
    Outcome.RATE_LIMITED: "stats_refused_rate_limited",
    Outcome.USER_QUEUE_FULL: "stats_refused_user_queue_full",
    Outcome.QUEUE_FULL: "stats_refused_queue_full",
}


def refusals_text(queue: CaptionQueue, language: str) -> str:
    """Photos refused since the bot started, by reason, and how many of them were told so."""
    reasons = ", ".join(
        t(key, language, count=queue.refused[outcome]) for outcome, key in REFUSAL_REASONS.items()
    )
    total, told = sum(queue.refused.values()), sum(queue.notices.values())
    return t(
        "stats_refusals", language, total=total, reasons=reasons, count=told, dropped=total - told
    )


async def stats(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if user.id not in svc.settings.admin_ids:
        log.info("user %d asked for /stats and is not an admin", user.id)
        await reply(update, context, "stats_refused")
        return
    if message.chat.type != ChatType.PRIVATE:
        log.info("user %d asked for /stats in group %d: not shown there", user.id, message.chat_id)
        await reply(update, context, "stats_private_only")
        return
    data = await svc.read(figures.collect, utcnow())
    language = await language_for(update, context)
    dropped = t("stats_updates_dropped", language, count=svc.updates.dropped)
    text = f"{stats_text(data, language)}\n{refusals_text(svc.queue, language)}\n{dropped}"
    await message.reply_text(text, do_quote=True)
