"""Per-endpoint rate limits at the numbers the DSCO spec gives, as sliding windows."""

from __future__ import annotations

import threading
import time
from collections import deque

# operation -> [(max calls, window seconds), ...], from the spec's per-endpoint prose.
RATE_LIMITS: dict[str, list[tuple[int, float]]] = {
    "getOrder": [(10, 1.0), (500, 60.0)],
    "acknowledge": [(15, 1.0), (1000, 60.0)],
    "singleShipment": [(15, 1.0), (300, 60.0)],
    "getInventory": [(15, 1.0), (300, 60.0)],
    "singleItem": [(5, 1.0), (300, 60.0)],
    "getCatalog": [(10, 1.0), (10000, 3600.0)],
    "invoice": [(15, 1.0), (1000, 60.0)],
    "singleStreamEvent": [(15, 60.0)],
    "createOrder": [(15, 1.0), (3000, 60.0)],
}


class RateLimiter:
    """Counts calls per rate-limit group and says when one would exceed a window."""

    def __init__(self, limits: dict[str, list[tuple[int, float]]] | None = None) -> None:
        self._limits = RATE_LIMITS if limits is None else limits
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, group: str) -> bool:
        """Record a call in `group` and return False if it is over any of the group's limits.

        Refused calls are not recorded, so a client that backs off gets through again.
        """
        windows = self._limits.get(group)
        if not windows:
            return True
        now = time.monotonic()
        longest = max(w for _, w in windows)
        with self._lock:
            calls = self._calls.setdefault(group, deque())
            while calls and calls[0] <= now - longest:
                calls.popleft()
            for limit, window in windows:
                if _count_since(calls, now - window) >= limit:
                    return False
            calls.append(now)
            return True


def _count_since(calls: deque[float], since: float) -> int:
    """How many recorded calls are newer than `since` (newest are at the right)."""
    count = 0
    for t in reversed(calls):
        if t <= since:
            break
        count += 1
    return count
