"""One recorded DSCO call, as the activity log keeps it (no secrets, no customer data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallRecord:
    """What the activity log stores for each HTTP call the client makes."""

    at: str  # ISO-8601 UTC timestamp of the call's start
    method: str
    path: str  # path under the base URL, query values of customer data redacted
    status: int | None  # None when no response came back (network error)
    duration_ms: float
    request_id: str | None = None
    error: str | None = None
