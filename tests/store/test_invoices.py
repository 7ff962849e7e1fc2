"""The invoice store: a number is stored once, what is billed is known per package and line,
refused invoices stop billing, and the orders left to invoice are found in SQL."""

from __future__ import annotations

from typing import Any

import pytest

from dsco_desktop.store.db import Database
from dsco_desktop.store.invoices import DuplicateInvoiceError, InvoiceRepository, InvoiceState
from dsco_desktop.store.orders import OrderRepository


def order(order_id: str, shipped: int, ship_date: str = "2025-11-14T09:00:00Z") -> dict[str, Any]:
    return {
        "dscoOrderId": order_id,
        "poNumber": f"PO-{order_id}",
        "dscoLastUpdate": "2025-11-14T10:00:00Z",
        "shipping": {"name": "Ana Diaz"},
        "lineItems": [{"lineNumber": 1, "sku": "RED-S", "quantity": 2, "shippedQuantity": shipped}],
        "packages": [
            {
                "trackingNumber": f"1Z{order_id}",
                "shipDate": ship_date,
                "items": [{"lineNumber": 1, "quantity": shipped}],
            }
        ]
        if shipped
        else [],
    }


def invoice(repo: InvoiceRepository, db: Database, number: str, order_id: str, qty: int) -> None:
    body = {"invoiceId": number, "dscoOrderId": order_id, "totalAmount": 10.0 * qty}
    lines = [
        {
            "lineNumber": 1,
            "sku": "RED-S",
            "quantity": qty,
            "unitPrice": 10.0,
            "lineKey": "line:1",
            "trackingNumber": f"1Z{order_id}",
        }
    ]
    with db.transaction() as tx:
        repo.add(body, lines=lines, ship_date=None, outbox_id=None, conn=tx)


def test_a_number_is_stored_once_and_billing_is_tracked_per_package(db: Database) -> None:
    OrderRepository(db).upsert_many([order("1", 2), order("2", 1), order("3", 0)])
    repo = InvoiceRepository(db)
    assert [o.dsco_order_id for o in repo.uninvoiced_orders()] == ["1", "2"]
    invoice(repo, db, "INV-1", "1", 1)
    with pytest.raises(DuplicateInvoiceError, match="INV-1 is already used"):
        invoice(repo, db, "INV-1", "2", 1)
    assert repo.taken(["INV-1", "INV-2"]) == {"INV-1"}
    assert repo.invoiced_units("1") == {("1Z1", "line:1"): 1}
    left = {o.dsco_order_id: o.open_units for o in repo.uninvoiced_orders()}
    assert left == {"1": 1, "2": 1}
    # A refused invoice bills nothing: its units are open again.
    repo.set_state("INV-1", InvoiceState.REJECTED, message="no", messages=["no"])
    assert repo.invoiced_units("1") == {}
    assert repo.get("INV-1").messages == ("no",)  # type: ignore[union-attr]
    assert [o.dsco_order_id for o in repo.uninvoiced_orders(text="po-2")] == ["2"]
    assert repo.uninvoiced_orders(shipped_on="2025-11-13") == []


def test_sequences_are_never_handed_out_twice(db: Database) -> None:
    repo = InvoiceRepository(db)
    assert repo.reserve_sequences(2) == [1, 2]
    assert repo.reserve_sequences(1) == [3]
    assert InvoiceRepository(db).reserve_sequences(1) == [4]
