"""The typing indicator: once per chat while it shows, within its share of the request budget."""

import asyncio
from collections.abc import Coroutine
from typing import Any

from bot.typing_indicator import ACTIONS_PER_S, TypingIndicator


class RecordingBot:
    """Stands in for the Bot API at the network boundary: records chat actions."""

    def __init__(self) -> None:
        self.actions: list[int] = []

    async def send_chat_action(self, chat_id: int, action: str) -> bool:
        self.actions.append(chat_id)
        return True


def indicator() -> tuple[TypingIndicator, RecordingBot]:
    bot = RecordingBot()
    return TypingIndicator(bot), bot  # type: ignore[arg-type]


def test_one_action_per_chat_while_it_shows() -> None:
    typing, bot = indicator()

    async def burst() -> None:
        for _ in range(5):
            await typing.show(1)
        await typing.show(2)

    asyncio.run(burst())
    assert bot.actions == [1, 2]


def finishes_without_waiting(coroutine: Coroutine[Any, Any, None]) -> bool:
    """Whether the coroutine runs to its end in one step, never suspending (for a timer, a
    limiter's budget or anything else)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return True
    coroutine.close()
    return False


def test_actions_beyond_the_budget_are_skipped_not_queued() -> None:
    typing, bot = indicator()
    chats = list(range(100, 100 + 3 * ACTIONS_PER_S))

    async def many_chats() -> list[bool]:
        return [finishes_without_waiting(typing.show(chat)) for chat in chats]

    assert all(asyncio.run(many_chats()))  # nobody waited for budget to come back
    assert bot.actions == chats[:ACTIONS_PER_S]
