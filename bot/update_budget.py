"""How many updates each user sent in the last minute, for the flood gate
(bot/handlers/flood_gate.py)."""

import time
from collections import deque

WINDOW_S = 60.0
USERS_KEPT = 10_000  # users with a recent update, before idle ones are forgotten


class UpdateBudget:
    """Updates per user in the last minute (a sliding window of their times)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.dropped = 0
        self._seen: dict[int, deque[float]] = {}

    def allow(self, user_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self._seen.get(user_id)
        if times is None:
            if len(self._seen) >= USERS_KEPT:
                self._seen = {u: t for u, t in self._seen.items() if t and now - t[-1] < WINDOW_S}
            times = self._seen[user_id] = deque()
        while times and now - times[0] >= WINDOW_S:
            times.popleft()
        if len(times) >= self.per_minute:
            self.dropped += 1
            return False
        times.append(now)
        return True
