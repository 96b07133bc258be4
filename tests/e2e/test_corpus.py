"""Every file gets an answer: a corpus of broken, odd and non-image files, each sent as a photo
and as a document to the real bot, is answered politely in the user's language (readable images
are captioned), nothing crashes, a good photo afterwards is captioned, and the bot's memory does
not grow by more than 100 MB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.bench.fake_telegram import FakeTelegram
from tests import images
from tests.conftest import StartBot
from tests.corpus import Item, corpus
from tests.e2e.conftest import WAIT, has_cyrillic, is_caption

pytestmark = pytest.mark.e2e

MEMORY_GROWTH_LIMIT = 100 * 1024 * 1024


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_every_file_gets_a_polite_answer_and_nothing_leaks(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process(RATE_LIMIT_PER_MINUTE="1000")
    user = tg.add_user("Ольга", language_code="ru")
    warm_up = tg.send_photo(user, images.jpeg(1))  # the model's first batch allocates its memory
    tg.wait_reply(warm_up, timeout=WAIT)
    assert bot.process is not None
    before = resident_bytes(bot.process.pid)

    items = corpus()
    sent: list[tuple[str, Item, dict[str, Any]]] = []
    for item in items:
        document = tg.send_document(
            user, item.data, file_name=item.file_name, mime_type=item.mime_type
        )
        sent.append(("document", item, document))
        sent.append(("photo", item, tg.send_raw_photo(user, item.data)))
    for how, item, message in sent:
        reply = tg.wait_reply(message, timeout=WAIT)
        text = reply.text or ""
        assert text.strip(), (how, item.name)
        assert has_cyrillic(text), (how, item.name, text)
        first_line = text.splitlines()[0]
        if item.expected(how):
            assert is_caption(first_line, vocab), (how, item.name, text)
        else:
            assert not is_caption(first_line, vocab), (how, item.name, text)

    good = tg.send_photo(user, images.jpeg(2))
    assert is_caption((tg.wait_reply(good, timeout=WAIT).text or "").splitlines()[0], vocab)
    after = resident_bytes(bot.process.pid)
    assert bot.running
    assert after - before < MEMORY_GROWTH_LIMIT, (before >> 20, after >> 20)
    assert bot.stop() == 0
    for how, item, message in sent:
        assert len(tg.replies_to(message)) == 1, (how, item.name)
    log = bot.log_text()
    assert "Traceback" not in log and "error while handling" not in log
