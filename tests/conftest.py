"""Shared fixtures: the fake Telegram and translation servers, a tiny model, a migrated SQLite
database, the real bot."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import FakeTelegram
from bot.storage.database import make_engine, make_sessions, upgrade
from tests.fake_translate import FakeTranslate
from tests.postgres import PostgresServer, binaries, postgres_server

StartBot = Callable[..., BotProcess]


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random captioning model (made once per test session)."""
    from captioning.bundle import make_random_bundle

    return make_random_bundle(tmp_path_factory.mktemp("tiny-bundle"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session (skips without Debian's package)."""
    bindir = binaries()
    if bindir is None:
        pytest.skip("PostgreSQL's binaries are absent (Debian's postgresql package)")
    with postgres_server(bindir) as server:
        yield server


def bot_database(request: pytest.FixtureRequest) -> str | None:
    """The database a bot of the end-to-end tests runs on: its own SQLite file, or with
    TEST_DATABASE=postgresql (`make test-postgres`) a fresh database on the PostgreSQL server."""
    if os.environ.get("TEST_DATABASE", "sqlite") != "postgresql":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a real SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'bot.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """A real database, SQLite and PostgreSQL in turn, with every migration applied."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    return make_sessions(db_engine)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def fake_translate() -> Iterator[FakeTranslate]:
    with FakeTranslate() as server:
        yield server


@pytest.fixture
def bot_process(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    fake_translate: FakeTranslate,
    tiny_bundle: Path,
) -> Iterator[StartBot]:
    """A factory: `bot_process(ENV_NAME="value", ..., wait=True, bundle=None)` starts the real
    bot (on the tiny bundle, or `bundle`).

    Every bot still running at the end of the test is stopped (SIGTERM, then SIGKILL), and the
    test fails unless it exited cleanly; every bot's log is printed then, which pytest shows when
    the test failed.
    """
    started: list[BotProcess] = []

    def start(*, wait: bool = True, bundle: Path | None = None, **env: str) -> BotProcess:
        workdir = tmp_path / f"bot{len(started) + 1}"
        workdir.mkdir()
        bot = BotProcess(
            workdir,
            fake_telegram,
            fake_translate,
            bundle or tiny_bundle,
            env,
            bot_database(request),
        )
        started.append(bot)
        return bot.start(wait=wait)

    yield start
    stop_all(started)


def stop_all(bots: list[BotProcess]) -> None:
    """Stop every bot still running (SIGTERM) and print every bot's log; the test fails unless
    each exited cleanly."""
    unclean = []
    for bot in bots:
        if bot.running:
            try:
                bot.stop_cleanly()
            except AssertionError as exc:
                unclean.append(f"{bot.workdir.name}: {exc}")
        print(bot.log_text())
    if unclean:
        pytest.fail("a bot did not stop cleanly at the end of the test:\n" + "\n".join(unclean))
