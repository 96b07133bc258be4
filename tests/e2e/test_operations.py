"""What an operator sees of a running bot: its Prometheus metrics over HTTP, and its history
pruned on schedule after HISTORY_DAYS."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

import pytest

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import FakeTelegram
from bot.bench.ports import free_port
from tests import images
from tests.e2e.conftest import WAIT, is_caption, rows_about_user, wait_until

pytestmark = pytest.mark.e2e

StartBot = Callable[..., BotProcess]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def test_metrics_count_the_photos_and_their_replies(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg, port = fake_telegram, free_port()
    bot = bot_process(METRICS_PORT=str(port), METRICS_ADDRESS="127.0.0.1")
    before = scrape(port)
    assert "captionbot_photos_captioned_total 0.0" in before
    assert "captionbot_queue_depth 0.0" in before
    user = tg.add_user()
    photos = [tg.send_photo(user, images.jpeg(seed)) for seed in (1, 2)]
    for photo in photos:
        assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    wait_until(lambda: 'captionbot_jobs{status="done"} 2.0' in scrape(port), "both jobs done")
    after = scrape(port)
    assert "captionbot_photos_captioned_total 2.0" in after
    assert "captionbot_update_to_reply_seconds_count 2.0" in after
    assert "captionbot_queue_depth 0.0" in after
    assert bot.stop() == 0


def test_answered_photos_are_forgotten_after_history_days(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    # a history of about two seconds, checked twice a second
    bot = bot_process(HISTORY_DAYS="0.00002", HISTORY_PRUNE_EVERY_S="0.5")
    user = tg.add_user()
    photo = tg.send_photo(user, images.jpeg(3))
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    wait_until(lambda: rows_about_user(bot.database, user.id) == 0, "the job to be pruned")
    assert bot.running
    assert bot.stop() == 0
