"""The bot shared by the end-to-end tests that need no special settings, and what they check with.

Starting the bot (torch, the model, migrations) is the slow part, so tests that only talk to it
share one process and keep apart by using fresh users. Tests that crash, stop or reconfigure the
bot start their own with the `bot_process` factory.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser
from tests.conftest import bot_database
from tests.fake_translate import FakeTranslate

WAIT = 90.0  # seconds: generous, the machine is busy; no test waits this long when it passes
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@dataclass
class Shared:
    telegram: FakeTelegram
    translate: FakeTranslate
    bot: BotProcess


def vocabulary(bundle: Path) -> frozenset[str]:
    """The words the tiny model can say."""
    words = json.loads((bundle / "vocab.json").read_text())
    return frozenset(w for w in words if not w.startswith("<"))


def is_caption(text: str | None, vocab: frozenset[str]) -> bool:
    """Whether `text` is a caption of the tiny model: vocabulary words only, maybe capitalised
    and ending with a full stop (a polite refusal or a hint never is)."""
    if not text:
        return False
    words = text.strip().rstrip(".").lower().split()
    return bool(words) and all(word in vocab for word in words)


def has_cyrillic(text: str | None) -> bool:
    return bool(text) and CYRILLIC.search(text or "") is not None


def answer_to(tg: FakeTelegram, user: FakeUser, text: str, *, timeout: float = WAIT) -> Call:
    """Send `text` in the user's private chat; the next message the bot sends there."""
    seen = len(tg.messages(user.id))
    tg.send_text(user, text)
    return tg.wait_for_messages(lambda c: c.chat_id == user.id, count=seen + 1, timeout=timeout)[
        seen
    ]


def wait_until(condition: Callable[[], bool], what: str, *, timeout: float = WAIT) -> None:
    """Poll `condition` (for state outside the fake servers, such as the bot's database)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


def query(database: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of `sql` on the bot's database (a URL: SQLite or PostgreSQL)."""
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def tables_with(database: str, column: str | None = None) -> list[str]:
    """The bot's tables (those with `column`, if given)."""
    engine = create_engine(database)
    try:
        found = inspect(engine)
        return [
            table
            for table in found.get_table_names()
            if column is None or column in {c["name"] for c in found.get_columns(table)}
        ]
    finally:
        engine.dispose()


def rows_about_user(database: str, user_id: int) -> int:
    """Rows in any table of the bot's database that belong to `user_id` (a `user_id` column)."""
    total = 0
    for table in tables_with(database, "user_id"):
        (count,) = query(database, f'SELECT COUNT(*) FROM "{table}" WHERE user_id = :u', u=user_id)
        total += int(str(count[0]))
    return total


@pytest.fixture(scope="session")
def vocab(tiny_bundle: Path) -> frozenset[str]:
    return vocabulary(tiny_bundle)


@pytest.fixture(scope="session")
def shared_bot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_bundle: Path
) -> Iterator[Shared]:
    with FakeTelegram() as telegram, FakeTranslate() as translate:
        workdir = tmp_path_factory.mktemp("shared-bot")
        database = bot_database(request)
        bot = BotProcess(workdir, telegram, translate, tiny_bundle, None, database)
        try:
            bot.start()
            yield Shared(telegram, translate, bot)
        finally:
            if bot.running:
                bot.stop_cleanly()


@pytest.fixture
def live(shared_bot: Shared) -> Iterator[Shared]:
    """The shared bot with no faults injected; what it logged during the test is printed after
    it (pytest shows that when the test failed)."""
    shared_bot.telegram.clear_faults()
    shared_bot.translate.set_mode("ok")
    log_start = len(shared_bot.bot.log_text())
    yield shared_bot
    shared_bot.telegram.clear_faults()
    shared_bot.translate.set_mode("ok")
    print(shared_bot.bot.log_text()[log_start:])
    assert shared_bot.bot.running, "the shared bot died"
