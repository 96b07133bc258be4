"""/stats with the real bot: figures for the users in ADMIN_IDS, a polite refusal for others."""

from __future__ import annotations

import pytest

from bot.bench.fake_telegram import FakeTelegram
from bot.texts import t
from tests import images
from tests.conftest import StartBot
from tests.e2e.conftest import WAIT, query, wait_until
from tests.fake_translate import FakeTranslate

pytestmark = pytest.mark.e2e


def test_stats_for_an_admin_and_a_refusal_for_others(
    bot_process: StartBot, fake_telegram: FakeTelegram, fake_translate: FakeTranslate
) -> None:
    tg = fake_telegram
    admin, user = tg.add_user("Admin"), tg.add_user("Ruslan", language_code="ru")
    bot = bot_process(ADMIN_IDS=f"{admin.id},424242")

    refusal = tg.wait_reply(tg.send_text(user, "/stats"), timeout=WAIT)
    assert "Queue" not in (refusal.text or "") and "/stats" in (refusal.text or "")

    tg.wait_reply(tg.send_photo(admin, images.jpeg(71)), timeout=WAIT)
    fake_translate.set_mode("fail")
    tg.wait_reply(tg.send_text(user, "/lang ru"), timeout=WAIT)
    untranslated = tg.wait_reply(tg.send_photo(user, images.jpeg(72)), timeout=WAIT)
    # a Russian chat (Ruslan's, /lang ru) is told in Russian
    assert (untranslated.text or "").splitlines()[-1] == t("translation_failed", "ru")

    # a job is marked done just after Telegram took its reply
    done = "SELECT COUNT(*) FROM jobs WHERE status = 'done'"
    wait_until(lambda: query(bot.database, done)[0][0] == 2, "both jobs to be marked done")
    stats = tg.wait_reply(tg.send_text(admin, "/stats"), timeout=WAIT).text or ""
    assert "Queue depth: 0" in stats
    assert "Jobs per status: done 2" in stats
    assert "Photos captioned: 2 in the last hour, 2 in the last day" in stats
    latency = stats.split("Latency (last day): ", 1)[1].splitlines()[0]
    assert "n/a" not in latency and latency.count(" s") == 2
    assert "Translation failures: 1 in the last day, 1 in all" in stats
