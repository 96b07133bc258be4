"""Caption languages: /lang, buttons, translation through the fake translation server, and what
the user gets when translation fails or hangs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from bot.texts import t
from tests import images
from tests.e2e.conftest import WAIT, Shared, answer_to, has_cyrillic, is_caption
from tests.fake_translate import FakeTranslate, expected

pytestmark = pytest.mark.e2e

# what a Russian chat is told when no translation service answered
RUSSIAN_NOTE = t("translation_failed", "ru")


def set_language(tg: FakeTelegram, user: FakeUser, argument: str) -> Call:
    return answer_to(tg, user, f"/lang {argument}")


def caption_photo(tg: FakeTelegram, user: FakeUser, seed: int) -> Call:
    photo = tg.send_photo(user, images.jpeg(seed))
    return tg.wait_reply(photo, timeout=WAIT)


def test_lang_ru_gives_the_russian_caption(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="en")
    set_language(tg, user, "ru")
    reply = caption_photo(tg, user, 11)
    assert has_cyrillic(reply.text)
    english = [r.text for r in live.translate.requests if expected(r.text) == reply.text]
    assert english, f"{reply.text!r} is not a translation the fake server gave"


def test_lang_both_gives_english_then_russian(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="en")
    set_language(tg, user, "both")
    reply = caption_photo(tg, user, 12)
    lines = (reply.text or "").splitlines()
    assert len(lines) == 2, reply.text
    assert is_caption(lines[0], vocab)
    assert lines[1] == expected(lines[0])


def test_lang_en_is_english_even_for_a_russian_user(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="ru")
    set_language(tg, user, "en")
    assert is_caption(caption_photo(tg, user, 13).text, vocab)


def test_lang_with_a_bad_argument_explains_the_choices(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    reply = set_language(tg, user, "klingon")
    assert "both" in (reply.text or "")


def test_lang_buttons_choose_russian(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="en")
    command = tg.send_text(user, "/lang")
    menu = tg.wait_reply(command, timeout=WAIT)
    assert len(menu.buttons) >= 3
    # The Russian-only choice: a label in Cyrillic with no Latin letters.
    russian = [
        b
        for b in menu.buttons
        if has_cyrillic(b["text"]) and not any("a" <= c.lower() <= "z" for c in b["text"])
    ]
    assert len(russian) == 1, menu.buttons
    query_id = tg.press_button(user, menu, text=russian[0]["text"])
    tg.wait_for_calls(
        lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id,
        timeout=WAIT,
    )
    reply = caption_photo(tg, user, 14)
    assert has_cyrillic(reply.text)


def test_google_failing_falls_back_to_mymemory(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    fake_translate: FakeTranslate,
) -> None:
    bot_process()  # a fresh database: no translation is cached, so the fall-back must happen
    tg, tr = fake_telegram, fake_translate
    user = fresh_russian_user(tg)
    tr.set_mode("fail", "google")
    before = len(tr.requests)
    reply = caption_photo(tg, user, 15)
    made = tr.requests[before:]
    assert [r.backend for r in made] == ["google", "mymemory"]
    assert reply.text == expected(made[-1].text)


def fresh_russian_user(tg: FakeTelegram) -> FakeUser:
    """A Russian speaker whose chat is set to Russian captions (/lang ru)."""
    user = tg.add_user(language_code="ru")
    set_language(tg, user, "ru")
    return user


def test_translation_trouble_gives_english_with_a_note_and_good_translations_are_cached(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    fake_translate: FakeTranslate,
    vocab: frozenset[str],
) -> None:
    bot_process(TRANSLATION_TIMEOUT_S="2")  # a fresh database: nothing is cached yet
    tg, tr = fake_telegram, fake_translate
    user = fresh_russian_user(tg)
    english = ""
    for mode in ("fail", "hang", "429"):
        tr.set_mode(mode)  # type: ignore[arg-type]
        asked = len(tr.requests)
        reply = caption_photo(tg, user, 16)
        lines = (reply.text or "").splitlines()
        assert len(lines) == 2, (mode, reply.text)
        assert is_caption(lines[0], vocab)
        assert lines[1] == RUSSIAN_NOTE, lines[1]  # the note, in the chat's language
        assert len(tr.requests) > asked, f"{mode}: the bot did not try to translate"
        english = english or lines[0]
        assert lines[0] == english  # the same picture, the same caption

    # Once the service is back the caption is translated (failures were not cached) ...
    tr.set_mode("ok")
    translated = caption_photo(tg, user, 16)
    assert translated.text == expected(english)
    # ... and that translation is cached: the same caption again asks no one.
    asked = len(tr.requests)
    assert caption_photo(tg, user, 16).text == translated.text
    assert len(tr.requests) == asked
