"""SIGKILL the outbox sender mid-batch against a real sandbox: nothing lost, nothing sent twice.

A subprocess drains 200 rows (100 shipments, 100 acknowledgements) over HTTP and is killed
while rows are being sent, until at least one kill has left a row in doubt (SENDING); then one
run kills itself right after DSCO applied a shipment, before the outbox recorded it; a last
sender finishes. Every row must end SENT, every tracking number must be on its order
exactly once, and every acknowledged order must be acknowledged.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxRepository, OutboxState
from tests.services.orders_support import BUYER

DRAIN = Path(__file__).with_name("outbox_drain.py")
ORDERS_PER_KIND = 100


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _new_order(client: DscoClient, sku: str, serial: int) -> str:
    result = client.create_order(
        {
            "poNumber": f"PO-CRASH-{serial:04d}",
            "shipping": dict(BUYER),
            # Two units, one shipped: a duplicate shipment would be accepted, and would show.
            "lineItems": [{"sku": sku, "quantity": 2, "lineNumber": 1}],
        }
    )
    order_id = result.dsco_orders[0].dsco_order_id
    assert order_id
    return order_id


def _shipment(order_id: str, tracking: str, sku: str) -> dict[str, Any]:
    return {
        "dscoOrderId": order_id,
        "shipments": [
            {
                "trackingNumber": tracking,
                "shipCarrier": "USPS",
                "shipMethod": "Ground Advantage",
                "shippingServiceLevelCode": "USGA",
                "lineItems": [{"lineNumber": 1, "sku": sku, "quantity": 1}],
            }
        ],
    }


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_applies_nothing_twice(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(rate_limits=False)
    client = DscoClient(sandbox.base_url, sandbox.client_id, sandbox.client_secret)
    sku = "CRASH-TEE-1"
    answer = client.update_catalog_small_batch(
        [{"sku": sku, "title": "Crash test tee", "productStatus": "active", "cost": 5}]
    )
    assert client.wait_for_change_log("catalog", answer.request_id or "", poll_s=0.05).all_succeeded
    serial = itertools.count(1)
    to_ship = [_new_order(client, sku, next(serial)) for _ in range(ORDERS_PER_KIND)]
    to_ack = [_new_order(client, sku, next(serial)) for _ in range(ORDERS_PER_KIND)]
    tracking = {order_id: f"9400CRASH{n:06d}" for n, order_id in enumerate(to_ship)}

    db = Database(tmp_path / "outbox.sqlite3")
    repo = OutboxRepository(db)
    with db.transaction() as tx:
        # Shipments first (rows go oldest first), so the kills land on calls that must not be
        # applied twice; the acknowledgements follow after the restart.
        for ship_id in to_ship:
            payload = _shipment(ship_id, tracking[ship_id], sku)
            repo.enqueue("order.shipment", payload, f"ship:{ship_id}", conn=tx)
        for ack_id in to_ack:
            payload = {"orders": [{"id": ack_id, "type": "DSCO_ORDER_ID"}]}
            repo.enqueue("order.acknowledge", payload, f"ack:{ack_id}", conn=tx)
    assert repo.counts().pending == 2 * ORDERS_PER_KIND

    # Each call now spends most of its time in flight, where a kill leaves the row in doubt.
    sandbox.set_faults(latency_s=0.03)
    env = {
        **os.environ,
        "DSCO_BASE_URL": sandbox.base_url,
        "DSCO_CLIENT_ID": sandbox.client_id,
        "DSCO_CLIENT_SECRET": sandbox.client_secret,
    }
    command = [sys.executable, str(DRAIN), str(db.path)]
    kills = in_doubt = 0
    for _ in range(5):
        sent_before = repo.counts().sent
        proc = subprocess.Popen(command, env=env)
        try:
            wait_until(
                lambda p=proc, n=sent_before: repo.counts().sent >= n + 15 or p.poll() is not None,
                60,
                "the sender to send some rows",
            )
            assert proc.poll() is None, "the sender finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        kills += 1
        in_doubt += len(repo.list([OutboxState.SENDING]))
        if in_doubt:
            break
    counts = repo.counts()
    assert in_doubt >= 1, f"no kill out of {kills} landed mid-call"
    assert 0 < counts.sent < ORDERS_PER_KIND  # killed mid-way through the shipments
    assert counts.failed == counts.rejected == 0

    # The worst moment: DSCO applied a shipment and the process died before recording it.
    died = subprocess.run(
        command, env={**env, "OUTBOX_DRAIN_DIE_AFTER_SHIPMENT": "3"}, timeout=120, check=False
    )
    assert died.returncode == -signal.SIGKILL
    applied_unrecorded = [
        row
        for row in repo.list([OutboxState.SENDING])
        if row.kind == "order.shipment"
        and (order := client.get_order("dscoOrderId", row.payload["dscoOrderId"])) is not None
        and order.packages
    ]
    assert applied_unrecorded, "the shipment DSCO applied should be left in doubt"

    finished = subprocess.run(command, env=env, timeout=180, check=False)
    assert finished.returncode == 0
    counts = repo.counts()
    assert counts.sent == 2 * ORDERS_PER_KIND, counts
    assert counts.pending == counts.sending == counts.failed == counts.rejected == 0

    for order_id in to_ship:
        order = client.get_order("dscoOrderId", order_id)
        assert order is not None
        numbers = [p.tracking_number for p in order.packages]
        assert numbers == [tracking[order_id]], f"order {order_id} has packages {numbers}"

    def all_acknowledged() -> bool:
        lifecycles = set()
        for order_id in to_ack:
            order = client.get_order("dscoOrderId", order_id)
            lifecycles.add(order.dsco_lifecycle if order else None)
        return lifecycles == {"acknowledged"}

    wait_until(all_acknowledged, 30, "every acknowledgement to be applied")
    client.close()
    db.close_all()
