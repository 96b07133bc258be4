"""The handlers and the worker, fast: the bot's own Application (bot/app.py) in this process, its
calls answered by the fake Telegram server's code (tests/in_process.py), a tiny model."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from bot.app import build_application
from bot.bench.fake_telegram import Call, FakeTelegram
from bot.settings import Settings
from bot.storage.database import upgrade
from captioning.captioner import Captioner
from tests import images
from tests.fake_translate import FakeTranslate, expected
from tests.in_process import InProcessBot, InProcessRequest

ADMIN = 1_000_001  # the fake's first user


@pytest.fixture(scope="module")
def captioner(tiny_bundle: Path) -> Captioner:
    return Captioner.from_pretrained(tiny_bundle)


@pytest.fixture
def translate() -> Iterator[FakeTranslate]:
    with FakeTranslate() as server:
        yield server


@pytest.fixture
async def bot(
    tmp_path: Path, tiny_bundle: Path, captioner: Captioner, translate: FakeTranslate
) -> AsyncIterator[InProcessBot]:
    telegram = FakeTelegram()
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    upgrade(database)
    settings = bot_settings(telegram, database, tiny_bundle, translate)
    application = build_application(settings, captioner, requests_to(telegram))
    await application.initialize()
    try:
        yield InProcessBot(application, telegram)
    finally:
        await application.shutdown()


def requests_to(telegram: FakeTelegram) -> tuple[InProcessRequest, InProcessRequest]:
    return InProcessRequest(telegram), InProcessRequest(telegram)


def bot_settings(
    telegram: FakeTelegram, database: str, tiny_bundle: Path, translate: FakeTranslate
) -> Settings:
    return Settings(
        _env_file=None,
        telegram_bot_token=telegram.token,
        telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url,
        database_url=database,
        model_path=tiny_bundle,
        engine="eager",
        max_file_bytes=5 * 1024 * 1024,
        admin_ids=(ADMIN,),
        translation_backends=("google",),
        google_translate_url=translate.google_url,
        batch_wait_ms=10,
    )


def texts(calls: list[Call]) -> list[str]:
    return [call.text or "" for call in calls]


async def test_start_and_help_name_the_file_limit_of_the_settings(bot: InProcessBot) -> None:
    tg = bot.telegram
    ann, olga = tg.add_user("Ann"), tg.add_user("Olga", language_code="ru")
    await bot.deliver(message=tg.send_text(ann, "/start"))
    await bot.deliver(message=tg.send_text(olga, "/help"))
    english, russian = texts(tg.messages(ann.id)), texts(tg.messages(olga.id))
    assert "up to 5.0 MB" in english[0] and "20 MB" not in english[0]
    assert "до 5,0 МБ" in russian[0]


async def test_stats_in_the_admins_language_and_refused_to_others(bot: InProcessBot) -> None:
    tg = bot.telegram
    admin, other = tg.add_user("Admin", language_code="ru"), tg.add_user("Other")
    assert admin.id == ADMIN
    await bot.deliver(message=tg.send_text(admin, "/stats"))
    await bot.deliver(message=tg.send_text(other, "/stats"))
    (stats,) = texts(tg.messages(admin.id))
    assert stats.startswith("Статистика бота") and "Очередь: 0" in stats
    (refusal,) = texts(tg.messages(other.id))
    assert refusal == "Sorry, /stats is only for the bot's administrators."


async def test_stats_in_a_group_shows_no_figures_to_anyone(bot: InProcessBot) -> None:
    tg = bot.telegram
    admin, member = tg.add_user("Admin"), tg.add_user("Member")
    group = tg.add_group(creator=admin)
    await bot.deliver(message=tg.send_text(admin, "/stats", chat=group))
    await bot.deliver(message=tg.send_text(member, "/stats", chat=group))
    answers = texts(tg.messages(group.id))
    assert len(answers) == 2
    assert all("Queue" not in text and "statistics" not in text for text in answers)
    assert "private chat" in answers[0]
    await bot.deliver(message=tg.send_text(admin, "/stats"))  # where the figures are shown
    assert texts(tg.messages(admin.id))[0].startswith("Bot statistics")


async def test_a_photo_is_a_job_before_anything_else(bot: InProcessBot) -> None:
    tg = bot.telegram
    user = tg.add_user()
    photo = tg.send_photo(user, images.jpeg(1))
    await bot.deliver(message=photo)
    database = bot.services.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT user_id, message_id, status FROM jobs").fetchall()
    assert rows == [(user.id, photo["message_id"], "queued")]
    assert [call.method for call in tg.calls()] == ["getMe", "sendChatAction"]  # typing…


async def test_too_big_a_file_is_refused_with_the_limit(bot: InProcessBot) -> None:
    tg = bot.telegram
    user = tg.add_user()
    big = tg.send_document(
        user, images.jpeg(2), file_name="big.jpg", mime_type="image/jpeg", file_size=6 << 20
    )
    await bot.deliver(message=big)
    (refusal,) = texts(tg.messages(user.id))
    assert "up to 5.0 MB" in refusal


async def test_forget_counts_its_records_in_russian(bot: InProcessBot) -> None:
    tg = bot.telegram
    user = tg.add_user("Olga", language_code="ru")
    for seed in (3, 4):
        await bot.deliver(message=tg.send_photo(user, images.jpeg(seed)))
    await bot.deliver(message=tg.send_text(user, "/forget"))
    confirm = tg.messages(user.id)[-1]
    await bot.deliver(**tg.button_press(user, confirm, text="Да, удалить"))
    done = tg.message(user.id, int(confirm.message_id or 0))
    assert done is not None and done["text"] == "Готово: удалены 2 записи о ваших фото."


async def test_the_worker_captions_and_translates_a_photo(bot: InProcessBot) -> None:
    tg = bot.telegram
    user = tg.add_user("Olga", language_code="ru")
    photo = tg.send_photo(user, images.jpeg(5))
    bot.services.worker.start()
    try:
        await bot.deliver(message=photo)
        reply = await asyncio.to_thread(tg.wait_reply, photo, timeout=60)
    finally:
        await bot.services.worker.stop()
    english, russian = (reply.text or "").split("\n")[:2]
    assert english and russian == expected(english)
    assert [button["text"] for button in reply.buttons] == [
        "🔍 Куда я смотрел",
        "💬 Другие подписи",
    ]
    database = bot.services.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT status, caption FROM jobs").fetchall() == [("done", english)]


async def test_two_workers_on_one_sqlite_file_take_nothing_from_each_other(
    bot: InProcessBot, captioner: Captioner
) -> None:
    """A second worker's start leaves the first one's claims alone, and a photo is answered once
    by the two of them."""
    tg = bot.telegram
    user = tg.add_user()
    first, second = tg.send_photo(user, images.jpeg(6)), tg.send_photo(user, images.jpeg(7))
    await bot.deliver(message=first)
    one = bot.services.worker
    [held] = await asyncio.to_thread(bot.services.queue.take, 8, one.lease)  # one is captioning it
    settings = bot.services.settings
    other = build_application(settings, captioner, requests_to(tg))
    await other.initialize()
    two = other.bot_data.services.worker
    database = settings.database_url.removeprefix("sqlite:///")
    try:
        two.start()
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT status, worker FROM jobs WHERE id = ?", (held.id,)).fetchone()
        assert row == ("running", one.lease.name)  # not taken from the first worker
        await asyncio.to_thread(bot.services.queue.requeue, [held.id])  # one hands it back
        one.start()
        await bot.deliver(message=second)
        await asyncio.to_thread(tg.wait_reply, first, timeout=60)
        await asyncio.to_thread(tg.wait_reply, second, timeout=60)
    finally:
        await one.stop()
        await two.stop()
        await other.shutdown()
    replies = [call for call in tg.calls() if call.method == "sendMessage"]
    assert len(replies) == 2  # each photo once
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT status FROM jobs").fetchall() == [("done",), ("done",)]


def answers(tg: FakeTelegram) -> list[str | None]:
    """The texts of the bot's answers to button presses, in order."""
    return [call.params.get("text") for call in tg.calls("answerCallbackQuery")]


async def test_a_button_under_an_old_message_or_with_stale_data_is_answered(
    bot: InProcessBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg = bot.telegram
    user = tg.add_user()
    group = tg.add_group(creator=user)
    with caplog.at_level(logging.WARNING):
        for chat, data in [
            (user, "attn:1"),  # the caption message is too old for the bot to see
            (group, "alts:2"),
            (user, "history:1:0"),
            (user, "attn:99999999999999999999"),
            (user, "v1-button:7"),  # an earlier version's
        ]:
            await bot.deliver(**tg.old_button_press(user, chat, data))
        # the message is there, the data stale
        note = tg.send_text(user, "/start")
        await bot.deliver(message=note)
        await bot.deliver(**tg.old_button_press(user, user, "alts:99999999999999999999"))
    assert answers(tg) == ["This button no longer works."] * 6
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_channel_posts_and_membership_changes_are_logged_and_left_alone(
    bot: InProcessBot, caplog: pytest.LogCaptureFixture
) -> None:
    tg = bot.telegram
    owner = tg.add_user("Owner")
    group = tg.add_group(creator=owner)
    channel = {"id": -100777, "type": "channel", "title": "News"}
    me = {"id": tg.bot_user.id, "is_bot": True, "first_name": "captionbot"}
    photo = tg.photo_sizes(images.jpeg(8))
    with caplog.at_level(logging.INFO):
        await bot.deliver(
            channel_post={"message_id": 1, "date": 1, "chat": channel, "photo": photo}
        )
        await bot.deliver(
            channel_post={
                "message_id": 2,
                "date": 1,
                "chat": channel,
                "text": "/stats",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        )
        for old, new in [("left", "member"), ("member", "kicked")]:
            await bot.deliver(
                my_chat_member={
                    "chat": group.as_dict(),
                    "from": owner.as_dict(),
                    "date": 1,
                    "old_chat_member": {"user": me, "status": old},
                    "new_chat_member": {"user": me, "status": new, "until_date": 0},
                }
            )
    assert [call.method for call in tg.calls()] == ["getMe"]  # nothing said, nothing queued
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    log = caplog.text
    assert "channel post" in log and f"added to chat {group.id}" in log
    assert f"removed from chat {group.id}" in log


async def test_caption_in_reply_to_a_message_without_a_photo_says_so(bot: InProcessBot) -> None:
    tg = bot.telegram
    user = tg.add_user()
    group = tg.add_group(creator=user)
    text = tg.send_text(user, "just words", chat=group)
    await bot.deliver(message=tg.send_text(user, "/caption", chat=group, reply_to=text))
    sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    sticker = tg.user_message(user, chat=group, sticker=sticker)
    await bot.deliver(message=tg.send_text(user, "/caption", chat=group, reply_to=sticker))
    replies = texts(tg.messages(group.id))
    assert len(replies) == 2
    assert all("no photo" in reply.lower() for reply in replies), replies


async def test_handlers_keep_the_database_off_the_event_loop(bot: InProcessBot) -> None:
    """Every statement the handlers run (commands, buttons, group photos, inline mode, the
    language of each reply, the translation cache) runs in a thread, not on the event loop."""
    tg = bot.telegram
    admin = tg.add_user("Admin", language_code="ru")
    assert admin.id == ADMIN
    photo = tg.send_photo(admin, images.jpeg(9))
    bot.services.worker.start()
    try:
        await bot.deliver(message=photo)
        reply = await asyncio.to_thread(tg.wait_reply, photo, timeout=60)
    finally:
        await bot.services.worker.stop()

    loop_thread, on_the_loop = threading.get_ident(), []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if threading.get_ident() == loop_thread:
            on_the_loop.append(statement.split("\n")[0])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        group = tg.add_group(creator=admin)
        for text in ("/stats", "/lang ru", "/history", "/lang"):
            await bot.deliver(message=tg.send_text(admin, text))
        menu = tg.messages(admin.id)[-1]
        await bot.deliver(**tg.button_press(admin, menu, data=menu.buttons[0]["callback_data"]))
        for data in (reply.buttons[0]["callback_data"], reply.buttons[1]["callback_data"]):
            await bot.deliver(**tg.button_press(admin, reply, data=data))
        await bot.deliver(**tg.inline_query(admin, "a"))
        await bot.deliver(message=tg.send_photo(admin, images.jpeg(10), chat=group))
        for text in ("/auto", "/auto on", "/lang en"):
            await bot.deliver(message=tg.send_text(admin, text, chat=group))
        await bot.deliver(message=tg.send_photo(admin, images.jpeg(11), chat=group))
        await bot.deliver(message=tg.send_text(admin, "/forget"))
        confirm = tg.messages(admin.id)[-1]
        await bot.deliver(**tg.button_press(admin, confirm, data=f"forget:{admin.id}:yes"))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert on_the_loop == []
    assert len(tg.calls("answerInlineQuery")) == 1 and tg.messages(group.id)
