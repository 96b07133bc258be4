"""/stats for the bot's administrators (ADMIN_IDS): queue, jobs, throughput, latency, failures."""

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.reply import reply
from bot.queue import CaptionQueue, Outcome
from bot.services import services
from bot.storage import stats as figures
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def stats_text(data: figures.Figures) -> str:
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(data.per_status.items()))
    return "\n".join(
        [
            "Bot statistics",
            f"Queue depth: {data.queue_depth}",
            f"Jobs per status: {statuses or 'none yet'}",
            f"Photos captioned: {data.captioned_hour} in the last hour, "
            f"{data.captioned_day} in the last day",
            f"Latency (last day): median {seconds(data.latency_median_s)}, "
            f"p95 {seconds(data.latency_p95_s)}",
            f"Translation failures: {data.translation_failures_day} in the last day, "
            f"{data.translation_failures_total} in all",
            f"Telegram errors: {data.retrying} photo(s) waiting to be tried again, "
            f"{data.retried_day} answered after a retry in the last day"
            + (f" (last error: {data.last_error})" if data.last_error else ""),
        ]
    )


def refusals_text(queue: CaptionQueue) -> str:
    """Photos refused since the bot started, by reason, and how many of them were told so."""
    reasons = {
        Outcome.RATE_LIMITED: "over the rate limit",
        Outcome.USER_QUEUE_FULL: "user's share of the queue full",
        Outcome.QUEUE_FULL: "queue full",
    }
    parts = ", ".join(f"{name} {queue.refused[outcome]}" for outcome, name in reasons.items())
    total, told = sum(queue.refused.values()), sum(queue.notices.values())
    return (
        f"Photos refused since start: {total} ({parts}); {told} notice(s) sent, "
        f"{total - told} dropped without a reply"
    )


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    svc = services(context)
    if user.id not in svc.settings.admin_ids:
        log.info("user %d asked for /stats and is not an admin", user.id)
        await reply(update, context, "stats_refused")
        return
    with svc.sessions() as session:
        data = figures.collect(session, utcnow())
    dropped = f"Other updates dropped (over UPDATES_PER_MINUTE) since start: {svc.updates.dropped}"
    text = f"{stats_text(data)}\n{refusals_text(svc.queue)}\n{dropped}"
    await message.reply_text(text, do_quote=True)
