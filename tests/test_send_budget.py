"""The send budget: captions before everything else, a group's minute budget, 429 pauses."""

import asyncio

from telegram.error import RetryAfter

from bot.send_budget import SendBudget, captions_first


async def test_captions_go_before_everything_else_once_the_budget_is_spent() -> None:
    budget = SendBudget(per_second=10)
    order: list[str] = []

    def request(name: str) -> asyncio.Task[object]:
        async def call() -> bool:
            order.append(name)
            return True

        async def send() -> object:
            return await budget.process_request(call, (), {}, "sendMessage", {"chat_id": 5}, None)

        return asyncio.create_task(send())

    async def caption(name: str) -> object:
        with captions_first():
            return await request(name)

    await asyncio.gather(*(caption(f"early{i}") for i in range(10)))  # the second's budget
    others = [request(f"notice{i}") for i in range(4)]
    await asyncio.sleep(0)
    captions = [asyncio.create_task(caption(f"caption{i}")) for i in range(4)]
    await asyncio.gather(*others, *captions)
    rest = order[10:]
    assert rest[:4] == [f"caption{i}" for i in range(4)], rest
    assert sorted(rest[4:]) == [f"notice{i}" for i in range(4)]


async def test_a_group_gets_its_minute_budget_and_others_are_not_held_by_it() -> None:
    budget = SendBudget(per_second=100, per_group_minute=3)
    sent: list[int] = []

    async def to(chat_id: int) -> None:
        async def call() -> bool:
            sent.append(chat_id)
            return True

        await budget.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    group = [asyncio.create_task(to(-100)) for _ in range(5)]
    await asyncio.gather(*(to(7) for _ in range(5)))
    await asyncio.sleep(0.1)
    assert sent.count(-100) == 3 and sent.count(7) == 5  # the group's last two wait their turn
    for task in group:
        task.cancel()


async def test_a_429_pauses_and_is_tried_again() -> None:
    budget = SendBudget()
    calls = 0

    async def call() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryAfter(0)
        return True

    assert await budget.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert calls == 2


async def test_a_groups_minute_counts_only_the_messages_sent_into_it() -> None:
    """Chat actions, administrator checks and edits do not use up a group's 20 messages."""
    budget = SendBudget(per_second=100, per_group_minute=2)
    sent: list[str] = []

    async def request(endpoint: str) -> None:
        async def call() -> bool:
            sent.append(endpoint)
            return True

        await budget.process_request(call, (), {}, endpoint, {"chat_id": -100}, None)

    await request("sendMessage")
    await request("sendPhoto")  # the group's minute is spent
    held = asyncio.create_task(request("copyMessage"))
    others = ["sendChatAction", "getChatMember", "editMessageText", "deleteMessage"]
    await asyncio.wait_for(asyncio.gather(*(request(name) for name in others)), timeout=30)
    assert sent == ["sendMessage", "sendPhoto", *others]  # the copy waits for the next minute
    assert not held.done()
    held.cancel()
