"""How fast inline mode searches one user's captions: `python -m tests.inline_search_speed
[--captions 10000] [--postgresql]`.

Fills a fresh database (a SQLite file; with `--postgresql`, a PostgreSQL server from Debian's
package, started as the tests start it) with one user's answered photos, their captions made of
Flickr-like words, a third of them with a Russian caption and a third with a cached translation;
then logs the median and the slowest of 20 runs of each search inline mode makes (the first page
with no words, common and rare English words, a Russian word with other case, a word found
nowhere, a later page), through `bot.storage.search.captioned` on the migrated schema.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.storage import chats, search, translations
from bot.storage.database import make_engine, make_sessions, upgrade
from bot.storage.models import Job, JobStatus, utcnow
from tests.postgres import binaries, postgres_server

log = logging.getLogger(__name__)
WORDS = "a dog cat man woman child runs sits plays on the grass beach street in red blue ball"
RUSSIAN = "собака кошка мужчина женщина ребёнок бежит сидит играет на траве пляже улице"
SEARCHES = [
    ("no words (first page)", [], 0),
    ("a common word", ["dog"], 0),
    ("two words", ["red", "ball"], 0),
    ("a rare word", ["zebra"], 0),
    ("a Russian word, other case", ["СОБАКА"], 0),
    ("a word found nowhere", ["xylophone"], 0),
    ("a Russian word found nowhere", ["ксилофон"], 0),
    ("no words, page 10", [], 200),
]


def fill(session: Session, captions: int, seed: int = 0) -> None:
    chats.remember(session, chat_id=1, chat_type="private", user_id=1, language_code="en")
    rng = random.Random(seed)
    english, russian = WORDS.split(), RUSSIAN.split()
    start = utcnow() - timedelta(days=30)
    for n in range(captions):
        caption = " ".join(rng.choice(english) for _ in range(rng.randint(4, 9)))
        if n % 500 == 0:
            caption += " zebra"
        ru = " ".join(rng.choice(russian) for _ in range(rng.randint(3, 7))).capitalize()
        at = start + timedelta(seconds=n * 60)
        session.add(
            Job(
                chat_id=1,
                user_id=1,
                message_id=n + 1,
                file_id=f"file-{n}",
                file_unique_id=f"u-{n % (captions - 50)}",  # a few photos sent twice
                status=JobStatus.DONE,
                received_at=at,
                finished_at=at,
                caption=caption,
                caption_ru=ru if n % 3 == 0 else None,
            )
        )
        if n % 3 == 1:
            translations.store(session, caption, "en", "ru", ru, "google")


@contextlib.contextmanager
def database(postgresql: bool) -> Iterator[str]:
    if not postgresql:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'search.sqlite3'}"
        return
    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL's binaries are absent (Debian's postgresql package)")
    with postgres_server(bindir) as server:
        yield server.new_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=10_000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with database(args.postgresql) as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessions(engine)
        with sessions.begin() as session:
            fill(session, args.captions)
        with engine.connect() as connection:  # fresh statistics, as autovacuum would have
            connection.execute(text("ANALYZE"))
            connection.commit()
        log.info("%s: %d captions of one user", engine.dialect.name, args.captions)
        for name, words, offset in SEARCHES:
            times, found = [], 0
            for _ in range(20):
                with sessions() as session:
                    began = time.perf_counter()
                    page, _ = search.captioned(session, 1, words, offset, 20)
                    times.append((time.perf_counter() - began) * 1000)
                    found = len(page)
            log.info(
                "%-28s %2d found: median %6.1f ms, slowest %6.1f ms",
                name,
                found,
                statistics.median(times),
                max(times),
            )
        engine.dispose()


if __name__ == "__main__":
    main()
