"""The two buttons under a caption, with the real bot: the attention map (sent once, however many
presses) and the other beam captions with their scores."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.attention_map import COLUMNS, GAP, TILE
from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from tests import images
from tests.e2e.conftest import WAIT, Shared

pytestmark = pytest.mark.e2e


def captioned(tg: FakeTelegram, user: FakeUser, seed: int) -> Call:
    return tg.wait_reply(tg.send_photo(user, images.jpeg(seed)), timeout=WAIT)


def button(reply: Call, prefix: str) -> str:
    (data,) = [b["callback_data"] for b in reply.buttons if b["callback_data"].startswith(prefix)]
    return str(data)


def answered(tg: FakeTelegram, query_id: str) -> Call:
    return tg.wait_for_calls(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
        ),
        timeout=WAIT,
    )[0]


def test_attention_map_is_sent_once_as_a_grid(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    reply = captioned(tg, user, 61)
    data = button(reply, "attn:")
    first = tg.press_button(user, reply, data=data)
    second = tg.press_button(user, reply, data=data)  # before the first is handled
    sent = tg.wait_for_messages(
        lambda c: (
            c.method == "sendPhoto" and c.chat_id == user.id and c.reply_to == reply.message_id
        ),
        timeout=WAIT,
    )
    answered(tg, first)
    answered(tg, second)
    tg.wait_for_calls(
        lambda c: c.method == "editMessageReplyMarkup" and c.chat_id == user.id, timeout=WAIT
    )
    maps = [c for c in tg.messages(user.id) if c.method == "sendPhoto"]
    assert maps == sent[:1] and len(sent) == 1
    (upload,) = maps[0].files.values()
    grid = Image.open(io.BytesIO(upload))
    words = (reply.text or "").rstrip(".").split()
    assert grid.width == min(COLUMNS, len(words) + 1) * (TILE + GAP) + GAP
    assert reply.text and reply.text.rstrip(".") in (maps[0].text or "")
    current = tg.message(user.id, int(reply.message_id or 0))
    assert current is not None
    kept = [b["callback_data"] for row in current["reply_markup"]["inline_keyboard"] for b in row]
    assert kept == [button(reply, "alts:")]  # the map's button is gone, the other stays


def test_other_captions_are_added_under_the_caption(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    reply = captioned(tg, user, 62)
    query_id = tg.press_button(user, reply, data=button(reply, "alts:"))
    answered(tg, query_id)
    edit = tg.wait_for_calls(
        lambda c: (
            c.method == "editMessageText"
            and c.chat_id == user.id
            and c.params.get("message_id") == reply.message_id
        ),
        timeout=WAIT,
    )[0]
    text = edit.text or ""
    assert text.startswith(reply.text or "")
    lines = text.splitlines()
    header = lines.index("Other captions I considered (score: closer to 0 is surer):")
    others = lines[header + 1 :]
    assert others and all(line.startswith("• ") and line.endswith(")") for line in others)
    scores = [float(line.rsplit("(", 1)[1].rstrip(")")) for line in others]
    assert scores == sorted(scores, reverse=True)  # best first
    current = tg.message(user.id, int(reply.message_id or 0))
    assert current is not None
    kept = [b["callback_data"] for row in current["reply_markup"]["inline_keyboard"] for b in row]
    assert kept == [button(reply, "attn:")]


def test_attention_map_apologises_if_the_photo_is_gone_and_works_when_pressed_again(
    live: Shared,
) -> None:
    tg = live.telegram
    user = tg.add_user()
    reply = captioned(tg, user, 63)
    data = button(reply, "attn:")
    tg.fail_next("getFile", 400, description="Bad Request: invalid file_id")
    tg.press_button(user, reply, data=data)
    apology = tg.wait_for_messages(
        lambda c: c.chat_id == user.id and c.reply_to == reply.message_id, timeout=WAIT
    )[0]
    assert apology.method == "sendMessage" and "photo" in (apology.text or "").lower()
    tg.press_button(user, reply, data=data)
    tg.wait_for_messages(lambda c: c.method == "sendPhoto" and c.chat_id == user.id, timeout=WAIT)
