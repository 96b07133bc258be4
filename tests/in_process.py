"""The bot's Application in the test's own process, its Bot API calls answered by the fake
Telegram server's code without HTTP: fast tests of the handlers and the worker. (Crashes, signals
and restarts need the real process: tests/e2e.)"""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.bench.fake_telegram import ApiError, FakeTelegram, form_params
from bot.services import Services


class InProcessRequest(BaseRequest):
    """python-telegram-bot's request object, handing every call to `fake` (`FakeTelegram.answer`,
    `file_data`) instead of sending it over HTTP. getUpdates is not served: the tests hand the
    updates to the Application themselves (`InProcessBot.deliver`)."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    @property
    def read_timeout(self) -> float | None:
        return 10.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if url.startswith(self.fake.base_file_url):
            path = url.removeprefix(self.fake.base_file_url).split("/", 1)[1]
            try:
                data = self.fake.file_data(path)
            except ApiError as exc:
                return exc.code, json.dumps(exc.body()).encode()
            return (200, data) if data is not None else (404, b'{"ok": false}')
        name = url.rsplit("/", 1)[1]
        fields = request_data.json_parameters if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for part, (_, content, _) in request_data.multipart_data.items():
                files[part] = content if isinstance(content, bytes) else content.read()
        status, body = self.fake.answer(name, form_params(fields, files), files)
        return status, json.dumps(body).encode()


class InProcessBot:
    """An initialised Application of the bot and the fake it talks to."""

    def __init__(self, application: Application, telegram: FakeTelegram) -> None:
        self.application = application
        self.telegram = telegram
        self._update_ids = itertools.count(1)

    @property
    def services(self) -> Services:
        return self.application.bot_data.services  # type: ignore[no-any-return]

    async def deliver(self, **update: Any) -> None:
        """Hand an update (`message=...`, `callback_query=...`) to the bot, and wait until its
        handlers are done with it."""
        data = {"update_id": next(self._update_ids), **update}
        await self.application.process_update(Update.de_json(data, self.application.bot))
