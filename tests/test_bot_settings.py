"""Settings: defaults, parsing of lists, and start-up refusing bad or missing values."""

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.settings import Settings, describe_error

ENV_PREFIXES = (
    "TELEGRAM_",
    "DATABASE_",
    "MODEL_",
    "TRANSLATION_",
    "WEBHOOK_",
    "BATCH_",
    "QUEUE_",
    "RATE_",
    "ADMIN_",
    "BEAM_",
    "MAX_FILE",
    "GOOGLE_",
    "MYMEMORY_",
    "LIBRETRANSLATE_",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings from the developer's shell or a stray .env file."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = Settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite:///data/captionbot.sqlite3"
    assert settings.translation_backends == ("google", "mymemory")
    assert (settings.batch_size, settings.batch_wait_ms, settings.queue_size) == (8, 50, 256)
    assert settings.max_file_bytes == 20 * 1024 * 1024


def test_lists_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:abc\nBATCH_SIZE=4\n")
    monkeypatch.setenv("ADMIN_IDS", "12, 34")
    monkeypatch.setenv("TRANSLATION_BACKENDS", "LIBRE, mymemory")
    settings = Settings()
    assert settings.telegram_bot_token == "1:abc"
    assert settings.batch_size == 4
    assert settings.admin_ids == (12, 34)
    assert settings.translation_backends == ("libre", "mymemory")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BATCH_SIZE", "many"),
        ("BATCH_SIZE", "0"),
        ("TRANSLATION_BACKENDS", "google,bing"),
        ("ADMIN_IDS", "alice"),
        ("TRANSLATION_TIMEOUT_S", "-1"),
        ("DATABASE_URL", "data.db"),
    ],
)
def test_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        Settings()
    message = describe_error(error.value)
    assert name in message
    assert value in message


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://bot:hunter2@db:port/x", "postgresql+psycopg://bot:hunter2@/"]
)
def test_a_bad_database_url_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BATCH_SIZE", "many")  # at least one problem, whatever the URL's fate
    with pytest.raises(ValidationError) as error:
        Settings()
    message = describe_error(error.value)
    assert "BATCH_SIZE" in message and "hunter2" not in message


def test_secrets_never_reach_the_log_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:AAH-secret-token-value")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bot:hunter2@127.0.0.1:1/captionbot")
    with caplog.at_level(logging.DEBUG), pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code != 0
    assert "DATABASE_URL" in caplog.text and "127.0.0.1" in caplog.text
    assert "hunter2" not in caplog.text and "secret-token-value" not in caplog.text
    logging.getLogger("test").warning("a stray one: %s", "123456:AAH-secret-token-value")
    assert "secret-token-value" not in caplog.text  # whoever logs it, it is masked


def test_run_without_token_explains(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code != 0
    assert "@BotFather" in caplog.text
    assert "captionbot caption" in caplog.text


def test_run_with_bad_value_names_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("QUEUE_SIZE", "lots")
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code != 0
    assert "QUEUE_SIZE" in caplog.text


def test_run_with_missing_model_names_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "nowhere"))
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as exit_:
        main(["run"])
    assert exit_.value.code != 0
    assert "MODEL_PATH" in caplog.text
    assert (tmp_path / "data" / "captionbot.sqlite3").exists()  # migrated before the model


def test_db_upgrade_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    database = tmp_path / "sub" / "bot.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    with pytest.raises(SystemExit) as exit_:
        main(["db", "upgrade"])
    assert exit_.value.code == 0
    assert database.exists()


def test_replicas_without_webhook_secret_share_one_derived_from_the_token() -> None:
    one = Settings(_env_file=None, telegram_bot_token="123:ABC")
    two = Settings(_env_file=None, telegram_bot_token="123:ABC")
    other_bot = Settings(_env_file=None, telegram_bot_token="456:DEF")
    secret = one.webhook_secret_token()
    assert secret == two.webhook_secret_token() != other_bot.webhook_secret_token()
    assert "ABC" not in secret and len(secret) <= 256 and secret.isalnum()
    configured = Settings(_env_file=None, telegram_bot_token="123:ABC", webhook_secret="s3cret")
    assert configured.webhook_secret_token() == "s3cret"
