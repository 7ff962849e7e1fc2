"""Order events of any shape from DSCO's stream: stored, skipped or refused with a message,
never a crash of the stream thread, and never a half-written page.

The client already turns a body of the wrong shape into a DscoError (tests/dsco/
test_models_props.py); this goes one step further in: events whose payload is an order with
wrong types in its fields (quantities as words, lines as a string, packages as a number) are
applied the way the stream thread applies a page. Either the page is committed with its
position, or a `UserFacingError` says what was wrong and neither the orders nor the position
moved.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.store.db import Database

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
LINE = st.fixed_dictionaries(
    {},
    optional={
        "sku": SCALARS,
        "quantity": SCALARS,
        "lineNumber": SCALARS,
        "cancelledQuantity": SCALARS,
        "shippedQuantity": SCALARS,
        "expectedCost": SCALARS,
        "dscoItemId": SCALARS,
    },
)
PACKAGE = st.fixed_dictionaries(
    {}, optional={"trackingNumber": SCALARS, "shipDate": SCALARS, "items": SCALARS}
)
ORDER = st.fixed_dictionaries(
    {"dscoOrderId": st.text(alphabet="0123456789", min_size=1, max_size=6)},
    optional={
        "poNumber": SCALARS,
        "dscoLifecycle": SCALARS | st.sampled_from(["created", "acknowledged", "completed"]),
        "dscoLastUpdate": SCALARS,
        "lineItems": SCALARS | st.lists(LINE | SCALARS, max_size=3),
        "packages": SCALARS | st.lists(PACKAGE | SCALARS, max_size=2),
        "shipping": SCALARS | st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
        "testFlag": SCALARS,
        "channel": SCALARS,
    },
)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {"id": st.text(alphabet="abcdef0123456789", min_size=1, max_size=10)},
        optional={"payload": ORDER | SCALARS, "eventReasons": SCALARS | st.lists(SCALARS)},
    ),
    min_size=1,
    max_size=4,
)


def _snapshot(path: Path) -> tuple[Any, ...]:
    conn = sqlite3.connect(path)
    try:
        orders = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        position = conn.execute("SELECT * FROM stream_checkpoints").fetchall()
        return orders, position
    finally:
        conn.close()


def test_a_page_of_odd_events_is_stored_whole_or_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    db = Database(path)
    client = DscoClient("https://dsco.invalid/api/v3", "id", "secret")  # never called
    service = OrderStreamService(db, client, backfill_days=0)
    tried = 0

    @settings(
        max_examples=250,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(EVENTS)
    def apply(events: list[Any]) -> None:
        nonlocal tried
        tried += 1
        before = _snapshot(path)
        try:
            batch = service.apply_events("stream-1", 0, events)
        except UserFacingError as exc:
            assert str(exc)
            assert _snapshot(path) == before, "a refused page changed the store"
            return
        assert batch.position == events[-1]["id"]
        orders, position = _snapshot(path)
        assert ("stream-1", 0, batch.position) in [tuple(p[:3]) for p in position]
        assert orders <= before[0] + len(events)

    try:
        apply()
    finally:
        client.close()
        db.close_all()
    assert tried >= 100
