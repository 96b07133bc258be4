"""The database, on SQLite and on PostgreSQL: migrations match the models and go both ways,
SQLite runs in WAL mode, and the job queries."""

from datetime import timedelta

import numpy as np
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.storage import chats, jobs, translations
from bot.storage.database import alembic_config, make_engine, upgrade
from bot.storage.jobs import Step
from bot.storage.models import Base, Job, JobStatus, User, utcnow
from tests.helpers import WORKER, add_job, claim, finish


def test_migrations_match_models_and_wal(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        if db_engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    upgrade(db_engine.url.render_as_string(hide_password=False))  # a second upgrade: a no-op


def test_migrations_downgrade_to_nothing_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_same_message_is_one_job(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_job(session, user_id=1, message_id=10)
        again = jobs.add(
            session, chat_id=1, user_id=1, message_id=10, file_id="x", file_unique_id="y"
        )
        assert again is None
        add_job(session, user_id=1, message_id=11)  # the transaction goes on after the refusal
    with sessions() as session:
        assert session.scalar(select(Job.message_id).where(Job.file_id == "x")) is None
        assert jobs.pending_count(session) == 2
        assert jobs.exists(session, 1, 10)
        assert not jobs.exists(session, 2, 10)


def test_ready_running_requeue_and_retry(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = add_job(session, 1, user_id=1)
        second = add_job(session, 2, user_id=1)
    with sessions.begin() as session:
        taken = list(jobs.ready(session, utcnow()))
        assert [job.id for job in taken] == [first.id, second.id]
        assert claim(session, taken[0].id)
        assert not claim(session, taken[0].id, worker="another worker")  # claimed already
    with sessions.begin() as session:
        assert [job.id for job in jobs.ready(session, utcnow())] == [second.id]
        jobs.requeue(session, [first.id])
    with sessions.begin() as session:
        assert [job.id for job in jobs.ready(session, utcnow())] == [first.id, second.id]
        later = utcnow() + timedelta(minutes=5)
        assert claim(session, second.id)
        jobs.retry_later(session, second.id, "another worker", later, "not theirs")
        assert session.get(Job, second.id).status == JobStatus.RUNNING  # type: ignore[union-attr]
        jobs.retry_later(session, second.id, WORKER, later, "network down")
    with sessions() as session:
        assert [job.id for job in jobs.ready(session, utcnow())] == [first.id]
        assert [job.id for job in jobs.ready(session, later)] == [first.id, second.id]
        assert jobs.next_due(session, Step.CAPTION) == later
        assert session.get(Job, second.id).status == JobStatus.QUEUED  # type: ignore[union-attr]


def test_caption_round_trip_and_done(sessions: sessionmaker[Session]) -> None:
    attention = np.random.default_rng(0).random((3, 7, 7), dtype=np.float32)
    with sessions.begin() as session:
        job = add_job(session, 1, user_id=1)
    with sessions.begin() as session:
        assert not jobs.save_caption(  # only the worker that claimed it stores its caption
            session,
            job.id,
            WORKER,
            caption="x",
            score=0,
            words=["x"],
            alternatives=[],
            attention=attention[:1],
        )
        assert claim(session, job.id)
        assert jobs.save_caption(
            session,
            job.id,
            WORKER,
            caption="a dog runs",
            score=-0.5,
            words=["a", "dog", "runs"],
            alternatives=[("a dog", -0.7)],
            attention=attention,
            tags=[("tabby cat", 0.9)],
            doubt="text",
        )
        assert not jobs.save_caption(
            session,
            job.id + 100,
            WORKER,
            caption="x",
            score=0.0,
            words=["x"],
            alternatives=[],
            attention=attention[:1],
        )
    with sessions.begin() as session:
        stored = session.get(Job, job.id)
        assert stored is not None
        assert stored.status == JobStatus.CAPTIONED
        assert stored.alternatives == [["a dog", -0.7]]
        np.testing.assert_array_equal(jobs.attention_of(stored), attention)
        assert jobs.pending_grounding(session, [job.id]) == {
            job.id: jobs.Grounded(["tabby cat"], "text", hedged=False)
        }
        # a captioned job whose reply failed is retried without captioning again
        assert claim(session, job.id, Step.REPLY)
        jobs.retry_later(session, job.id, WORKER, utcnow(), "timed out")
    with sessions.begin() as session:
        assert session.get(Job, job.id).status == JobStatus.CAPTIONED  # type: ignore[union-attr]
        assert not jobs.finish(session, job.id, WORKER, reply_message_id=99)  # not claimed
        assert claim(session, job.id, Step.REPLY)
        assert not jobs.finish(session, job.id, "another worker", reply_message_id=98)
        assert jobs.finish(session, job.id, WORKER, reply_message_id=99)
    with sessions() as session:
        stored = session.get(Job, job.id)
        assert stored is not None
        assert (stored.status, stored.reply_message_id) == (JobStatus.DONE, 99)
        assert stored.finished_at is not None
        assert jobs.pending_grounding(session, [job.id]) == {}
        assert jobs.pending_count(session) == 0


def test_history_is_newest_first_per_user_and_chat(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for message_id in range(1, 8):
            job = add_job(session, message_id, user_id=1)
            job.received_at = utcnow() + timedelta(seconds=message_id)
            claim(session, job.id)
            jobs.save_caption(
                session,
                job.id,
                WORKER,
                caption=f"photo {message_id}",
                score=0.0,
                words=["photo"],
                alternatives=[],
                attention=np.zeros((1, 7, 7)),
            )
            finish(session, job.id, 100 + message_id)
        add_job(session, 50, user_id=1)  # not answered yet: not in the history
        other = add_job(session, 1, user_id=2)  # someone else
        finish(session, other.id, 200)
        in_group = add_job(session, 60, user_id=1, chat_id=-100)  # the same user in another chat
        finish(session, in_group.id, 300)
    with sessions() as session:
        assert jobs.history_count(session, chat_id=1, user_id=1) == 7
        page = jobs.history(session, chat_id=1, user_id=1, offset=0, limit=5)
        assert [job.caption for job in page] == [f"photo {n}" for n in (7, 6, 5, 4, 3)]
        page = jobs.history(session, chat_id=1, user_id=1, offset=5, limit=5)
        assert [job.caption for job in page] == ["photo 2", "photo 1"]


def test_forget_user_deletes_only_theirs(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_job(session, 1, user_id=1)
        add_job(session, 2, user_id=1)
        add_job(session, 1, user_id=2)
    with sessions.begin() as session:
        assert jobs.forget_user(session, 1) == 2
        chats.forget_user(session, 1)
    with sessions() as session:
        assert session.scalars(select(Job.user_id)).all() == [2]
        assert session.get(User, 1) is None
        assert session.get(User, 2) is not None


def test_rate_window_counts_one_user(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        old = add_job(session, 1, user_id=1)
        old.received_at = utcnow() - timedelta(minutes=5)
        add_job(session, 2, user_id=1)
        add_job(session, 1, user_id=2)
    with sessions() as session:
        assert len(jobs.received_times_since(session, 1, utcnow() - timedelta(minutes=1))) == 1


def test_chat_language_and_users(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        chats.remember(session, chat_id=5, chat_type="private", user_id=5, language_code="ru")
        assert chats.chat_language(session, 5) is None
        chats.set_chat_language(session, 5, "private", "both")
        chats.set_chat_language(session, 6, "private", "en")  # a chat seen first by /lang
    with sessions() as session:
        assert chats.languages(session, 5, 5) == ("both", "ru")
        assert chats.languages(session, 6, 6) == ("en", None)


def test_translation_cache(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert translations.cached(session, "a dog", "en", "ru") is None
        translations.store(session, "a dog", "en", "ru", "собака", "google")
        translations.store(session, "a dog", "en", "ru", "пёс", "mymemory")  # kept: the first
    with sessions() as session:
        assert translations.cached(session, "a dog", "en", "ru") == "собака"
        assert translations.cached(session, "a dog", "en", "de") is None
