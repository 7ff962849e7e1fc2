"""Helpers shared by the order inbox tests: a client for a sandbox, retailer-side orders."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.store.db import Database

_serial = itertools.count(1)

# Where the test orders ship to.
BUYER: dict[str, Any] = {
    "name": "Test Buyer",
    "address": ["1 Main St"],
    "city": "Austin",
    "region": "TX",
    "postal": "78704",
}


def client_for(sandbox: Any) -> DscoClient:
    """A supplier client for the sandbox, with short retry waits."""
    return DscoClient(
        sandbox.base_url, sandbox.client_id, sandbox.client_secret, retry_wait_max_s=0.5
    )


def retailer_order(sandbox: Any, **extra: Any) -> dict[str, Any]:
    """A createOrder body for two of the sandbox's catalog SKUs."""
    skus = sandbox.state.all_skus()
    n = next(_serial)
    order: dict[str, Any] = {
        "poNumber": f"PO-T{n:05d}-{time.time_ns() % 10**9}",
        "channel": "Poshmark",
        "orderType": "Marketplace",
        "shipping": dict(BUYER),
        "lineItems": [
            {"sku": skus[n % len(skus)], "quantity": 2, "lineNumber": 1},
            {"sku": skus[(n + 1) % len(skus)], "quantity": 1, "lineNumber": 2},
        ],
    }
    order.update(extra)
    return order


def create_orders(client: DscoClient, sandbox: Any, count: int, **extra: Any) -> list[str]:
    """Create orders on the retailer side; returns their dscoOrderIds."""
    ids = []
    for _ in range(count):
        result = client.create_order(retailer_order(sandbox, **extra))
        ids.extend(result.dsco_order_ids)
    return ids


def sandbox_order_ids(sandbox: Any) -> list[str]:
    """Every order the sandbox holds, as /order/page finds them (test orders included)."""
    return sandbox.state.order_page_keys({"includeTestOrders": True})


def stored_order_ids(db: Database) -> list[str]:
    """Every order in the local store, duplicates included (there must be none)."""
    return [r[0] for r in db.connection().execute("SELECT dsco_order_id FROM orders")]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll `condition` until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def age_sandbox_orders(sandbox: Any, seconds: float) -> None:
    """Make every sandbox order look created and updated `seconds` earlier.

    /order/page only answers up to 5 s before now, so a resync test would otherwise have to
    wait for its orders to age.
    """
    shift = int(seconds * 1000)
    with sandbox.state.tx() as conn:
        conn.execute(
            "UPDATE orders SET created_ms = created_ms - ?, updated_ms = updated_ms - ?",
            (shift, shift),
        )
