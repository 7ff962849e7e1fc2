"""Shipping on the sandbox: partial then the rest completes the order; over-shipment refused
before sending; DSCO's 400 messages come back on the shipment; accepted but not applied."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dsco_desktop.domain.shipping import PackagePlan
from dsco_desktop.domain.tracking import Carrier
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.services.outbox import KINDS, OutboxKind, OutboxSender
from dsco_desktop.services.shipping import PlanRejectedError, ShippingService, describe
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import (
    InventoryEditorRepository,
    InventoryLevel,
    InventoryRepository,
)
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxState
from dsco_desktop.store.shipments import ShipmentState
from tests.services.test_shipping_support import (
    UPS_1,
    UPS_2,
    UPS_3,
    drain,
    new_order,
    pull_order,
)


def allocated(db: Database, skus: list[str]) -> list[int]:
    """The inventory's allocated units in WH01 per SKU."""
    levels = InventoryEditorRepository(db).levels_for_allocation()
    return [levels[sku]["WH01"][2] for sku in skus]


def ups(quantities: dict[str, int], tracking: str = UPS_1, **extra: Any) -> PackagePlan:
    return PackagePlan(
        carrier="UPS",
        service_level_code="UPCG",
        tracking_number=tracking,
        ship_date=date.today(),
        weight=1.5,
        warehouse_code="WH01",
        quantities=quantities,
        **extra,
    )


def test_the_form_starts_with_what_remains_and_a_carrier_code(
    db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [2, 1], carrier="UPS", method="Ground", code="GCG")
    pull_order(db, client, order_id)
    form = ShippingService(db).form(order_id)
    assert [(line.key, line.remaining) for line in form.lines] == [("line:1", 2), ("line:2", 1)]
    assert form.preselection.carrier is Carrier.UPS
    assert form.preselection.code == "UPCG"
    assert form.shippable


def test_partial_shipment_then_the_rest_completes_the_order(
    db: Database, client: DscoClient
) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [2, 1])
    pull_order(db, client, order_id)
    skus = [line.sku or "" for line in service.form(order_id).lines]
    InventoryRepository(db).upsert_many([InventoryLevel(sku, "WH01", 10) for sku in skus])
    InventoryEditor(db).refresh_allocations()
    assert allocated(db, skus) == [2, 1]

    first = service.submit(order_id, [ups({"line:1": 1})])
    assert first.state is ShipmentState.PENDING
    # Until DSCO confirms, the queued unit cannot be shipped again.
    assert [line.remaining for line in service.form(order_id).lines] == [1, 1]
    drain(db, client)
    outcome = service.settle(client, first.id)
    assert outcome.state is ShipmentState.CONFIRMED, outcome.message
    order = OrderRepository(db).get(order_id)
    assert order is not None and order.lifecycle == "acknowledged"
    assert [p.tracking_number for p in order.packages] == [UPS_1]
    assert allocated(db, skus) == [1, 1]  # the shipped unit is no longer held for the order
    assert [line.remaining for line in service.form(order_id).lines] == [1, 1]

    # The rest, in two packages.
    second = service.submit(
        order_id, [ups({"line:1": 1}, tracking=UPS_2), ups({"line:2": 1}, tracking=UPS_3)]
    )
    drain(db, client)
    outcome = service.settle(client, second.id)
    assert outcome.state is ShipmentState.CONFIRMED
    assert "the order shows" in outcome.message
    order = OrderRepository(db).get(order_id)
    assert order is not None and order.lifecycle == "completed"
    assert sorted(p.tracking_number or "" for p in order.packages) == sorted([UPS_1, UPS_2, UPS_3])
    assert allocated(db, skus) == [0, 0]
    form = service.form(order_id)
    assert not form.shippable
    assert [line.not_shippable_reason() for line in form.lines] == [
        "Already shipped.",
        "Already shipped.",
    ]


def test_over_shipment_is_refused_before_sending(db: Database, client: DscoClient) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    with pytest.raises(PlanRejectedError) as caught:
        service.submit(order_id, [ups({"line:1": 2})])
    assert "2 to ship but only 1 remains" in caught.value.problems[0].message
    assert OutboxRepository(db).counts().pending == 0
    assert service.list() == []


def test_dscos_400_messages_come_back_on_the_shipment(db: Database, client: DscoClient) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    # Someone shipped the line in DSCO's portal; the local copy does not know yet.
    client.single_shipment(
        {
            "dscoOrderId": order_id,
            "shipments": [
                {
                    "trackingNumber": UPS_2,
                    "shipCarrier": "UPS",
                    "shippingServiceLevelCode": "UPCG",
                    "lineItems": [{"lineNumber": 1, "quantity": 1}],
                }
            ],
        }
    )
    shipment = service.submit(order_id, [ups({"line:1": 1})])
    drain(db, client)
    outcome = service.settle(client, shipment.id)
    assert outcome.state is ShipmentState.REJECTED
    assert any("exceeds the 0 remaining" in m for m in outcome.shipment.messages)
    assert outcome.message.startswith("DSCO rejected the shipment: ")
    # A rejected shipment no longer holds its units, and the local copy now knows the truth.
    assert service.shipments.pending_quantities(order_id) == {}
    assert service.form(order_id).lines[0].not_shippable_reason() == "Already shipped."


def test_accepted_but_not_applied_is_its_own_state(db: Database, client: DscoClient) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    shipment = service.submit(order_id, [ups({"line:1": 1})])
    # DSCO answers success but never applies it (what the async batch did to real integrators).
    kinds = dict(KINDS)
    kinds["order.shipment"] = OutboxKind(lambda _c, _p: {"success": True})
    OutboxSender(db, client, kinds=kinds).send_due()
    outcome = service.settle(client, shipment.id, confirm_tries=2, confirm_wait_s=0.05)
    assert outcome.state is ShipmentState.ACCEPTED_NOT_APPLIED
    assert UPS_1 in outcome.message and "does not show" in outcome.message
    # Its units stay blocked: DSCO may still apply them.
    assert service.form(order_id).lines[0].remaining == 0


def test_double_submit_with_the_same_key_queues_once(db: Database, client: DscoClient) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    first = service.submit(order_id, [ups({"line:1": 1})], idempotency_key="k1")
    again = service.submit(order_id, [ups({"line:1": 1})], idempotency_key="k1")
    assert first.id == again.id
    assert OutboxRepository(db).counts().pending == 1


def test_reconcile_settles_what_the_outbox_sent_meanwhile(db: Database, client: DscoClient) -> None:
    service = ShippingService(db)
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    shipment = service.submit(order_id, [ups({"line:1": 1})])
    drain(db, client)
    changed = service.reconcile(client)
    assert [s.id for s in changed] == [shipment.id]
    record = service.shipments.get(shipment.id)
    assert record is not None and record.state is ShipmentState.CONFIRMED
    assert describe(record).startswith("DSCO confirmed")
    assert OutboxRepository(db).get(record.outbox_id or 0).state is OutboxState.SENT  # type: ignore[union-attr]


def test_a_tracking_number_used_by_another_shipment_is_refused(
    db: Database, client: DscoClient
) -> None:
    service = ShippingService(db)
    first_order = new_order(client, [1])
    second_order = new_order(client, [1])
    pull_order(db, client, first_order)
    pull_order(db, client, second_order)
    service.submit(first_order, [ups({"line:1": 1})])
    with pytest.raises(PlanRejectedError) as caught:
        service.submit(second_order, [ups({"line:1": 1})])
    assert "already in shipment" in caught.value.problems[0].message
