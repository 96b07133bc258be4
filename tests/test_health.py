"""`captionbot health`: healthy with a migrated database and a whole bundle, else exit 1."""

import argparse
import shutil
from pathlib import Path

import pytest

from bot.health import run
from bot.storage.database import upgrade


@pytest.fixture
def configured(tmp_path: Path, tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    monkeypatch.setenv("MODEL_PATH", str(bundle))
    return bundle


def check(load_model: bool = False) -> int:
    return run(argparse.Namespace(load_model=load_model))


def test_healthy_after_migrations_with_the_model(
    configured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    upgrade(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    assert check() == 0
    assert check(load_model=True) == 0


def test_unmigrated_database_is_unhealthy(
    configured: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert check() == 1
    assert "captionbot db upgrade" in caplog.text


def test_missing_model_file_is_unhealthy(
    configured: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    (configured / "decoder.safetensors").unlink()
    assert check() == 1
    assert "decoder.safetensors" in caplog.text


def test_truncated_weights_are_unhealthy(
    configured: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    decoder = configured / "decoder.safetensors"
    decoder.write_bytes(decoder.read_bytes()[:20])
    assert check() == 1
    assert "not readable" in caplog.text
