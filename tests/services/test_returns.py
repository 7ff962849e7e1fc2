"""Returns on the sandbox: a retailer's return appears, is completed line by line and its
accepted units are restocked when asked; a supplier's return for shipped units only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from dsco_desktop.domain.returns import ACCEPTED, REJECTED, Decision, NewReturnLine
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.returns import ReturnProblemsError, ReturnsService, describe
from dsco_desktop.store.db import Database
from dsco_desktop.store.returns import RestockState, ReturnState
from tests.services.test_shipping_support import (
    UPS_1,
    drain,
    new_order,
    pull_order,
    ship,
)


def shipped_order(db: Database, client: DscoClient, quantities: list[int]) -> str:
    order_id = new_order(client, quantities)
    pull_order(db, client, order_id)
    ship(db, client, order_id, {f"line:{n}": q for n, q in enumerate(quantities, start=1)}, UPS_1)
    return order_id


def retailer_return(client: DscoClient, order_id: str, number: str) -> str:
    """The retailer opens a return for both lines (the sandbox takes it over the API)."""
    order = client.get_order("dscoOrderId", order_id)
    assert order is not None
    created = client.create_return(
        {
            "returnNumber": number,
            "dscoOrderId": order_id,
            "reason": "Customer return",
            "lineItems": [
                {
                    "sku": line.sku,
                    "lineNumber": line.line_number,
                    "quantity": 1,
                    "reasonCode": "DAMAGED",
                }
                for line in order.line_items
            ],
        }
    )
    assert created.return_ is not None and created.return_.dsco_return_id
    return created.return_.dsco_return_id


def age_returns(sandbox: Any, seconds: float = 30) -> None:
    """Make the sandbox's returns look older: DSCO's search only answers up to 5 s ago."""
    shift = int(seconds * 1000)
    with sandbox.state.tx() as conn:
        conn.execute(
            "UPDATE returns SET created_ms = created_ms - ?, updated_ms = updated_ms - ?",
            (shift, shift),
        )


def test_a_retailers_return_appears_is_completed_and_restocks_when_asked(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    order_id = shipped_order(db, client, [1, 1])
    dsco_id = retailer_return(client, order_id, "RMA-7001")
    age_returns(sandbox)
    staged: list[tuple[str, str, int]] = []

    def sink(units: Sequence[tuple[str, str, int]]) -> None:
        staged.extend(units)

    service = ReturnsService(db, restock_sink=sink)
    report = service.pull(client)
    assert "RMA-7001" in report.changed
    [summary] = service.list_returns()
    assert (summary.return_number, summary.status, summary.units) == ("RMA-7001", "created", 2)
    assert describe(summary) == "Waiting for your answer."
    record = service.get("RMA-7001")
    assert record.dsco_return_id == dsco_id

    # The answer needs every line, and a reason for a rejection.
    with pytest.raises(ReturnProblemsError) as caught:
        service.complete("RMA-7001", [Decision(0, ACCEPTED), Decision(1, REJECTED)])
    assert "say why it is rejected" in (caught.value.detail or "")

    first_sku = record.lines[0].sku
    service.complete(
        "RMA-7001",
        [
            Decision(0, ACCEPTED, restock=True, warehouse_code="WH01"),
            Decision(1, REJECTED, "Used or worn"),
        ],
    )
    assert service.get("RMA-7001").state is ReturnState.COMPLETING
    drain(db, client)
    [done] = service.settle()
    assert done.status == "completed" and done.state is ReturnState.OPEN
    assert [line.response for line in done.lines] == [ACCEPTED, REJECTED]
    assert done.response_reason and "Used or worn" in done.response_reason
    assert staged == [(first_sku, "WH01", 1)]
    [restock] = service.returns.restocks(number="RMA-7001")
    assert restock.state is RestockState.STAGED

    # DSCO agrees, and a later pull restocks nothing twice.
    [at_dsco] = client.get_returns(returnIdType="dscoReturnId", returnIdValue=dsco_id).returns
    assert at_dsco.status == "completed"
    service.pull(client)
    assert staged == [(first_sku, "WH01", 1)]


def test_a_supplier_starts_a_return_for_shipped_units_only(
    db: Database, client: DscoClient
) -> None:
    order_id = shipped_order(db, client, [2])
    service = ReturnsService(db)
    [line] = service.returnable(order_id)
    assert (line.shipped, line.returned, line.open_units) == (2, 0, 2)
    number = service.next_number()
    with pytest.raises(ReturnProblemsError) as caught:
        service.start(order_id, number, [NewReturnLine(line.key, 3, "UNDELIVERABLE")])
    assert "3 coming back but only 2 shipped" in (caught.value.detail or "")

    record = service.start(order_id, number, [NewReturnLine(line.key, 2, "UNDELIVERABLE")])
    assert record.state is ReturnState.CREATING
    assert service.returnable(order_id)[0].open_units == 0
    drain(db, client)
    [created] = service.settle()
    assert created.state is ReturnState.OPEN and created.status == "created"
    assert created.dsco_return_id
    assert created.source == "app"


def test_dscos_refusal_is_kept_on_the_return(db: Database, client: DscoClient) -> None:
    order_id = shipped_order(db, client, [1])
    service = ReturnsService(db)
    [line] = service.returnable(order_id)
    # The order is gone from DSCO's side of things: DSCO refuses the return.
    with db.transaction() as tx:
        tx.execute("UPDATE orders SET raw = json_set(raw, '$.dscoOrderId', 'NOPE')")
    service.start(order_id, "RET-X", [NewReturnLine(line.key, 1, "DAMAGED")])
    drain(db, client)
    [refused] = service.settle()
    assert refused.state is ReturnState.REJECTED
    assert "Order not found" in describe(refused)


def test_restocked_units_become_a_staged_inventory_change(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    from dsco_desktop.services.inventory_sync import InventoryEditor

    order_id = shipped_order(db, client, [1])
    retailer_return(client, order_id, "RMA-7002")
    age_returns(sandbox)
    service = ReturnsService(db)  # the inventory editor's staged changes by default
    service.pull(client)
    sku = service.get("RMA-7002").lines[0].sku
    assert sku
    service.complete("RMA-7002", [Decision(0, ACCEPTED, restock=True, warehouse_code="WH09")])
    drain(db, client)
    service.settle()
    editor = InventoryEditor(db)
    [row] = editor.repo.rows(keys=[(sku, "WH09")])
    assert row.pending and row.quantity == 1
    assert editor.repo.pending_count() == 1
