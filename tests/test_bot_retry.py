"""The retry schedule: capped exponential backoff with jitter, 429's own wait, the deadline."""

import random
from datetime import datetime, timedelta

from telegram.error import NetworkError, RetryAfter

from bot.retry import backoff, delay_for, expired


def test_backoff_doubles_up_to_the_cap_and_jitters_within_the_upper_half() -> None:
    rng = random.Random(7)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (9, 60.0), (40, 60.0)]:
        delays = [backoff(attempt, 60.0, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > step / 4  # spread out, not all at once


def test_a_429_waits_what_telegram_asks_and_other_errors_back_off() -> None:
    assert 30 <= delay_for(RetryAfter(30), 1, 5.0) <= 31
    assert 2.5 <= delay_for(NetworkError("Bad Gateway"), 10, 5.0) <= 5.0


def test_a_photo_is_tried_for_as_long_as_the_answer_is_useful() -> None:
    received = datetime(2026, 1, 1, 12, 0)
    assert not expired(received, received + timedelta(hours=23, minutes=59), 24)
    assert expired(received, received + timedelta(hours=24, seconds=1), 24)
