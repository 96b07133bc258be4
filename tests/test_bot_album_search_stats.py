"""Storage behind groups, inline mode and /stats: album hold-back, inline search, figures."""

from datetime import timedelta
from functools import partial

import numpy as np
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.storage import albums, attention_maps, jobs, search, stats, translations
from bot.storage.jobs import Step
from bot.storage.models import Job, JobStatus, utcnow
from tests.helpers import WORKER, add_job, claim, fail, finish

# the photos of these tests are posted in a group unless a test says otherwise
add = partial(add_job, chat_id=-100)


def load(session: Session, job: Job) -> Job:
    """The job as the database has it now, in this session."""
    found = session.get(Job, job.id)
    assert found is not None
    return found


def caption(session: Session, job: Job, text: str, *, done: bool = True) -> None:
    claim(session, job.id)
    jobs.save_caption(
        session,
        job.id,
        WORKER,
        caption=text,
        score=-1.0,
        words=text.split(),
        alternatives=[],
        attention=np.zeros((len(text.split()), 7, 7)),
    )
    if done:
        finish(session, job.id, 1000 + job.message_id)


def ready_ids(sessions: sessionmaker[Session], now_offset: timedelta = timedelta(0)) -> set[int]:
    """Jobs a worker may claim, to caption or to reply."""
    with sessions() as session:
        now = utcnow() + now_offset
        return {job.id for step in Step for job in jobs.ready(session, now, step)}


def test_an_album_waits_until_it_settles_and_is_all_captioned(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first, second = add(session, 1, album="A"), add(session, 2, album="A")
        single = add(session, 3)
    assert ready_ids(sessions) == {single.id}  # the album may still grow
    later = albums.SETTLE + timedelta(seconds=1)
    assert ready_ids(sessions, later) == {first.id, second.id, single.id}
    with sessions.begin() as session:
        caption(session, load(session, first), "a dog", done=False)
    assert ready_ids(sessions, later) == {second.id, single.id}  # first waits for second
    with sessions.begin() as session:
        fail(session, second.id, "broken photo")
    assert ready_ids(sessions, later) == {first.id, single.id}
    with sessions() as session:
        assert [job.id for job in albums.members(session, -100, "A")] == [first.id, second.id]
        assert albums.has_jobs(session, -100, "A") and not albums.has_jobs(session, -100, "B")


def test_reply_position_numbers_the_photos_of_one_reply(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        one, two, alone = add(session, 5, album="B"), add(session, 6, album="B"), add(session, 7)
        for job in (one, two, alone):
            caption(session, job, "x", done=False)
        finish(session, one.id, 50)
        finish(session, two.id, 50)
        finish(session, alone.id, 51)
    with sessions() as session:
        one, two, alone = (load(session, job) for job in (one, two, alone))
        assert [albums.reply_position(session, job) for job in (one, two)] == [1, 2]
        assert albums.reply_position(session, alone) is None


def test_attention_map_is_claimed_once_until_released(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        job = add(session, 8)
    with sessions.begin() as session:
        assert attention_maps.claim(session, job.id)
        assert not attention_maps.claim(session, job.id)
        attention_maps.release(session, job.id)
        assert attention_maps.claim(session, job.id)
        attention_maps.sent(session, job.id, 99)
        assert not attention_maps.claim(session, job.id)


def test_search_newest_first_by_english_or_russian_words_once_per_photo(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        old = add(session, 10)
        caption(session, old, "a dog runs on the grass")
        old.caption_ru = "Собака бежит по траве"
        cat = add(session, 11)
        caption(session, cat, "a cat sits")
        translations.store(session, "a cat sits", "en", "ru", "Кошка сидит", "google")
        again = add(session, 12, chat_id=-200, unique="u-10")  # the dog photo, in another chat
        caption(session, again, "a dog runs")
        other_user = add(session, 13, user_id=2)
        caption(session, other_user, "a dog")
        pending = add(session, 14)
        caption(session, pending, "a dog waits", done=False)
    with sessions() as session:

        def ids(words: list[str], offset: int = 0, limit: int = 10) -> list[int]:
            return [found.job_id for found in search.captioned(session, 1, words, offset, limit)[0]]

        assert ids([]) == [again.id, cat.id]  # newest first, each photo once, done ones only
        assert ids(["DOG"]) == [again.id]
        assert ids(["собака"]) == [old.id]  # the newer copy of that photo has no Russian
        assert ids(["кошка"]) == [cat.id]  # Cyrillic case folding, from the translation cache
        assert ids(["cat", "СИДИТ"]) == [cat.id]
        assert ids(["cat", "dog"]) == []
        page, more = search.captioned(session, 1, [], 0, 1)
        assert [f.job_id for f in page] == [again.id] and more
        page, more = search.captioned(session, 1, [], 1, 1)
        assert [f.job_id for f in page] == [cat.id] and not more
        assert search.has_history(session, 1) and not search.has_history(session, 3)


def test_stats_figures(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with sessions.begin() as session:
        for message_id, seconds in ((20, 1.0), (21, 3.0), (22, 2.0)):
            job = add(session, message_id)
            caption(session, job, "a dog")
            job.received_at = now - timedelta(minutes=10)
            job.finished_at = job.received_at + timedelta(seconds=seconds)
        old = add(session, 23)
        caption(session, old, "a cat")
        old.received_at, old.finished_at = now - timedelta(hours=3), now - timedelta(hours=3)
        jobs.note_translation_failure(session, old.id)
        add(session, 24)  # queued
        failed = add(session, 25)
        fail(session, failed.id, "bad image")
    with sessions() as session:
        figures = stats.collect(session, now)
    assert figures.queue_depth == 1
    assert figures.per_status == {JobStatus.DONE: 4, JobStatus.QUEUED: 1, JobStatus.FAILED: 1}
    assert (figures.captioned_hour, figures.captioned_day) == (3, 4)
    # 1, 3 and 2 s, and 0 s for the one three hours ago
    assert figures.latency_median_s == pytest.approx(1.5, abs=0.01)
    assert figures.latency_p95_s == pytest.approx(2.85, abs=0.01)
    assert (figures.translation_failures_day, figures.translation_failures_total) == (1, 1)


def test_search_is_done_by_the_database_a_page_at_a_time(
    db_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The words are matched and the page is cut in SQL: a user with many captions costs a
    page's rows, not all of them (`python -m tests.inline_search_speed` times it)."""
    with sessions.begin() as session:
        for n in range(30):
            caption(session, add(session, 100 + n), f"a dog number {n}")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            page, more = search.captioned(session, 1, ["DOG"], 5, 5)
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    assert [found.caption for found in page] == [f"a dog number {n}" for n in range(24, 19, -1)]
    assert more
    (query,) = [s for s in statements if "FROM jobs" in s]
    assert "LIMIT" in query and "LIKE" in query.upper()
