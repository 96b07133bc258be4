"""Floods of things other than photos: a command sent 200 times, inline queries, button presses,
edited messages, stickers, voice and video messages. Each is answered politely or ignored, one
user gets no more than UPDATES_PER_MINUTE answers, an attention map is drawn once however often
its button is pressed, and everyone else is still served."""

from __future__ import annotations

import time

import pytest

from bot.bench.fake_telegram import FakeTelegram
from tests import images
from tests.conftest import StartBot
from tests.e2e.conftest import WAIT, is_caption

pytestmark = pytest.mark.e2e

BUDGET = 10  # UPDATES_PER_MINUTE of the bot under test
SETTLE_S = 3.0  # after the flood is handled, how long to watch for late answers


def test_floods_of_other_updates_are_bounded_and_others_are_served(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process(UPDATES_PER_MINUTE=str(BUDGET))
    history, media, inline, presser = (tg.add_user(n) for n in ("H", "M", "I", "P"))

    # the presser's caption first (a photo is not counted), then everyone floods at once
    caption = tg.wait_reply(tg.send_photo(presser, images.jpeg(400)), timeout=WAIT)
    attention = next(
        b["callback_data"] for b in caption.buttons if b["callback_data"][:5] == "attn:"
    )
    for _ in range(200):
        tg.send_text(history, "/history")
    for n in range(30):
        kind = ("sticker", "voice", "video")[n % 3]
        content = {
            "sticker": {"file_id": f"st{n}", "file_unique_id": f"st{n}", "type": "regular",
                        "width": 512, "height": 512, "is_animated": False, "is_video": False},
            "voice": {"file_id": f"vo{n}", "file_unique_id": f"vo{n}", "duration": 2},
            "video": {"file_id": f"vi{n}", "file_unique_id": f"vi{n}", "width": 320,
                      "height": 240, "duration": 3},
        }[kind]  # fmt: skip
        tg.push_update({"message": tg.user_message(media, **{kind: content})})
    edited = tg.user_message(media, text="hello")
    for n in range(50):
        tg.push_update({"edited_message": {**edited, "text": f"hello {n}", "edit_date": n + 1}})
    queries = [tg.send_inline_query(inline, f"dog {n}") for n in range(60)]
    presses = [tg.press_button(presser, caption, data=attention) for _ in range(60)]

    bystander = tg.add_user("Bystander")
    assert is_caption(tg.wait_reply(tg.send_photo(bystander, images.jpeg(401))).text, vocab)
    tg.wait_for_messages(lambda c: c.chat_id == history.id, count=BUDGET, timeout=WAIT)
    time.sleep(SETTLE_S)
    assert bot.stop() == 0

    assert len(tg.messages(history.id)) == BUDGET
    assert len(tg.messages(media.id)) == BUDGET  # a hint each for the first ones, no edit answered
    answered = {c.params.get("inline_query_id") for c in tg.calls("answerInlineQuery") if c.ok}
    assert len(answered & set(queries)) == BUDGET
    button_answers = {
        c.params.get("callback_query_id") for c in tg.calls("answerCallbackQuery") if c.ok
    }
    assert len(button_answers & set(presses)) == BUDGET
    maps = [c for c in tg.messages(presser.id) if c.method == "sendPhoto"]
    assert len(maps) == 1  # drawn and sent once, the other presses are told it is there
    log = bot.log_text()
    assert "over UPDATES_PER_MINUTE, dropped" in log and "Traceback" not in log
