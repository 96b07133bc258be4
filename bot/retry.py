"""When to try a job again after Telegram failed for a passing reason, and when to stop.

Passing failures (5xx, timeouts, refused connections, 429) are retried for as long as the answer
is still useful (`REPLY_RETRY_HOURS`), with exponential backoff capped at `RETRY_BACKOFF_MAX_S`
and "equal jitter" (a random point in the upper half of the step), so that jobs which failed
together in an outage do not all come back in the same instant.
"""

import random
from datetime import datetime, timedelta

from telegram.error import RetryAfter

FIRST_DELAY_S = 1.0


def backoff(attempt: int, cap_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempt`-th try (from 1) failed."""
    step = min(cap_s, FIRST_DELAY_S * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(step / 2, step)


def delay_for(exc: Exception, attempt: int, cap_s: float) -> float:
    """How long to wait before the next try: what a 429 asks for, else the backoff."""
    if isinstance(exc, RetryAfter):
        asked = exc.retry_after
        seconds = asked.total_seconds() if isinstance(asked, timedelta) else float(asked)
        return seconds + random.uniform(0, 1)
    return backoff(attempt, cap_s)


def expired(received_at: datetime, now: datetime, retry_hours: float) -> bool:
    """Whether an answer to a photo received then would come too late to be of use."""
    return now - received_at > timedelta(hours=retry_hours)
