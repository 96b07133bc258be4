"""The flood gate's count: a sliding minute per user."""

from bot.update_budget import UpdateBudget


def test_each_user_gets_their_minute_and_the_window_slides() -> None:
    budget = UpdateBudget(per_minute=3)
    assert [budget.allow(1, now=t) for t in (0, 1, 2, 3, 4)] == [True, True, True, False, False]
    assert budget.allow(2, now=4)  # another user is not held by the first
    assert budget.allow(1, now=60.5)  # the update at 0 is a minute old
    assert not budget.allow(1, now=60.6)
    assert budget.dropped == 3
