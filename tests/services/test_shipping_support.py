"""Helpers shared by the shipping tests: a client on the sandbox, fresh orders, a local store.

(No tests here; the module name keeps it with the shipping tests.)
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

from dsco_desktop.domain.shipping import PackagePlan
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.services.shipping import ShippingService
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from tests.services.orders_support import client_for

_serial = itertools.count(1)

# Published sample numbers whose check digits are right.
UPS_1 = "1Z879E930346834440"
UPS_2 = "1Z999AA10123456784"
UPS_3 = "1Z12345E6605272234"
USPS_1 = "9400111201080805483016"

# The UI tests import the client under this name.
sandbox_client = client_for


def demo_skus(client: DscoClient, count: int = 2) -> list[str]:
    """SKUs of the sandbox's demo shop (seeded catalog)."""
    skus: list[str] = []
    for order in client.iter_orders(ordersCreatedSince="2000-01-01T00:00:00Z"):
        for line in order.line_items:
            if line.sku and line.sku not in skus:
                skus.append(line.sku)
        if len(skus) >= count:
            break
    assert len(skus) >= count
    return skus[:count]


def new_order(
    client: DscoClient,
    quantities: list[int],
    *,
    skus: list[str] | None = None,
    carrier: str = "UPS",
    method: str = "Ground",
    code: str = "GCG",
) -> str:
    """A fresh retailer order with one line per quantity; returns its dscoOrderId."""
    skus = skus or demo_skus(client, len(quantities))
    po = f"PO-SHIP-{next(_serial):04d}-{datetime.now(UTC):%H%M%S%f}"
    result = client.create_order(
        {
            "poNumber": po,
            "consumerOrderNumber": f"C-{po}",
            "shipping": {
                "name": "Jordan Kim",
                "address": ["12 Oak St"],
                "city": "Austin",
                "region": "TX",
                "postal": "78704",
                "country": "US",
            },
            "shipCarrier": carrier,
            "shipMethod": method,
            "shippingServiceLevelCode": code,
            "lineItems": [
                {"sku": sku, "quantity": qty, "lineNumber": n}
                for n, (sku, qty) in enumerate(zip(skus, quantities, strict=False), start=1)
            ],
        }
    )
    order_id = result.dsco_order_ids[0] if result.dsco_order_ids else None
    if order_id is None:
        order_id = result.dsco_orders[0].dsco_order_id
    assert order_id
    return str(order_id)


def pull_order(db: Database, client: DscoClient, order_id: str) -> None:
    """Store DSCO's current version of the order locally (what the order stream would do)."""
    order = client.get_order("dscoOrderId", order_id)
    assert order is not None
    OrderRepository(db).upsert_many([order])


def drain(db: Database, client: DscoClient) -> None:
    """Send every due outbox row now (what the outbox thread does in the app)."""
    sender = OutboxSender(db, client)
    while sender.send_due().handled:
        pass


def open_db(tmp_path: Path) -> Database:
    return Database(tmp_path / "app.sqlite3")


def ship(
    db: Database, client: DscoClient, order_id: str, quantities: dict[str, int], tracking: str
) -> None:
    """Ship by UPS through the shipment service, as the form does, and store DSCO's order."""
    service = ShippingService(db)
    plan = PackagePlan(
        carrier="UPS",
        service_level_code="UPCG",
        tracking_number=tracking,
        ship_date=date.today(),
        quantities=quantities,
    )
    record = service.submit(order_id, [plan])
    drain(db, client)
    service.settle(client, record.id)
    pull_order(db, client, order_id)
