"""Invoicing on the sandbox: a partial shipment billed exactly, a number never used twice,
a day's orders billed in one small batch, and DSCO's refusals kept on the invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.invoicing import (
    BATCH_KIND,
    InvoiceProblemsError,
    InvoicingService,
    describe,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.invoices import DuplicateInvoiceError, InvoiceState
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository
from tests.services.test_shipping_support import (
    UPS_1,
    UPS_2,
    drain,
    new_order,
    pull_order,
    ship,
)

TODAY = date(2025, 11, 14)


def expected_costs(db: Database, order_id: str) -> list[Decimal]:
    order = OrderRepository(db).get(order_id)
    assert order is not None
    return [
        Decimal(str(line.raw["expectedCost"])).quantize(Decimal("0.01")) for line in order.lines
    ]


def test_an_invoice_from_a_partial_shipment_bills_exactly_what_shipped_and_is_accepted(
    db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [2, 1])
    pull_order(db, client, order_id)
    ship(db, client, order_id, {"line:1": 1}, UPS_1)
    service = InvoicingService(db, today=lambda: TODAY)

    [waiting] = service.uninvoiced()
    assert waiting.dsco_order_id == order_id and waiting.open_units == 1

    context = service.draft(order_id)
    draft = context.draft
    cost = expected_costs(db, order_id)[0]
    assert [(line.line_number, line.quantity, line.unit_price) for line in draft.lines] == [
        (1, 1, cost)
    ]
    assert draft.lines[0].tracking_number == UPS_1
    assert draft.total == cost
    assert draft.invoice_id == "INV-20251114-0001"
    assert service.review(context) == []

    record = service.submit(context)
    assert record.state is InvoiceState.PENDING
    # Queued units are billed: the order leaves the list before DSCO even answers.
    assert service.uninvoiced() == []
    drain(db, client)
    [settled] = service.settle(client)
    assert settled.state is InvoiceState.ACCEPTED, describe(settled)
    assert settled.dsco_invoice_id
    assert "Accepted by DSCO" in describe(settled)
    at_dsco = client.get_invoices(key="invoiceId", value=draft.invoice_id)
    assert [(inv.total_amount, len(inv.line_items)) for inv in at_dsco] == [(float(cost), 1)]

    # Shipping the rest makes the order invoiceable again, for the new package only.
    ship(db, client, order_id, {"line:1": 1, "line:2": 1}, UPS_2)
    second = service.draft(order_id).draft
    assert sorted((line.line_number, line.quantity) for line in second.lines) == [(1, 1), (2, 1)]
    assert {line.tracking_number for line in second.lines} == {UPS_2}
    assert second.invoice_id == "INV-20251114-0002"


def test_a_second_invoice_with_the_same_number_is_stopped_locally(
    db: Database, client: DscoClient
) -> None:
    order_id = new_order(client, [2])
    pull_order(db, client, order_id)
    ship(db, client, order_id, {"line:1": 1}, UPS_1)
    service = InvoicingService(db, today=lambda: TODAY)
    first = service.draft(order_id, invoice_id="INV-SAME")
    service.submit(first)
    ship(db, client, order_id, {"line:1": 1}, UPS_2)

    again = service.draft(order_id, invoice_id="INV-SAME")
    issues = service.review(again)
    assert [i.message for i in issues if i.is_error] == [
        "Invoice number INV-SAME is already used. DSCO never accepts a number twice; "
        "choose another."
    ]
    with pytest.raises(InvoiceProblemsError) as caught:
        service.submit(again)
    assert "INV-SAME is already used" in (caught.value.detail or "")
    # Even past the review (a race with another window), the store refuses the number.
    with pytest.raises(DuplicateInvoiceError), db.transaction() as tx:
        service.invoices.add(
            again.draft.to_wire(), lines=[], ship_date=None, outbox_id=None, conn=tx
        )
    assert [r.payload["invoiceId"] for r in OutboxRepository(db).list() if r.kind == "invoice"] == [
        "INV-SAME"
    ]
    # A fresh number from the pattern goes through.
    fresh = again.draft.with_changes(invoice_id=service.next_number())
    assert service.submit(again, fresh).state is InvoiceState.PENDING


def test_nothing_left_to_bill_is_said_plainly(db: Database, client: DscoClient) -> None:
    order_id = new_order(client, [1])
    pull_order(db, client, order_id)
    service = InvoicingService(db, today=lambda: TODAY)
    with pytest.raises(UserFacingError, match=r"Nothing shipped on order .* is left to invoice"):
        service.draft(order_id)


def test_a_days_orders_go_in_one_small_batch_and_each_outcome_comes_from_the_change_log(
    db: Database, client: DscoClient
) -> None:
    first = new_order(client, [1])
    second = new_order(client, [1])
    for order_id, tracking in ((first, UPS_1), (second, UPS_2)):
        pull_order(db, client, order_id)
        ship(db, client, order_id, {"line:1": 1}, tracking)
    service = InvoicingService(db, today=lambda: TODAY)
    contexts, skipped = service.drafts_for_day(date.today())
    assert skipped == []
    assert sorted(c.order.dsco_order_id for c in contexts) == sorted([first, second])
    # One of them carries a number DSCO already has (made elsewhere): DSCO refuses that one.
    taken = contexts[1].draft
    client.create_invoice(
        {
            "invoiceId": "ELSEWHERE-1",
            "dscoOrderId": taken.dsco_order_id,
            "totalAmount": 1.0,
            "lineItems": [{"sku": taken.lines[0].sku, "quantity": 1, "unitPrice": 1.0}],
        }
    )
    contexts[1] = type(contexts[1])(
        taken.with_changes(invoice_id="ELSEWHERE-1"),
        contexts[1].order,
        contexts[1].packages,
        contexts[1].invoiced,
    )

    result = service.submit_bulk(contexts)
    assert result.held_back == ()
    assert [r.kind for r in OutboxRepository(db).list() if r.kind.startswith("invoice")] == [
        BATCH_KIND
    ]
    drain(db, client)

    def settled() -> dict[str, InvoiceState]:
        service.settle(client)
        return {r.invoice_id: r.state for r in service.list_invoices()}

    from tests.services.orders_support import wait_for

    states = wait_for(
        lambda: (
            (s := settled())
            and all(v not in (InvoiceState.PENDING, InvoiceState.SENT) for v in s.values())
            and s
        )
    )
    assert states == {
        contexts[0].draft.invoice_id: InvoiceState.ACCEPTED,
        "ELSEWHERE-1": InvoiceState.REJECTED,
    }
    rejected = service.invoices.get("ELSEWHERE-1")
    assert rejected is not None and "already exists" in describe(rejected)


def test_a_bad_pattern_is_explained(db: Database) -> None:
    service = InvoicingService(db, number_pattern="INV-{YYYY}")
    with pytest.raises(UserFacingError, match=r"needs \{SEQ\}"):
        service.next_number()
