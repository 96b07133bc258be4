"""docker-compose.yml asks for what it must not default (the database password), gives the web
page no bot token, and leaves metrics on loopback unless told otherwise; the settings agree."""

import re
from pathlib import Path

from bot.settings import Settings

COMPOSE = (Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text()


def block(name: str) -> str:
    """The lines of a top-level (`x-...`) or service (`  name:`) block of the compose file, with
    those of the anchors it merges (`<<: *anchor`)."""
    lines = COMPOSE.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^( {{2}})?{name}:", line))
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = [lines[start]]
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    text = "\n".join(body)
    anchors = re.findall(r"<<: \*([\w-]+)", text)
    owners = [re.search(rf"^([\w-]+): &{anchor}\b", COMPOSE, re.M) for anchor in anchors]
    return "\n".join([text, *(block(owner.group(1)) for owner in owners if owner)])


def test_the_database_password_has_no_default() -> None:
    uses = re.findall(r"\$\{POSTGRES_PASSWORD(:?[-?])", COMPOSE)
    assert uses and set(uses) == {":?"}  # `:?`: compose refuses to start without it


def test_the_web_page_gets_no_bot_token() -> None:
    web = block("web")
    assert "DATABASE_URL" in web and "TELEGRAM_BOT_TOKEN" not in web
    assert "TELEGRAM_BOT_TOKEN" in block("front") and "TELEGRAM_BOT_TOKEN" in block("worker")


def test_metrics_listen_on_loopback_unless_set() -> None:
    assert Settings(_env_file=None).metrics_address == "127.0.0.1"
    assert "METRICS_ADDRESS: ${METRICS_ADDRESS:-127.0.0.1}" in block("front")
