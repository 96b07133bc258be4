"""Replies of a grounded model: what the classifier recognised, in English and in Russian, and a
caption that says it is a guess. The real bot, on tiny bundles whose classifier takes every photo
for a tabby cat, or for a website."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from captioning.bundle import make_random_bundle
from tests import images
from tests.conftest import StartBot
from tests.e2e.conftest import WAIT, answer_to, has_cyrillic
from tests.fake_translate import expected

pytestmark = pytest.mark.e2e
TABBY, WEBSITE = 281, 916
StartGrounded = Callable[[int], BotProcess]


@pytest.fixture
def grounded_bot(tmp_path: Path, bot_process: StartBot) -> StartGrounded:
    """Starts the real bot on a tiny bundle whose classifier recognises ImageNet class
    `recognise` in every photo."""

    def start(recognise: int) -> BotProcess:
        bundle = make_random_bundle(tmp_path / f"bundle-{recognise}", recognise=recognise)
        return bot_process(bundle=bundle)

    return start


def caption(tg: FakeTelegram, user: FakeUser, seed: int) -> Call:
    return tg.wait_reply(tg.send_photo(user, images.jpeg(seed)), timeout=WAIT)


def test_the_hedged_sentence_in_english_and_russian(
    grounded_bot: StartGrounded,
    fake_telegram: FakeTelegram,
) -> None:
    """The tiny model's captions never name the cat its classifier is sure of: the reply says
    only what was recognised, built from the label (translated for a Russian chat)."""
    grounded_bot(TABBY)
    tg = fake_telegram
    english = tg.add_user(language_code="en")
    lines = (caption(tg, english, 1).text or "").splitlines()
    assert lines == ["Probably a tabby cat."]  # no "Also recognised": the sentence says it

    russian = tg.add_user(language_code="en")
    answer_to(tg, russian, "/lang ru")
    lines = (caption(tg, russian, 2).text or "").splitlines()
    assert has_cyrillic(lines[0])
    assert lines == [f"Вероятно, {expected('tabby cat')}."]


def test_a_caption_of_text_says_it_is_a_guess(
    grounded_bot: StartGrounded,
    fake_telegram: FakeTelegram,
) -> None:
    grounded_bot(WEBSITE)
    tg = fake_telegram
    user = tg.add_user(language_code="en")
    text = caption(tg, user, 3).text or ""
    assert "This caption is a guess: the photo looks like text or a screen" in text
    assert "website" in text  # in the caption or in "Also recognised"
    russian = tg.add_user(language_code="ru")
    answer_to(tg, russian, "/lang ru")
    assert "Эта подпись — догадка" in (caption(tg, russian, 4).text or "")
