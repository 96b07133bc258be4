import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import photo


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from captioning.bundle import make_random_bundle

    return make_random_bundle(tmp_path_factory.mktemp("bundle"))


def captionbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_caption_json_lines_and_a_bad_file(tmp_path: Path, bundle: Path) -> None:
    good, bad, other = tmp_path / "good.jpg", tmp_path / "bad.jpg", tmp_path / "other.png"
    photo().save(good)
    bad.write_text("this is not a photo")
    photo(mode="L").save(other)
    run = captionbot("caption", str(good), str(bad), str(other), "--model", str(bundle), "--json")
    assert run.returncode == 1
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(good), str(other)]
    assert all(line["caption"] and isinstance(line["score"], float) for line in lines)
    assert "bad.jpg" in run.stderr and "not an image" in run.stderr


def test_caption_plain_text_with_beam(tmp_path: Path, bundle: Path) -> None:
    good = tmp_path / "good.png"
    photo().save(good)
    run = captionbot("caption", str(good), "--model", str(bundle), "--beam", "1")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{good}: ") and len(run.stdout.split()) >= 2


def test_caption_with_a_missing_model(tmp_path: Path) -> None:
    photo().save(tmp_path / "a.png")
    run = captionbot("caption", str(tmp_path / "a.png"), "--model", str(tmp_path / "nowhere"))
    assert run.returncode == 2
    assert "config.json" in run.stderr


def test_caption_json_carries_tags_and_confidence(tmp_path: Path) -> None:
    from captioning.bundle import make_random_bundle

    cat = make_random_bundle(tmp_path / "cat", recognise=281)
    website = make_random_bundle(tmp_path / "website", recognise=916)
    photo().save(tmp_path / "a.png")
    for bundle, confident in ((cat, True), (website, False)):
        run = captionbot("caption", str(tmp_path / "a.png"), "--model", str(bundle), "--json")
        assert run.returncode == 0, run.stderr
        line = json.loads(run.stdout)
        assert line["confident"] is confident
        if confident:  # the classifier is sure of the cat, and the caption says so
            assert line["tags"][0]["label"] == "tabby cat"
            assert line["tags"][0]["probability"] > 0.9
            assert "cat" in line["caption"].split()
        else:
            assert line["doubt"] == "text"


def test_health_loads_neither_torch_nor_onnxruntime(tmp_path: Path) -> None:
    """Docker runs `captionbot health` every minute: only the chosen subcommand is imported."""
    script = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main(['health'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({'torch', 'onnxruntime', 'numpy', 'telegram'} & set(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_a_front_without_a_worker_loads_no_torch(tmp_path: Path) -> None:
    """`run --no-worker` takes updates only: the bot with every handler, and no model."""
    script = (
        "import sys\n"
        "from bot.app import build_application\n"
        "from bot.settings import Settings\n"
        f"settings = Settings(telegram_bot_token='1:x', database_url='sqlite:///{tmp_path}/d.db')\n"
        "application = build_application(settings, None)\n"
        "assert application.bot_data.services.worker is None\n"
        "print(sorted({'torch', 'onnxruntime'} & set(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
