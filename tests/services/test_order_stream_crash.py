"""A poller killed (SIGKILL) at random points 20 times ends with exactly DSCO's orders, once each.

The poller runs in real child processes (forked from a preloaded parent, see
order_stream_zygote.py) against the sandbox over HTTP. Between runs the sandbox gets new orders
and acknowledgements; each run dies either when the test kills it once a random number of
orders is stored, or by its own hand at the worst moments: after DSCO answered a page, between
the local commit and DSCO's checkpoint, and right after the checkpoint. A last clean run drains
the stream; then the local store must hold the sandbox's orders exactly, each once, each at
DSCO's latest version.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path
from typing import Any

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.order_stream import STREAM_DESCRIPTION, STREAM_QUERY
from dsco_desktop.store._util import normalize_timestamp
from tests.services.orders_support import age_sandbox_orders, client_for, wait_for
from tests.zygote import Zygote

ZYGOTE = Path(__file__).with_name("order_stream_zygote.py")
MODES = ("external", "die-after-read", "die-before-checkpoint", "die-after-checkpoint")


class PollerZygote(Zygote):
    """This test's preloaded parent (see tests/zygote.py)."""

    def __init__(self, sandbox: Any) -> None:
        super().__init__(ZYGOTE, sandbox)

    def run(self, database: Path, mode: str, n: int = 0) -> int:
        return self.started(f"run {database} {mode} {n}")


def _stored(database: Path) -> dict[str, str | None]:
    import sqlite3

    if not database.exists():
        return {}
    conn = sqlite3.connect(database, timeout=10)
    try:
        rows = conn.execute("SELECT dsco_order_id, dsco_last_update FROM orders").fetchall()
    except sqlite3.OperationalError:  # the child has not created the schema yet
        return {}
    finally:
        conn.close()
    assert len(rows) == len({r[0] for r in rows}), "an order is stored twice"
    return dict(rows)


def test_killed_twenty_times_the_poller_ends_with_exactly_the_sandboxs_orders(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(seed=11)
    rng = random.Random(4)
    database = tmp_path / "poller.sqlite3"
    # The demo orders predate the stream: let them be old enough for /order/page right away.
    age_sandbox_orders(sandbox, 60)
    with client_for(sandbox) as client:
        stream = client.create_stream(
            "order",
            query=STREAM_QUERY,
            description=STREAM_DESCRIPTION,
            max_events={"objectCount": 7},
        )
        assert stream.id
        zygote = PollerZygote(sandbox)
        try:
            for round_no in range(20):
                _more_activity(sandbox, client, rng)
                mode = MODES[round_no % len(MODES)]
                expected = len(sandbox.state.order_page_keys({"includeTestOrders": True}))
                if mode == "external":
                    before = len(_stored(database))
                    target = rng.randint(before, expected)
                    pid = zygote.run(database, "loop")
                    wait_for(lambda t=target: len(_stored(database)) >= t, timeout=20)
                    os.kill(pid, signal.SIGKILL)
                else:
                    pid = zygote.run(database, mode, rng.randint(1, 3))
                assert zygote.wait(pid) == -signal.SIGKILL
            pid = zygote.run(database, "drain")
            assert zygote.wait(pid) == 0
        finally:
            zygote.close()
    stored = _stored(database)
    at_dsco = sandbox.state.orders_by_ids(
        sandbox.state.order_page_keys({"includeTestOrders": True})
    )
    assert sorted(stored) == sorted(o["dscoOrderId"] for o in at_dsco)
    # ...and each at DSCO's latest version (the acknowledgements made between runs included).
    assert stored == {o["dscoOrderId"]: normalize_timestamp(o["dscoLastUpdate"]) for o in at_dsco}


def _more_activity(sandbox: Any, client: DscoClient, rng: random.Random) -> None:
    """New orders (some in the same millisecond) and acknowledgements of older ones."""
    for _ in range(rng.randint(4, 15)):
        sandbox.generate_order()
    open_ids = [
        o["dscoOrderId"]
        for o in sandbox.state.orders_by_ids(sandbox.state.order_page_keys({}))
        if o["dscoLifecycle"] == "created"
    ]
    for order_id in rng.sample(open_ids, min(3, len(open_ids))):
        with sandbox.state.tx():
            sandbox.state.acknowledge({"id": order_id, "type": "DSCO_ORDER_ID"})
