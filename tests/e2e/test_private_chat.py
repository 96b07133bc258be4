"""A private chat with the real bot: photos, image files, bad files, text, /start and /help."""

from __future__ import annotations

import pytest

from tests import images
from tests.e2e.conftest import WAIT, Shared, answer_to, has_cyrillic, is_caption

pytestmark = pytest.mark.e2e

BIG = 25 * 1024 * 1024


def test_command_list_is_registered_at_start(live: Shared) -> None:
    english = {c["command"] for c in live.telegram.commands()}
    assert {"start", "help", "lang", "history", "forget"} <= english
    russian = live.telegram.commands(language_code="ru")
    assert {c["command"] for c in russian} == english
    assert all(has_cyrillic(c["description"]) for c in russian)


def test_photo_gets_typing_then_a_caption_in_reply(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user("Ann")
    photo = tg.send_photo(user, images.jpeg(1))
    reply = tg.wait_reply(photo, timeout=WAIT)
    assert is_caption(reply.text, vocab), reply.text
    typing = tg.calls("sendChatAction", chat_id=user.id)
    assert typing and typing[0].params["action"] == "typing"
    assert tg.calls_log.index(typing[0]) < tg.calls_log.index(reply)
    sizes = {size["file_id"] for size in photo["photo"]}
    assert len(sizes & set(tg.downloads)) == 1  # one size of the photo was fetched


def test_photo_with_its_own_caption_is_captioned(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user()
    photo = tg.send_photo(user, images.jpeg(2), caption="What is in this picture?")
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)


@pytest.mark.parametrize(
    ("data", "file_name", "mime_type"),
    [
        (images.png(3), "drawing.png", "image/png"),
        (images.webp(4), "sticker.webp", "image/webp"),
        (images.jpeg(5), "IMG_0005.JPG", "image/jpeg"),
        (images.heic(9), "IMG_0009.HEIC", "image/heic"),
    ],
    ids=["png", "webp", "jpeg", "heic"],
)
def test_image_sent_as_a_file_is_captioned(
    live: Shared, vocab: frozenset[str], data: bytes, file_name: str, mime_type: str
) -> None:
    tg = live.telegram
    user = tg.add_user()
    message = tg.send_document(user, data, file_name=file_name, mime_type=mime_type)
    assert is_caption(tg.wait_reply(message, timeout=WAIT).text, vocab)
    assert message["document"]["file_id"] in tg.downloads


def test_a_file_that_is_not_an_image_gets_a_polite_reply(
    live: Shared, vocab: frozenset[str]
) -> None:
    tg = live.telegram
    user = tg.add_user()
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    message = tg.send_document(user, pdf, file_name="report.pdf", mime_type="application/pdf")
    reply = tg.wait_reply(message, timeout=WAIT)
    assert not is_caption(reply.text, vocab)
    assert "JPEG" in (reply.text or "")  # it says what it accepts
    assert message["document"]["file_id"] not in tg.downloads


@pytest.mark.parametrize(
    ("data", "file_name", "mime_type"),
    [
        (images.truncated_jpeg(6), "cut.jpg", "image/jpeg"),
        (b"this is not a PNG at all", "fake.png", "image/png"),
    ],
    ids=["truncated-jpeg", "text-named-png"],
)
def test_a_broken_image_gets_a_polite_reply_and_the_bot_carries_on(
    live: Shared, vocab: frozenset[str], data: bytes, file_name: str, mime_type: str
) -> None:
    tg = live.telegram
    user = tg.add_user()
    broken = tg.send_document(user, data, file_name=file_name, mime_type=mime_type)
    reply = tg.wait_reply(broken, timeout=WAIT)
    assert not is_caption(reply.text, vocab)
    assert reply.text
    photo = tg.send_photo(user, images.jpeg(7))
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    assert len(tg.replies_to(broken)) == 1


def test_a_file_over_20_mb_is_refused_without_downloading(
    live: Shared, vocab: frozenset[str]
) -> None:
    tg = live.telegram
    user = tg.add_user()
    message = tg.send_document(
        user, images.jpeg(8), file_name="huge.jpg", mime_type="image/jpeg", file_size=BIG
    )
    reply = tg.wait_reply(message, timeout=WAIT)
    assert not is_caption(reply.text, vocab)
    assert "20" in (reply.text or "")
    assert message["document"]["file_id"] not in tg.downloads


def test_text_gets_a_one_line_hint(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user()
    message = tg.send_text(user, "hello, what can you do?")
    reply = tg.wait_reply(message, timeout=WAIT)
    assert reply.text and "\n" not in reply.text.strip()
    assert not is_caption(reply.text, vocab)


def test_unknown_command_gets_a_polite_reply(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    message = tg.send_text(user, "/frobnicate")
    reply = tg.wait_message(user, timeout=WAIT)
    assert "/help" in (reply.text or "")
    assert reply.reply_to in (None, message["message_id"])


@pytest.mark.parametrize("command", ["/start", "/help"])
def test_start_and_help_in_english(live: Shared, command: str) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="en")
    reply = answer_to(tg, user, command)
    assert "photo" in (reply.text or "").lower()
    assert not has_cyrillic(reply.text)


@pytest.mark.parametrize("command", ["/start", "/help"])
def test_start_and_help_in_russian_for_a_russian_user(live: Shared, command: str) -> None:
    tg = live.telegram
    user = tg.add_user("Иван", language_code="ru")
    reply = answer_to(tg, user, command)
    assert has_cyrillic(reply.text)
    assert "фото" in (reply.text or "").lower()


def test_help_follows_the_lang_choice_over_the_telegram_language(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user(language_code="en")
    answer_to(tg, user, "/lang ru")
    assert has_cyrillic(answer_to(tg, user, "/help").text)
