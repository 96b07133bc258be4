"""Group chats with the real bot: /caption in reply, a mention, /auto, /lang for admins, albums,
and one answer per photo however many people ask."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bench.fake_telegram import Call, FakeGroup, FakeTelegram, FakeUser
from tests import images
from tests.e2e.conftest import WAIT, Shared, has_cyrillic, is_caption, query

pytestmark = pytest.mark.e2e


def bot_name(tg: FakeTelegram) -> str:
    return f"@{tg.bot_user.username}"


def downloaded(tg: FakeTelegram, photo: dict[str, Any]) -> bool:
    """Whether the bot fetched any size of this photo (it does for every photo it captions)."""
    return any(size["file_id"] in tg.downloads for size in photo["photo"])


def mention_photo(tg: FakeTelegram, user: FakeUser, group: FakeGroup, seed: int) -> Call:
    """A photo that mentions the bot, and its reply: everything sent before it was handled."""
    photo = tg.send_photo(
        user, images.jpeg(seed), caption=f"{bot_name(tg)} what is it?", chat=group
    )
    return tg.wait_reply(photo, timeout=WAIT)


def command(tg: FakeTelegram, user: FakeUser, group: FakeGroup, text: str) -> Call:
    message = tg.send_text(user, text, chat=group)
    return tg.wait_reply(message, timeout=WAIT)


def test_caption_in_reply_to_a_photo(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner, friend = tg.add_user("Olga"), tg.add_user("Petr")
    group = tg.add_group(creator=owner)
    photo = tg.send_photo(owner, images.jpeg(21), chat=group)
    tg.send_text(friend, "/caption", chat=group, reply_to=photo)
    reply = tg.wait_reply(photo, timeout=WAIT)
    assert is_caption(reply.text, vocab), reply.text
    other = tg.send_photo(owner, images.jpeg(22), chat=group)
    tg.send_text(friend, f"/caption{bot_name(tg)}", chat=group, reply_to=other)
    assert is_caption(tg.wait_reply(other, timeout=WAIT).text, vocab)


def test_photos_nobody_asks_about_are_left_alone(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    quiet = tg.send_photo(owner, images.jpeg(23), caption="our holiday", chat=group)
    tg.send_text(owner, "nice weather", chat=group)
    mention_photo(tg, owner, group, 24)
    assert not downloaded(tg, quiet)
    assert tg.replies_to(quiet) == []
    assert [c for c in tg.messages(group.id) if not is_caption(c.text, vocab)] == []


def test_caption_without_a_photo_explains_itself(live: Shared) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    assert "reply" in (command(tg, owner, group, "/caption").text or "").lower()
    text = tg.send_text(owner, "just words", chat=group)
    ask = tg.send_text(owner, "/caption", chat=group, reply_to=text)
    assert "photo" in (tg.wait_reply(ask, timeout=WAIT).text or "").lower()


def test_mention_in_a_photo_caption(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    reply = mention_photo(tg, owner, group, 25)
    assert is_caption(reply.text, vocab)
    assert reply.buttons  # the attention-map and other-captions buttons


def test_one_photo_asked_for_by_several_people_is_answered_once(
    live: Shared, vocab: frozenset[str]
) -> None:
    tg = live.telegram
    owner, second, third = tg.add_user(), tg.add_user(), tg.add_user()
    group = tg.add_group(creator=owner)
    photo = tg.send_photo(owner, images.jpeg(26), caption=f"{bot_name(tg)} ?", chat=group)
    tg.send_text(second, "/caption", chat=group, reply_to=photo)
    tg.send_text(third, f"/caption{bot_name(tg)}", chat=group, reply_to=photo)
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    late = tg.send_text(second, "/caption", chat=group, reply_to=photo)  # after it was answered
    mention_photo(tg, owner, group, 27)  # everything above has been handled by now
    assert len(tg.replies_to(photo)) == 1
    assert tg.replies_to(late) == []


def test_auto_is_for_admins_and_captions_every_photo(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner, member = tg.add_user("Owner"), tg.add_user("Member")
    group = tg.add_group(creator=owner)
    refusal = command(tg, member, group, "/auto on")
    assert "administrator" in (refusal.text or "").lower()
    ignored = tg.send_photo(member, images.jpeg(28), chat=group)
    mention_photo(tg, owner, group, 29)
    assert not downloaded(tg, ignored)

    answer = command(tg, owner, group, "/auto on")
    text = (answer.text or "").lower()
    assert "admin" in text and "privacy" in text  # what the bot needs to see every photo
    photo = tg.send_photo(member, images.jpeg(30), chat=group)
    assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)

    tg.set_member_status(group, member, "administrator")
    assert command(tg, member, group, "/auto off").text
    after = tg.send_photo(owner, images.jpeg(31), chat=group)
    mention_photo(tg, owner, group, 32)
    assert not downloaded(tg, after)


def test_auto_on_warns_until_the_bot_can_see_every_message(live: Shared) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    warning = command(tg, owner, group, "/auto on").text or ""
    assert "cannot see" in warning and "/caption" in warning  # a plain member in privacy mode
    tg.set_member_status(group, tg.bot_user, "administrator")
    confirmation = command(tg, owner, group, "/auto on").text or ""
    assert "cannot see" not in confirmation and "every photo" in confirmation


def test_auto_in_a_private_chat_says_it_is_for_groups(live: Shared) -> None:
    tg = live.telegram
    user = tg.add_user()
    message = tg.send_text(user, "/auto on")
    assert "group" in (tg.wait_reply(message, timeout=WAIT).text or "").lower()


def test_group_lang_is_the_groups_and_only_admins_change_it(live: Shared) -> None:
    tg = live.telegram
    owner, member = tg.add_user("Owner"), tg.add_user("Member")
    group = tg.add_group(creator=owner)
    assert "administrator" in (command(tg, member, group, "/lang ru").text or "").lower()
    prompt = command(tg, owner, group, "/lang")
    query_id = tg.press_button(member, prompt, data="lang:ru")
    refused = tg.wait_for_calls(
        lambda c: c.params.get("callback_query_id") == query_id, timeout=WAIT
    )[0]
    assert refused.params.get("show_alert") and "administrator" in refused.params["text"].lower()

    assert command(tg, owner, group, "/lang ru").text
    photo = tg.send_photo(member, images.jpeg(33), caption=bot_name(tg), chat=group)
    assert has_cyrillic(tg.wait_reply(photo, timeout=WAIT).text)  # the group's choice, for all
    current = tg.message(group.id, int(prompt.message_id or 0))
    assert current is not None and "edit_date" not in current  # the member's press changed nothing


def job_of(database: str, message: dict[str, Any]) -> tuple[int, str]:
    """The bot's job for a photo message: its id and caption."""
    rows = query(
        database,
        "SELECT id, caption FROM jobs WHERE chat_id = :chat AND message_id = :message",
        chat=message["chat"]["id"],
        message=message["message_id"],
    )
    assert rows, f"no job for message {message['message_id']}"
    return int(str(rows[0][0])), str(rows[0][1])


def album_reply(tg: FakeTelegram, album: list[dict[str, Any]]) -> Call:
    first = album[0]
    return tg.wait_reply(first, timeout=WAIT)


def assert_one_numbered_reply(
    live: Shared, album: list[dict[str, Any]], reply: Call, vocab: frozenset[str]
) -> None:
    """One reply to the album's first photo: line n is photo n's caption, as the bot stored it for
    that photo's message, and the buttons of row n are that photo's."""
    tg = live.telegram
    lines = (reply.text or "").splitlines()
    assert [line.split(". ", 1)[0] for line in lines] == [str(n) for n in range(1, len(album) + 1)]
    assert all(is_caption(line.split(". ", 1)[1], vocab) for line in lines), reply.text
    assert len(reply.buttons) == 2 * len(album)  # both buttons for each photo
    for number, (message, line) in enumerate(zip(album, lines, strict=True), 1):
        job_id, caption = job_of(live.bot.database, message)
        assert line == f"{number}. {caption}"
        attention, alternatives = reply.buttons[2 * number - 2 : 2 * number]
        assert attention["callback_data"] == f"attn:{job_id}", reply.buttons
        assert alternatives["callback_data"] == f"alts:{job_id}", reply.buttons
    for message in album[1:]:
        assert tg.replies_to(message) == []
    assert len(tg.replies_to(album[0])) == 1


def test_album_in_a_group_gets_one_reply_in_order(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    command(tg, owner, group, "/auto on")
    album = tg.send_album(owner, [images.jpeg(34), images.jpeg(35), images.jpeg(36)], chat=group)
    reply = album_reply(tg, album)
    mention_photo(tg, owner, group, 37)
    assert_one_numbered_reply(live, album, reply, vocab)
    assert all(downloaded(tg, message) for message in album)


def test_album_whose_caption_mentions_the_bot(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    owner = tg.add_user()
    group = tg.add_group(creator=owner)
    group_id = "77001"
    album = [
        tg.send_photo(
            owner, images.jpeg(38), caption=bot_name(tg), chat=group, media_group_id=group_id
        )
    ]
    album += [
        tg.send_photo(owner, images.jpeg(seed), chat=group, media_group_id=group_id)
        for seed in (39, 40)
    ]
    reply = album_reply(tg, album)
    mention_photo(tg, owner, group, 41)
    assert_one_numbered_reply(live, album, reply, vocab)


def test_album_in_a_private_chat_gets_one_reply(live: Shared, vocab: frozenset[str]) -> None:
    tg = live.telegram
    user = tg.add_user()
    photos = [images.jpeg(seed) for seed in (42, 43, 45)]
    album = tg.send_album(user, photos)
    reply = album_reply(tg, album)
    after = tg.send_photo(user, images.jpeg(44))
    tg.wait_reply(after, timeout=WAIT)
    assert_one_numbered_reply(live, album, reply, vocab)
    # Each photo alone gets the caption its line in the album has (the model is deterministic).
    alone = [tg.wait_reply(tg.send_photo(user, photo), timeout=WAIT).text for photo in photos]
    assert (reply.text or "").splitlines() == [f"{n}. {text}" for n, text in enumerate(alone, 1)]
