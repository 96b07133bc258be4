"""The caption queue: admission rules and fair batches."""

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.lease import Lease
from bot.queue import CaptionQueue, Outcome, PhotoRequest, fair_pick
from bot.storage import group_settings


@dataclass(frozen=True)
class Item:
    user_id: int
    n: int


def test_fair_pick_takes_users_in_turn() -> None:
    flood = [Item(1, n) for n in range(50)]
    late = [Item(2, 0), Item(3, 0), Item(3, 1)]
    picked = fair_pick(flood + late, 8)
    assert picked[:3] == [Item(1, 0), Item(2, 0), Item(3, 0)]
    assert picked[3:6] == [Item(1, 1), Item(3, 1), Item(1, 2)]
    assert len(picked) == 8
    assert [item for item in picked if item.user_id == 1] == [Item(1, n) for n in range(5)]


def test_fair_pick_turns_carry_over_between_batches() -> None:
    """Users served by the last batch wait behind those not served yet."""
    earlier, later = datetime(2026, 1, 1, 12, 0), datetime(2026, 1, 1, 12, 1)
    items = [Item(1, 0), Item(1, 1), Item(2, 0), Item(3, 0), Item(4, 0)]
    served = {1: later, 2: earlier}
    assert fair_pick(items, 2, served) == [Item(3, 0), Item(4, 0)]
    assert fair_pick(items, 4, served) == [Item(3, 0), Item(4, 0), Item(2, 0), Item(1, 0)]


def test_fair_pick_edges() -> None:
    assert fair_pick([], 4) == []
    items = [Item(1, 0), Item(1, 1)]
    assert fair_pick(items, 10) == items
    assert fair_pick(items, 1) == [Item(1, 0)]


def photo(user_id: int, message_id: int) -> PhotoRequest:
    return PhotoRequest(
        chat_id=user_id,
        chat_type="private",
        user_id=user_id,
        language_code="en",
        message_id=message_id,
        file_id=f"f{user_id}-{message_id}",
        file_unique_id=f"u{message_id}",
    )


async def test_submit_accepts_once_and_wakes(sessions: sessionmaker[Session]) -> None:
    queue = CaptionQueue(sessions, queue_size=10, rate_limit_per_minute=10)
    lease = Lease(sessions, 30.0, "w1")
    assert await queue.submit(photo(1, 1)) == Outcome.ACCEPTED
    assert queue.wakeup.is_set()
    assert await queue.submit(photo(1, 1)) == Outcome.DUPLICATE
    assert len(queue.take(100, lease)) == 1


async def test_rate_limit_is_per_user(sessions: sessionmaker[Session]) -> None:
    queue = CaptionQueue(sessions, queue_size=100, rate_limit_per_minute=3)
    lease = Lease(sessions, 30.0, "w1")
    outcomes = [await queue.submit(photo(1, n)) for n in range(5)]
    assert outcomes == [Outcome.ACCEPTED] * 3 + [Outcome.RATE_LIMITED] * 2
    assert await queue.submit(photo(2, 1)) == Outcome.ACCEPTED
    assert len(queue.take(100, lease)) == 4


async def test_full_queue_refuses_until_jobs_are_taken(sessions: sessionmaker[Session]) -> None:
    queue = CaptionQueue(sessions, queue_size=2, rate_limit_per_minute=100)
    lease = Lease(sessions, 30.0, "w1")
    assert await queue.submit(photo(1, 1)) == Outcome.ACCEPTED
    assert await queue.submit(photo(2, 1)) == Outcome.ACCEPTED
    assert await queue.submit(photo(3, 1)) == Outcome.QUEUE_FULL
    queue.take(2, lease)  # taken is still pending: the queue stays full until answered
    assert await queue.submit(photo(3, 1)) == Outcome.QUEUE_FULL


async def test_take_is_fair_and_never_hands_out_a_job_twice(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=100, rate_limit_per_minute=100)
    lease = Lease(sessions, 30.0, "w1")
    for n in range(20):
        await queue.submit(photo(1, n))
    await queue.submit(photo(2, 1))
    first = queue.take(4, lease)
    assert [ticket.user_id for ticket in first] == [1, 2, 1, 1]
    for n in range(3):
        await queue.submit(photo(3, n))
    await queue.submit(photo(2, 2))
    # user 3 was never served and goes first; users 1 and 2 were last served together, so
    # their oldest waiting photo decides
    assert [ticket.user_id for ticket in queue.take(3, lease)] == [3, 1, 2]
    assert all(ticket.caption is None and ticket.attempts == 1 for ticket in first)
    rest = queue.take(100, lease)
    assert len(rest) == 18
    assert {t.id for t in first}.isdisjoint(t.id for t in rest)
    assert queue.take(100, lease) == []
    assert queue.release(Lease(sessions, 30.0, "another worker")) == 0  # not theirs
    assert queue.release(lease) == 25  # a worker that stops hands its jobs back
    assert len(queue.take(100, lease)) == 25


async def test_take_gives_one_user_no_more_than_their_room(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=100, rate_limit_per_minute=100)
    lease = Lease(sessions, 30.0, "w1")
    for n in range(10):
        await queue.submit(photo(1, n))
    await queue.submit(photo(2, 1))
    first = queue.take(8, lease, per_user=2)
    assert sorted(ticket.user_id for ticket in first) == [1, 1, 2]
    # user 1 still has two in hand: nothing more of theirs until those are done
    assert queue.take(8, lease, in_hand={1: 2}, per_user=2) == []
    assert [ticket.user_id for ticket in queue.take(8, lease, in_hand={1: 1}, per_user=2)] == [1]


async def test_a_backlog_yields_to_others_unless_the_worker_is_idle(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=100, rate_limit_per_minute=100)
    lease = Lease(sessions, 30.0, "w1")
    for n in range(5):
        await queue.submit(photo(1, n))
    await queue.submit(photo(2, 1))
    assert [ticket.user_id for ticket in queue.take(8, lease, idle=False)] == [2]
    assert [ticket.user_id for ticket in queue.take(8, lease, per_user=1, idle=True)] == [1]


async def test_album_photos_join_an_album_asked_for_in_the_order_posted(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=100, rate_limit_per_minute=100)

    def in_album(message_id: int, album: str | None, asked: bool) -> PhotoRequest:
        request = photo(1, message_id)
        return replace(request, chat_id=-100, media_group_id=album, asked=asked)

    # the first photo mentions the bot; the rest of its album arrive at once after it
    outcomes = await asyncio.gather(
        queue.submit(in_album(1, "A", asked=True)),
        *(queue.submit(in_album(n, "A", asked=False)) for n in (2, 3, 4)),
    )
    assert outcomes == [Outcome.ACCEPTED] * 4
    # an album, or a photo, no one asked for is left alone
    assert await queue.submit(in_album(5, "B", asked=False)) == Outcome.NOT_ASKED
    assert await queue.submit(in_album(6, None, asked=False)) == Outcome.NOT_ASKED
    with sessions.begin() as session:  # unless the group has /auto on
        group_settings.set_auto_caption(session, -100, "supergroup", True)
    assert await queue.submit(in_album(7, None, asked=False)) == Outcome.ACCEPTED
    too_big = replace(in_album(8, None, asked=False), too_big=True)
    assert await queue.submit(too_big) == Outcome.TOO_BIG
