"""Privacy and the doors: /forget leaves nothing about the user in any table (also while a reply
is on its way), webhook mode takes no delivery without the secret token, and in a group a button
or a /forget confirmation is for the person it belongs to, and /caption counts against the quota
of whoever asked."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from bot.bench.bot_process import STARTUP_TIMEOUT
from bot.bench.fake_telegram import Call, FakeTelegram
from bot.bench.ports import free_port
from tests import images
from tests.conftest import StartBot
from tests.e2e.conftest import WAIT, is_caption, query, tables_with, wait_until

pytestmark = pytest.mark.e2e


def mentions(database: str, user_id: int, texts: list[str]) -> list[str]:
    """Every row of every table that holds the user's id in any column, or one of `texts`."""
    found = []
    for table in tables_with(database):
        for row in query(database, f'SELECT * FROM "{table}"'):
            if user_id in row or any(value in texts for value in row if isinstance(value, str)):
                found.append(f"{table}: {row!r}"[:300])
    return found


def english(reply: Call) -> str:
    return (reply.text or "").splitlines()[0]


def test_forget_leaves_nothing_in_any_table_even_with_a_reply_on_its_way(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process()
    user = tg.add_user("Вера", language_code="ru")  # captions in English and Russian
    tg.wait_reply(tg.send_text(user, "/lang both"), timeout=WAIT)
    first = tg.wait_reply(tg.send_photo(user, images.jpeg(300)), timeout=WAIT)
    confirm = tg.wait_reply(tg.send_text(user, "/forget"), timeout=WAIT)

    tg.hold("sendMessage")
    second = tg.send_photo(user, images.jpeg(301))
    tg.wait_state(lambda: tg.held("sendMessage") >= 1, "the second caption on its way")
    tg.press_button(user, confirm, data=f"forget:{user.id}:yes")
    tg.wait_for_calls(lambda c: c.ok and c.method == "editMessageText", timeout=WAIT)
    tg.release("sendMessage")
    late = tg.wait_reply(second, timeout=WAIT)
    assert bot.stop() == 0

    captions = [english(first), english(late)]
    assert all(is_caption(c, vocab) for c in captions), captions
    assert mentions(bot.database, user.id, captions) == []


def post(url: str, update: dict[str, object] | bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("configured", ["s3cret-token", None], ids=["WEBHOOK_SECRET", "derived"])
def test_webhook_refuses_deliveries_without_the_secret_token(
    bot_process: StartBot, fake_telegram: FakeTelegram, configured: str | None
) -> None:
    tg = fake_telegram
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {"WEBHOOK_URL": url, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)}
    if configured:
        env["WEBHOOK_SECRET"] = configured
    bot = bot_process(wait=False, **env)
    tg.wait_for_calls(lambda c: c.ok and c.method == "setWebhook", timeout=STARTUP_TIMEOUT)
    assert tg.webhook is not None
    secret = tg.webhook["secret_token"]
    assert secret and (configured is None or secret == configured)

    intruder = tg.add_user("Mallory")
    forged = [
        tg.user_message(intruder, photo=tg.photo_sizes(images.jpeg(310 + i))) for i in range(2)
    ]
    assert post(url, {"update_id": 1, "message": forged[0]}, None) == 403
    assert post(url, {"update_id": 2, "message": forged[1]}, "wrong-" + secret) == 403

    # With the right token, a body that is not an Update (or not JSON) is refused, and neither
    # its content nor the token reaches the log
    assert post(url, {"update_id": 3, "message": "my private words"}, secret) == 400
    assert post(url, b"not json: my private words", secret) >= 400

    # The fake server delivers with the right token: that is taken, the forged ones never were.
    honest = tg.send_photo(tg.add_user("Alice"), images.jpeg(312))
    tg.wait_reply(honest, timeout=WAIT)
    assert bot.stop() == 0
    log = bot.log_text()
    assert "a delivery that is not an Update was refused" in log
    assert "private words" not in log and secret not in log
    assert not any(tg.replies_to(m) for m in forged)
    assert not tg.calls(chat_id=intruder.id)


def test_in_a_group_buttons_and_forget_are_for_their_owner_and_caption_uses_the_askers_quota(
    bot_process: StartBot, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    bot = bot_process(RATE_LIMIT_PER_MINUTE="2")
    poster, asker = tg.add_user("Olga"), tg.add_user("Petr")
    group = tg.add_group(creator=poster)
    photos = [tg.send_photo(poster, images.jpeg(320 + i), chat=group) for i in range(3)]
    asks = [tg.send_text(asker, "/caption", chat=group, reply_to=photo) for photo in photos]
    reply = tg.wait_reply(photos[0], timeout=WAIT)
    assert is_caption(reply.text, vocab)
    tg.wait_reply(photos[1], timeout=WAIT)
    notice = tg.wait_reply(asks[2], timeout=WAIT)  # Petr asked for 3 with a quota of 2
    assert not is_caption(notice.text, vocab) and "2" in (notice.text or "")
    assert not tg.replies_to(photos[2])
    # Olga's own quota is untouched: her mention is captioned.
    own = tg.send_photo(poster, images.jpeg(330), caption="@captioner_test_bot ?", chat=group)
    assert is_caption(tg.wait_reply(own, timeout=WAIT).text, vocab)

    # The buttons under Petr's caption are Petr's.
    for data in [b["callback_data"] for b in reply.buttons]:
        query_id = tg.press_button(poster, reply, data=data)
        answer = tg.wait_for_calls(
            lambda c, q=query_id: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == q
            ),
            timeout=WAIT,
        )[0]
        assert answer.params.get("text") == "These buttons are for someone else."
    assert not [c for c in tg.messages(group.id) if c.method == "sendPhoto"]

    # So is Petr's /forget confirmation.
    confirm = tg.wait_reply(tg.send_text(asker, "/forget", chat=group), timeout=WAIT)
    query_id = tg.press_button(poster, confirm, data=f"forget:{asker.id}:yes")
    answer = tg.wait_for_calls(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
        ),
        timeout=WAIT,
    )[0]
    assert answer.params.get("text") == "These buttons are for someone else."
    wait_until(lambda: bot.running, "the bot to keep running")
    assert bot.stop() == 0
    kept = query(bot.database, "SELECT COUNT(*) FROM jobs WHERE user_id = :u", u=asker.id)
    assert kept == [(2,)]
