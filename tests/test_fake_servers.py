"""The fake Telegram and translation servers, checked with the real clients the bot uses:
python-telegram-bot's `Bot` and deep-translator's translators."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import ClientSession, web
from deep_translator import GoogleTranslator, LibreTranslator, MyMemoryTranslator
from deep_translator.exceptions import RequestError
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from bot.bench.fake_telegram import FakeTelegram
from tests import images
from tests.fake_translate import FakeTranslate, expected


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


async def test_get_me_and_commands(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.username == fake.bot_user.username
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("lang", "Language")])
    await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    assert [c["command"] for c in fake.commands()] == ["start", "lang"]
    assert fake.commands(language_code="ru") == [{"command": "start", "description": "Начать"}]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_a_method_the_bot_does_not_call_is_not_found(fake: FakeTelegram) -> None:
    async with ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/deleteMessage"
        async with session.post(url, json={"chat_id": 1, "message_id": 1}) as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found"


async def test_wrong_token_is_refused(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", base_url=fake.base_url).initialize()
    assert fake.calls() == []


async def test_updates_long_poll_offsets_and_photo_download(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Ann")
    assert await bot.get_updates(timeout=0) == ()

    async def poll() -> tuple[Update, ...]:
        return await bot.get_updates(timeout=10)

    waiting = asyncio.create_task(poll())
    await asyncio.sleep(0.2)
    sent = await asyncio.to_thread(fake.send_photo, user, images.jpeg(1), caption="look")
    updates = await waiting
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.message_id == sent["message_id"]
    assert message.caption == "look"
    assert [p.width for p in message.photo] == [90, 320, 640]
    # Not confirmed yet: delivered again; then confirmed by the next offset.
    assert (await bot.get_updates(timeout=0))[0].update_id == updates[0].update_id
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    fake.wait_confirmed(updates[0].update_id, timeout=1)

    file = await message.photo[-1].get_file()
    data = bytes(await file.download_as_bytearray())
    assert Image.open(io.BytesIO(data)).size == (640, 480)
    assert fake.downloads == [message.photo[-1].file_id]


async def test_second_poller_conflicts_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(fake.token, base_url=fake.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first


async def test_allowed_updates_filter(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user()
    fake.send_text(user, "hello")
    fake.send_inline_query(user, "dog")
    updates = await bot.get_updates(timeout=0, allowed_updates=["inline_query"])
    assert [u.inline_query.query for u in updates if u.inline_query] == ["dog"]
    assert len(updates) == 1


async def test_send_reply_edit_and_buttons(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user("Bob", language_code="ru")
    photo = fake.send_photo(user, images.jpeg(2))
    command = fake.send_text(user, "/history 2")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 8}]

    await bot.send_chat_action(user.id, "typing")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="h:2")]])
    reply = await bot.send_message(
        user.id,
        "<b>a dog</b> &lt;unk&gt;",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(photo["message_id"]),
        reply_markup=markup,
    )
    assert reply.text == "a dog <unk>"
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == photo["message_id"]
    call = fake.wait_reply(photo, timeout=1)
    assert call.text == "a dog <unk>" and call.buttons == [{"text": "Next", "callback_data": "h:2"}]
    assert [c.method for c in fake.calls()] == ["getMe", "sendChatAction", "sendMessage"]

    query_id = fake.press_button(user, call, text="Next")
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.data == "h:2" and query.id == query_id
    assert query.message is not None and query.message.message_id == reply.message_id
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)

    edited = await bot.edit_message_text("page 2", chat_id=user.id, message_id=reply.message_id)
    assert not isinstance(edited, bool) and edited.text == "page 2"
    stored = fake.message(user.id, reply.message_id)
    assert stored is not None and stored["text"] == "page 2"
    assert "reply_markup" not in stored  # editing without a markup removes the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("page 2", chat_id=user.id, message_id=reply.message_id)


async def test_telegram_refusals(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user()
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(user.id, "hi", reply_parameters=ReplyParameters(999))
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(user.id, "a <unk> dog", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(user.id, "a dog.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
        await bot.send_message(user.id, "hi", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(user.id, "dancing")
    fake.block_bot(user)
    with pytest.raises(Forbidden):
        await bot.send_message(user.id, "hi")
    assert all(not c.ok for c in fake.calls() if c.method != "getMe")


async def test_big_file_is_refused_by_get_file(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user()
    message = fake.send_document(
        user, b"tiny", file_name="huge.jpg", mime_type="image/jpeg", file_size=25 * 1024 * 1024
    )
    assert message["document"]["file_size"] == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(message["document"]["file_id"])
    assert fake.downloads == []


async def test_injected_429_and_hold(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user()
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "hi")
    error = fake.calls("sendMessage")[0].error
    assert error == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert (await bot.send_message(user.id, "hi")).text == "hi"
    assert [c.ok for c in fake.calls("sendMessage")] == [False, True]

    fake.hold("sendMessage")
    sending = asyncio.create_task(bot.send_message(user.id, "held"))
    await asyncio.sleep(0.3)
    assert not sending.done()
    fake.release("sendMessage")
    assert (await sending).text == "held"


def test_a_held_request_whose_client_went_away_is_dropped(fake: FakeTelegram) -> None:
    user = fake.add_user()
    fake.hold("sendMessage")
    body = json.dumps({"chat_id": user.id, "text": "lost"}).encode()
    head = (
        f"POST /bot{fake.token}/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", fake.port)) as sock:
        sock.sendall(head.encode() + body)
        fake.wait_state(lambda: fake.held("sendMessage") == 1, "the request to be held")
    fake.release("sendMessage")
    fake.wait_state(lambda: bool(fake.dropped_calls), "the request to be dropped")
    assert [c.params["text"] for c in fake.dropped_calls] == ["lost"]
    assert fake.calls() == []
    assert fake.held("sendMessage") == 0


async def test_send_photo_upload(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user()
    sent = await bot.send_photo(user.id, images.png(3), caption="map")
    assert sent.caption == "map" and sent.photo[-1].width == 320
    call = fake.calls("sendPhoto")[0]
    assert Image.open(io.BytesIO(call.files["photo"])).size == (320, 240)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(user.id, b"not an image")


async def test_group_members(fake: FakeTelegram, bot: Bot) -> None:
    owner, admin, member = fake.add_user("O"), fake.add_user("A"), fake.add_user("M")
    group = fake.add_group("Club", creator=owner)
    fake.set_member_status(group, admin, "administrator")
    fake.set_member_status(group, member, "member")
    assert (await bot.get_chat_member(group.id, admin.id)).status == "administrator"
    assert (await bot.get_chat_member(group.id, member.id)).status == "member"
    photo = fake.send_photo(member, images.jpeg(5), chat=group)
    ask = fake.send_text(admin, f"/caption@{fake.bot_user.username}", chat=group, reply_to=photo)
    updates = await bot.get_updates(timeout=0)
    asked = updates[-1].message
    assert asked is not None and asked.reply_to_message is not None
    assert asked.reply_to_message.message_id == photo["message_id"]
    assert ask["chat"]["type"] == "supergroup"
    album = fake.send_album(member, [images.jpeg(6), images.jpeg(7)], chat=group)
    assert album[0]["media_group_id"] == album[1]["media_group_id"]


async def test_webhook_delivery_with_secret_token(fake: FakeTelegram, bot: Bot) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        await received.put((secret, await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="tok")
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        user = fake.add_user()
        sent = await asyncio.to_thread(fake.send_text, user, "hi")
        secret, update = await asyncio.wait_for(received.get(), 10)
        assert secret == "tok" and update["message"]["message_id"] == sent["message_id"]
        await asyncio.to_thread(
            fake.wait_state, lambda: not fake.pending_updates(), "the delivery to be confirmed"
        )
        assert await bot.delete_webhook()
    finally:
        await runner.cleanup()


def test_translators_against_the_fake() -> None:
    with FakeTranslate() as fake:
        google = GoogleTranslator(source="en", target="ru")
        google._base_url = fake.google_url
        assert google.translate("a dog runs on the grass") == "собака бежит по траве"
        memory = MyMemoryTranslator(source="en-GB", target="ru-RU")
        memory._base_url = fake.mymemory_url
        assert memory.translate("a cat in water") == expected("a cat in water")
        libre = LibreTranslator(source="en", target="ru", api_key="k", custom_url=fake.libre_url)
        assert libre.translate("a dog") == "собака"
        assert [r.backend for r in fake.requests] == ["google", "mymemory", "libre"]
        assert fake.requests[1].source == "en-GB" and fake.requests[1].target == "ru-RU"
        fake.set_mode("fail", "google")
        with pytest.raises(RequestError):
            google.translate("a dog")
