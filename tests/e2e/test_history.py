"""/history (newest first, with dates, paged by buttons) and /forget (after a confirmation)."""

from __future__ import annotations

import re

import pytest

from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from tests import images
from tests.e2e.conftest import WAIT, Shared, answer_to, is_caption, rows_about_user

pytestmark = pytest.mark.e2e

DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}")


def caption_photos(tg: FakeTelegram, user: FakeUser, seeds: list[int]) -> list[str]:
    """Send the photos one after another; their captions, oldest first."""
    captions = []
    for seed in seeds:
        photo = tg.send_photo(user, images.jpeg(seed))
        captions.append(tg.wait_reply(photo, timeout=WAIT).text or "")
    return captions


def entries(page: str) -> list[str]:
    """The lines of a history page that hold a dated caption."""
    return [line for line in page.splitlines() if DATE.search(line)]


def press_and_wait_edit(tg: FakeTelegram, user: FakeUser, message: Call, button: dict) -> str:
    """Press a button under `message`; the message's text once the bot has edited it."""
    chat_id, message_id = user.id, message.message_id
    edits = len(tg.calls("editMessageText", chat_id=chat_id))
    query_id = tg.press_button(user, message, data=button["callback_data"])
    tg.wait_for_calls(
        lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id,
        timeout=WAIT,
    )
    edit = tg.wait_for_calls(
        lambda c: c.ok and c.method == "editMessageText" and c.chat_id == chat_id,
        count=edits + 1,
        timeout=WAIT,
    )[-1]
    assert edit.params["message_id"] == message_id  # the page is turned in place
    return edit.text or ""


def test_history_when_there_is_none(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user()
    reply = answer_to(tg, user, "/history")
    assert reply.text and not entries(reply.text)
    assert reply.buttons == []


def test_history_is_newest_first_with_dates_and_pages(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user, other = tg.add_user("Vera"), tg.add_user("Gleb")
    seeds = [31, 32, 33, 34, 35, 36, 37]
    captions = caption_photos(tg, user, seeds)
    assert all(is_caption(c, vocab) for c in captions)
    caption_photos(tg, other, [38])  # someone else's photo is not in this user's history

    first = answer_to(tg, user, "/history")
    page_one = entries(first.text or "")
    assert 0 < len(page_one) < len(seeds), first.text  # more than one page
    assert captions[-1] in page_one[0]  # newest first
    assert len(first.buttons) == 1  # only "older" on the first page

    page_two = entries(press_and_wait_edit(tg, user, first, first.buttons[0]))
    shown = page_one + page_two
    assert len(shown) == len(seeds)
    assert captions[0] in shown[-1]  # the oldest comes last
    for caption in captions:
        assert sum(caption in line for line in shown) == captions.count(caption)


def test_forget_asks_first_then_deletes(live: Shared, vocab: frozenset[str]) -> None:
    tg, database = live.telegram, live.bot.database
    user = tg.add_user()
    caption_photos(tg, user, [41, 42])
    assert rows_about_user(database, user.id) >= 2

    ask = answer_to(tg, user, "/forget")
    assert len(ask.buttons) == 2, ask.buttons
    confirm = [b for b in ask.buttons if re.search("yes|delete|да|удал", b["text"], re.I)]
    assert len(confirm) == 1, ask.buttons
    cancel = next(b for b in ask.buttons if b is not confirm[0])

    press_and_wait_edit(tg, user, ask, cancel)
    assert rows_about_user(database, user.id) >= 2  # cancelled: nothing deleted
    assert entries(answer_to(tg, user, "/history").text or "")

    ask = answer_to(tg, user, "/forget")
    press_and_wait_edit(tg, user, ask, confirm[0])
    assert rows_about_user(database, user.id) == 0
    assert not entries(answer_to(tg, user, "/history").text or "")

    # The bot still works for this user afterwards.
    photo = tg.send_photo(user, images.jpeg(43))
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
