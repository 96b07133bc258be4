"""Inline mode with the real bot: `@bot words` lists this user's captioned photos, newest first,
found by English or Russian words, personal, paged; nothing yet gives a how-to-start result."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from tests import images
from tests.conftest import StartBot
from tests.e2e.conftest import WAIT, Shared, has_cyrillic

pytestmark = pytest.mark.e2e


def ask_inline(tg: FakeTelegram, user: FakeUser, query: str, offset: str = "") -> Call:
    query_id = tg.send_inline_query(user, query, offset=offset)
    return tg.wait_for_calls(
        lambda c: c.method == "answerInlineQuery" and c.params.get("inline_query_id") == query_id,
        timeout=WAIT,
    )[0]


def captioned_file(tg: FakeTelegram, photo: dict[str, Any]) -> str:
    """The size of the photo the bot downloaded (and keeps the file_id of)."""
    (file_id,) = [s["file_id"] for s in photo["photo"] if s["file_id"] in tg.downloads]
    return str(file_id)


def caption_photos(tg: FakeTelegram, user: FakeUser, seeds: list[int]) -> list[tuple[str, str]]:
    """Send the photos one after another; (file_id, reply text) of each, oldest first."""
    done = []
    for seed in seeds:
        photo = tg.send_photo(user, images.jpeg(seed))
        reply = tg.wait_reply(photo, timeout=WAIT)
        done.append((captioned_file(tg, photo), reply.text or ""))
    return done


def test_no_history_gives_one_result_explaining_how_to_start(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    answer = ask_inline(tg, user, "dog")
    assert answer.ok
    (result,) = answer.params["results"]
    assert result["type"] == "article"
    message = result["input_message_content"]["message_text"]
    assert f"@{tg.bot_user.username}" in message and "photo" in message.lower()
    assert answer.params.get("is_personal") is True


def test_lists_this_users_photos_newest_first_with_captions(live: Shared) -> None:
    tg = live.telegram
    user, stranger = tg.add_user(), tg.add_user()
    done = caption_photos(tg, user, [51, 52, 53])
    answer = ask_inline(tg, user, "")
    assert answer.ok
    results = answer.params["results"]
    assert [r["type"] for r in results] == ["photo"] * 3
    assert [(r["photo_file_id"], r["caption"]) for r in results] == list(reversed(done))
    assert answer.params.get("is_personal") is True
    assert not answer.params.get("next_offset")
    assert ask_inline(tg, stranger, "").params["results"][0]["type"] == "article"


def test_filters_by_english_words(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    done = caption_photos(tg, user, [54, 55])
    word = done[-1][1].split()[-1].rstrip(".").upper()  # case does not matter
    results = ask_inline(tg, user, word).params["results"]
    assert results and all(word.lower() in r["caption"].lower() for r in results)
    assert ask_inline(tg, user, f"{word} zzqqxx").params["results"] == []


def test_filters_by_russian_words(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="ru")
    tg.wait_reply(tg.send_text(user, "/lang both"), timeout=WAIT)
    ((file_id, text),) = caption_photos(tg, user, [56])
    russian = text.splitlines()[1]
    assert has_cyrillic(russian)
    word = max(russian.split(), key=len).upper()
    results = ask_inline(tg, user, word).params["results"]
    assert [r["photo_file_id"] for r in results] == [file_id]
    assert results[0]["caption"] == text


def test_pages_through_the_offset(start_bot_small_pages: tuple[FakeTelegram, FakeUser]) -> None:
    tg, user = start_bot_small_pages
    done = caption_photos(tg, user, [57, 58, 59])
    first = ask_inline(tg, user, "")
    assert len(first.params["results"]) == 2
    assert first.params["next_offset"] == "2"
    second = ask_inline(tg, user, "", offset=first.params["next_offset"])
    assert len(second.params["results"]) == 1
    assert not second.params.get("next_offset")
    shown = [r["photo_file_id"] for r in first.params["results"] + second.params["results"]]
    assert shown == [file_id for file_id, _ in reversed(done)]


@pytest.fixture
def start_bot_small_pages(
    bot_process: StartBot, fake_telegram: FakeTelegram
) -> tuple[FakeTelegram, FakeUser]:
    bot_process(INLINE_PAGE_SIZE="2")
    return fake_telegram, fake_telegram.add_user()
