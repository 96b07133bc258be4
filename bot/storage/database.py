"""Connecting to the database and bringing its schema up to date with the Alembic migrations."""

import argparse
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.secret_mask import MASK, database_password, safe_url

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its directory created, WAL mode and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's lower() folds ASCII only: the search (bot/storage/search.py) folds any script
        dbapi_connection.create_function("casefold", 1, casefold, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


MIGRATION_LOCK = 7_261_100  # PostgreSQL advisory lock held while migrating


def upgrade(url: str) -> None:
    """Apply every migration not yet applied (creating the database if it does not exist). On
    PostgreSQL, processes starting together migrate one after the other (an advisory lock): the
    first migrates, the rest find the schema up to date."""
    engine = make_engine(url)  # creates the SQLite directory
    try:
        if engine.dialect.name != "postgresql":
            command.upgrade(alembic_config(url), "head")
            return
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), "head")
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
    finally:
        engine.dispose()


def upgrade_or_log(url: str) -> bool:
    """Migrate the database; False after logging why it could not be opened or migrated."""
    try:
        upgrade(url)
    except SQLAlchemyError as exc:
        log.error(
            "DATABASE_URL=%s: cannot open or migrate the database: %s",
            safe_url(url),
            mask_password(str(exc), url),
        )
        return False
    return True


def mask_password(text: str, url: str) -> str:
    password = database_password(url)
    return text.replace(password, MASK) if password else text


def add_db_arguments(parser: argparse.ArgumentParser) -> None:
    """`captionbot db`'s one command so far: `upgrade`."""
    db = parser.add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the database migrations")


def upgrade_command(_args: argparse.Namespace) -> int:
    """`captionbot db upgrade`."""
    from bot.settings import load_settings

    settings = load_settings()
    if settings is None:
        return 2
    upgrade(settings.database_url)
    log.info("database %s is up to date", safe_url(settings.database_url))
    return 0
