"""The bot's send budget: Telegram lets a bot send about 30 messages a second, and about 20 a
minute into one group. Captions (and the other answers to photos) come first: a notice, a
"typing…" indicator, a button's answer or a command's reply is sent only when no caption is
waiting for the budget, so they never delay a caption.

The worker marks its sends with `captions_first()`; everything else is second. Requests without
a chat (answering a button or an inline query) are not counted, as Telegram does not count them;
a group's minute budget counts only the messages sent into it (`sends_message`), as Telegram's
does: a chat action, an edit or an administrator check does not use it up.
A 429 from Telegram pauses every request for as long as it asks, then the request is tried again
(up to `max_retries` times; after that the caller sees RetryAfter, and the worker reschedules).
"""

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

PER_SECOND = 30  # messages a second, all chats together
PER_GROUP_MINUTE = 20  # messages a minute into one group
SECOND_POLL_S = 0.05  # how often a second-rank request looks for a free slot
GROUPS_KEPT = 512  # groups with a recent message, before idle ones are forgotten
GROUP_WINDOW_S = 61.0  # a minute, and a second for the request to get there

# Bot API methods that put a new message into a chat, besides the send* ones
COPIES = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})


def sends_message(endpoint: str) -> bool:
    """Whether the Bot API method `endpoint` puts a message into the chat (what Telegram counts
    against a group's minute): sendMessage, sendPhoto, ..., copies and forwards; not
    sendChatAction."""
    name = endpoint.lower()
    return (name.startswith("send") and name != "sendchataction") or name in COPIES


_first: contextvars.ContextVar[bool] = contextvars.ContextVar("captions_first", default=False)


@contextlib.contextmanager
def captions_first() -> Iterator[None]:
    """Requests made inside go before every other kind."""
    token = _first.set(True)
    try:
        yield
    finally:
        _first.reset(token)


class SendBudget(BaseRateLimiter[int]):
    def __init__(
        self,
        per_second: float = PER_SECOND,
        per_group_minute: int = PER_GROUP_MINUTE,
        max_retries: int = 2,
    ) -> None:
        self._overall = AsyncLimiter(per_second, 1.0)
        self._per_group_minute = per_group_minute
        self._groups: dict[int | str, deque[float]] = {}  # recent send times per group
        self._max_retries = max_retries
        self._first_waiting = 0  # captions waiting for the overall budget
        self._resume = asyncio.Event()  # cleared while Telegram asks for a pause (429)
        self._resume.set()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def _take_group(self, chat_id: int | str) -> None:
        """Wait until fewer than `per_group_minute` messages went into the group in the last
        minute (a sliding window: Telegram counts any minute, not a leaky bucket's average)."""
        loop = asyncio.get_running_loop()
        if chat_id not in self._groups and len(self._groups) >= GROUPS_KEPT:
            now = loop.time()
            self._groups = {
                k: v for k, v in self._groups.items() if v and now - v[-1] < GROUP_WINDOW_S
            }
        sent = self._groups.setdefault(chat_id, deque())
        while True:
            now = loop.time()
            while sent and now - sent[0] >= GROUP_WINDOW_S:
                sent.popleft()
            if len(sent) < self._per_group_minute:
                sent.append(now)
                return
            await asyncio.sleep(sent[0] + GROUP_WINDOW_S - now)

    async def _take_overall(self, first: bool) -> None:
        if first:
            self._first_waiting += 1
            try:
                await self._overall.acquire()
            finally:
                self._first_waiting -= 1
            return
        while self._first_waiting or not self._overall.has_capacity():
            await asyncio.sleep(SECOND_POLL_S)
        await self._overall.acquire()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = data.get("chat_id")
        first = _first.get()
        group: int | str | None = None
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        is_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        if is_group and sends_message(endpoint):
            group = chat_id
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            if group is not None:
                await self._take_group(group)
            if chat_id is not None:
                await self._take_overall(first)
            await self._resume.wait()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                attempt += 1
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                log.info(
                    "%s: Telegram asks to wait %.0f s; pausing every request", endpoint, seconds
                )
                self._resume.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._resume.set()
