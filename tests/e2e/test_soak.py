"""The soak: orders pour in while DSCO misbehaves, and nothing is lost or done twice.

The sandbox generates marketplace orders at a high rate and answers 20% of calls with 5xx,
rate-limits (429), adds latency, serves stream events twice and revokes every token now and
then. Meanwhile the session acknowledges, cancels, ships, invoices and pushes inventory, all
through the outbox. At the end the faults stop, the app catches up, and the store and the
sandbox must agree exactly: every order once, every outbox row sent once or reported failed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dsco_desktop.store.db import Database
from tests.e2e.session import ShopSession


@pytest.mark.e2e
@pytest.mark.slow
def test_soak_under_faults_ends_with_store_and_dsco_in_agreement(
    sandbox_factory: Callable[..., Any],
    tmp_path: Path,
    soak_seconds: float,
    record_figures: Callable[[str, dict[str, Any]], None],
) -> None:
    sandbox = sandbox_factory(
        seed=10,
        rate_limits=True,
        error_rate=0.2,
        latency_s=0.002,
        duplicate_event_rate=0.2,
        order_rate_per_min=600,
    )
    db = Database(tmp_path / "shop.sqlite3")
    session = ShopSession(sandbox, db, seed=10)
    started = time.monotonic()
    next_revocation = started + 2.0
    try:
        while time.monotonic() - started < soak_seconds:
            session.step()
            if time.monotonic() >= next_revocation:
                sandbox.revoke_tokens()
                session.figures.revocations += 1
                next_revocation += 3.0
        session.settle()
        problems = session.reconcile()
    finally:
        session.client.close()
        db.close_all()
    figures = dataclasses.asdict(session.figures)
    figures["seconds"] = round(soak_seconds, 1)
    record_figures("soak", figures)
    assert problems == []
    f = session.figures
    # The run did what it claims: orders arrived through faults and every action was tried.
    assert f.orders >= 10 and f.events >= f.orders
    assert f.faults_injected > 0
    assert f.acknowledged > 0 and f.shipped > 0
    assert f.outbox_sent > 0
