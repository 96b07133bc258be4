"""The last-resort error handler logs which update failed, never what users wrote."""

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update

from bot.handlers.errors import log_error


async def test_an_error_logs_the_update_id_and_kind_not_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    update = Update.de_json(
        {
            "update_id": 4242,
            "message": {
                "message_id": 7,
                "date": 0,
                "chat": {"id": 99, "type": "private", "first_name": "Olga"},
                "from": {"id": 99, "is_bot": False, "first_name": "Olga", "last_name": "Secretova"},
                "text": "my private diary entry",
            },
        },
        None,
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        context: Any = SimpleNamespace(error=exc)
    with caplog.at_level(logging.ERROR):
        await log_error(update, context)
    assert "4242" in caplog.text and "message" in caplog.text and "boom" in caplog.text
    assert "diary" not in caplog.text and "Secretova" not in caplog.text
