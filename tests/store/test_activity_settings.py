"""Activity log and settings repositories."""

from __future__ import annotations

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.store.activity import ActivityRepository
from dsco_desktop.store.db import Database
from dsco_desktop.store.settings import SettingsRepository


def _call(n: int, status: int | None = 200, error: str | None = None) -> CallRecord:
    return CallRecord(
        at=f"2025-11-05T10:00:{n % 60:02d}Z",
        method="GET" if n % 2 else "POST",
        path=f"/order/page?n={n}",
        status=status,
        duration_ms=12.5,
        request_id=f"req-{n}",
        error=error,
    )


def test_recent_calls_newest_first_with_filters(db: Database) -> None:
    repo = ActivityRepository(db)
    repo.record(_call(1))
    repo.record(_call(2, status=429, error="Too Many Requests"))
    repo.record(_call(3, status=None, error="connection refused"))
    repo.record(_call(4))
    recent = repo.recent()
    assert [c.request_id for c in recent] == ["req-4", "req-3", "req-2", "req-1"]
    assert recent[0] == _call(4)
    assert [c.request_id for c in repo.recent(errors_only=True)] == ["req-3", "req-2"]
    assert [c.request_id for c in repo.recent(text="refused")] == ["req-3"]
    assert [c.request_id for c in repo.recent(text="429")] == ["req-2"]
    assert len(repo.recent(limit=2)) == 2


def test_log_is_capped(db: Database) -> None:
    repo = ActivityRepository(db, max_rows=30, prune_every=10)
    for n in range(95):
        repo.record(_call(n))
    assert repo.count() <= 30 + 10
    assert repo.recent(limit=1)[0].request_id == "req-94"
    deleted = repo.prune(max_rows=5)
    assert deleted > 0
    assert [c.request_id for c in repo.recent()] == [f"req-{n}" for n in range(94, 89, -1)]


def test_settings_round_trip_json(db: Database) -> None:
    repo = SettingsRepository(db)
    assert repo.get("environment", "sandbox") == "sandbox"
    repo.set("environment", "staging")
    repo.set("columns", {"orders": ["po", "lifecycle"], "width": 3.5})
    assert repo.get("environment") == "staging"
    assert repo.get("columns") == {"orders": ["po", "lifecycle"], "width": 3.5}
    repo.set("environment", None)
    assert repo.get("environment", "x") is None
    repo.delete("environment")
    assert repo.get("environment", "x") == "x"
