"""What the bot must never do: lose a photo it accepted, answer one twice, or let one user crowd
out the others. Each test runs its own bot, so that it can crash it, stop it or reconfigure it,
and counts replies only after a clean stop, when nothing can be in flight any more."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from bot.bench.bot_process import STARTUP_TIMEOUT, BotProcess
from bot.bench.fake_telegram import FakeTelegram
from bot.bench.ports import free_port
from tests import images
from tests.e2e.conftest import WAIT, is_caption, rows_about_user, wait_until

pytestmark = pytest.mark.e2e

StartBot = Callable[..., BotProcess]


def assert_one_caption_each(
    tg: FakeTelegram, photos: list[dict[str, Any]], vocab: frozenset[str]
) -> None:
    for photo in photos:
        replies = tg.replies_to(photo)
        assert len(replies) == 1, (photo["message_id"], [r.describe() for r in replies])
        assert is_caption(replies[0].text, vocab), replies[0].text


def test_kill_9_mid_queue_then_restart_answers_every_accepted_photo_once(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process()
    users = [tg.add_user(f"User {i}") for i in range(4)]
    tg.hold("sendMessage")  # captions are made but cannot be sent: the crash catches them
    photos = [
        tg.send_photo(u, images.jpeg(50 + 2 * i + j)) for i, u in enumerate(users) for j in (0, 1)
    ]
    wait_until(
        lambda: all(rows_about_user(bot.database, u.id) == 2 for u in users),
        "every photo to be accepted (a job row each)",
    )
    tg.wait_state(lambda: tg.held("sendMessage") >= 1, "a caption on its way", timeout=WAIT)
    bot.kill()
    tg.release("sendMessage")  # the dead bot's sends are dropped, as they never reached Telegram

    bot.start()
    for photo in photos:
        tg.wait_reply(photo, timeout=WAIT)
    assert bot.stop() == 0
    assert_one_caption_each(tg, photos, vocab)


def test_sigterm_finishes_or_keeps_what_is_in_flight(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process()
    user = tg.add_user()
    tg.hold("sendMessage")
    photos = [tg.send_photo(user, images.jpeg(60 + i)) for i in range(3)]
    wait_until(lambda: rows_about_user(bot.database, user.id) == 3, "the photos to be accepted")
    tg.wait_state(lambda: tg.held("sendMessage") >= 1, "a caption on its way", timeout=WAIT)
    assert bot.process is not None
    bot.process.send_signal(signal.SIGTERM)
    tg.release("sendMessage")
    assert bot.process.wait(STARTUP_TIMEOUT) == 0, bot.log_tail()

    # Whatever was not answered before the stop is answered after the next start.
    bot.start()
    for photo in photos:
        tg.wait_reply(photo, timeout=WAIT)
    assert bot.stop() == 0
    assert_one_caption_each(tg, photos, vocab)


def test_429_is_retried_and_a_repeated_update_is_not_captioned_twice(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process()
    flooded, repeated = tg.add_user("Flood"), tg.add_user("Echo")

    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=flooded.id)
    first = tg.send_photo(flooded, images.jpeg(70))
    tg.wait_reply(first, timeout=WAIT)

    second = tg.send_photo(repeated, images.jpeg(71))
    tg.push_update({"message": second})  # Telegram delivers the same message again
    tg.wait_reply(second, timeout=WAIT)
    assert bot.stop() == 0

    refused = [c for c in tg.calls("sendMessage", chat_id=flooded.id) if not c.ok]
    assert len(refused) == 1 and refused[0].error is not None
    assert refused[0].error["parameters"] == {"retry_after": 1}
    assert_one_caption_each(tg, [first, second], vocab)


def test_a_burst_from_several_users_is_answered_fairly_and_a_flooder_is_told_once(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    limit = 5
    admin = tg.add_user("Admin")
    bot = bot_process(RATE_LIMIT_PER_MINUTE=str(limit), BATCH_SIZE="2", ADMIN_IDS=str(admin.id))
    heavy = tg.add_user("Heavy")
    light = [tg.add_user(f"Light {i}") for i in range(3)]
    tg.hold("getFile")  # the worker stalls on its first downloads while everything arrives
    heavy_photos = [tg.send_photo(heavy, images.jpeg(80 + i)) for i in range(limit + 25)]
    light_photos = {
        u.id: [tg.send_photo(u, images.jpeg(90 + 3 * n + k)) for k in range(3)]
        for n, u in enumerate(light)
    }
    wait_until(
        lambda: (
            rows_about_user(bot.database, heavy.id) == limit
            and all(rows_about_user(bot.database, u.id) == 3 for u in light)
        ),
        "the burst to be accepted",
    )
    tg.wait_for_messages(lambda c: c.chat_id == heavy.id, count=1, timeout=WAIT)  # the notice
    tg.release("getFile")
    everything = heavy_photos[:limit] + [p for photos in light_photos.values() for p in photos]
    for photo in everything:
        tg.wait_reply(photo, timeout=WAIT)
    stats = tg.wait_reply(tg.send_text(admin, "/stats"), timeout=WAIT).text or ""
    assert bot.stop() == 0

    # Heavy gets a caption for each photo within the limit, one notice for the photo after,
    # and nothing at all for the rest of the minute's photos.
    heavy_replies = [tg.replies_to(p) for p in heavy_photos]
    assert all(len(r) == 1 for r in heavy_replies[: limit + 1]), heavy_replies
    assert not any(heavy_replies[limit + 1 :])
    captions = [r[0] for r in heavy_replies[:limit]]
    assert all(is_caption(c.text, vocab) for c in captions)
    notice = heavy_replies[limit][0].text or ""
    assert not is_caption(notice, vocab) and str(limit) in notice and "UTC" in notice, notice
    assert len(tg.messages(heavy.id)) == limit + 1
    assert_one_caption_each(tg, [p for photos in light_photos.values() for p in photos], vocab)
    assert "over the rate limit 25" in stats and "24 dropped without a reply" in stats, stats
    assert "dropped without a reply" in bot.log_text()

    # Fair shares: every light user's first caption came before the heavy user's last one.
    order = tg.calls_log
    heavy_last = max(order.index(c) for c in captions)
    for user in light:
        first = min(order.index(tg.replies_to(p)[0]) for p in light_photos[user.id])
        assert first < heavy_last, f"{user.first_name} waited behind all of Heavy's photos"


def test_one_user_fills_only_their_share_of_the_queue(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process(QUEUE_SIZE="8", RATE_LIMIT_PER_MINUTE="100")
    heavy, other = tg.add_user("Heavy"), tg.add_user("Other")
    tg.hold("getFile")
    heavy_photos = [tg.send_photo(heavy, images.jpeg(100 + i)) for i in range(6)]
    notice = tg.wait_message(heavy, timeout=WAIT)  # a quarter of 8: two waiting at most
    theirs = tg.send_photo(other, images.jpeg(110))
    wait_until(lambda: rows_about_user(bot.database, other.id) == 1, "the other photo accepted")
    tg.release("getFile")
    for photo in [*heavy_photos[:2], theirs]:
        assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    assert bot.stop() == 0
    assert notice.reply_to == heavy_photos[2]["message_id"] and "2" in (notice.text or "")
    assert not any(tg.replies_to(p) for p in heavy_photos[3:])
    assert rows_about_user(bot.database, heavy.id) == 2


def test_a_group_over_its_minute_budget_gets_every_caption_later_none_lost(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    per_minute = 5
    tg.limit_groups(per_minute)  # as Telegram: a 429 past it
    bot = bot_process(GROUP_MESSAGES_PER_MINUTE=str(per_minute))
    owner, friend = tg.add_user("Olga"), tg.add_user("Petr")
    group = tg.add_group(creator=owner)
    tg.wait_reply(tg.send_text(owner, "/auto on", chat=group), timeout=WAIT)  # one of the five
    photos = [
        tg.send_photo(owner if i % 2 else friend, images.jpeg(120 + i), chat=group)
        for i in range(per_minute + 3)
    ]
    for photo in photos:  # the last ones wait for the group's next minute
        tg.wait_reply(photo, timeout=WAIT + 60)
    assert bot.stop() == 0
    assert_one_caption_each(tg, photos, vocab)
    refused = [c for c in tg.calls(chat_id=group.id) if c.error and c.error["error_code"] == 429]
    assert refused == [], [c.describe() for c in refused]


def test_a_bad_setting_stops_start_up_with_a_message_that_names_it(
    bot_process: StartBot,
) -> None:
    bot = bot_process(wait=False, BATCH_SIZE="lots")
    assert bot.process is not None
    assert bot.process.wait(STARTUP_TIMEOUT) != 0
    assert "BATCH_SIZE" in bot.log_text()


def test_webhook_mode(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    port = free_port()
    bot_process(
        wait=False,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="s3cret-token",
    )
    tg.wait_for_calls(lambda c: c.ok and c.method == "setWebhook", timeout=STARTUP_TIMEOUT)
    assert tg.webhook is not None and tg.webhook["secret_token"] == "s3cret-token"
    user = tg.add_user()
    photo = tg.send_photo(user, images.jpeg(99))
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
