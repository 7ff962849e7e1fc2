"""Acknowledge and cancel: queued locally, sent through the outbox, confirmed by the stream."""

from __future__ import annotations

from typing import Any

import pytest

from dsco_desktop.domain.orders import CancelLine
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.order_actions import OrderActions
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxState
from tests.services.orders_support import create_orders, wait_for


@pytest.fixture
def stream(db: Database, client: DscoClient) -> OrderStreamService:
    service = OrderStreamService(db, client, backfill_days=0)
    service.poll()
    return service


def _deliver(db: Database, client: DscoClient) -> None:
    report = OutboxSender(db, client).send_due()
    assert report.sent >= 1, report


def test_acknowledge_reaches_dsco_and_comes_back_through_the_stream(
    sandbox: Any, db: Database, client: DscoClient, stream: OrderStreamService
) -> None:
    ids = create_orders(client, sandbox, 2)
    stream.poll()
    repo = OrderRepository(db)
    actions = OrderActions(db)
    result = actions.acknowledge(ids)
    assert sorted(result.queued) == sorted(ids)
    assert "2 order(s) will be acknowledged" in result.message
    rows = repo.summaries(ids)
    assert {rows[i].acknowledgement for i in ids} == {"queued"}
    # Asking again while it is on its way queues nothing more.
    again = actions.acknowledge(ids)
    assert again.queued == () and sorted(again.already) == sorted(ids)
    assert OutboxRepository(db).counts().pending == 1
    _deliver(db, client)
    assert {repo.summaries(ids)[i].acknowledgement for i in ids} == {"sent"}
    wait_for(lambda: stream.poll() and all(repo.get(i).lifecycle == "acknowledged" for i in ids))  # type: ignore[union-attr]
    rows = repo.summaries(ids)
    assert {rows[i].status for i in ids} == {"acknowledged"}
    assert {rows[i].acknowledgement for i in ids} == {None}  # confirmed: nothing pending
    assert [o["dscoLifecycle"] for o in sandbox.state.orders_by_ids(ids)] == ["acknowledged"] * 2
    assert actions.acknowledge(ids).already == tuple(ids)


def test_cancel_reaches_dsco_and_comes_back_through_the_stream(
    sandbox: Any, db: Database, client: DscoClient, stream: OrderStreamService
) -> None:
    [order_id] = create_orders(client, sandbox, 1)
    stream.poll()
    repo = OrderRepository(db)
    order = repo.get(order_id)
    assert order is not None
    first = order.lines[0]  # quantity 2
    actions = OrderActions(db)
    row_id = actions.cancel_lines(
        order_id, [CancelLine(first.line_number, first.sku, 1, "CXSS", "Sold at the market")]
    )
    # A double click queues the same change once.
    assert (
        actions.cancel_lines(
            order_id, [CancelLine(first.line_number, first.sku, 1, "CXSS", "Sold at the market")]
        )
        == row_id
    )
    assert [c.state for c in repo.cancels(order_id)] == ["queued"]
    # The unit waiting to be cancelled is not offered again.
    with pytest.raises(UserFacingError, match="Only 1 unit of line 1"):
        actions.cancel_lines(order_id, [CancelLine(first.line_number, first.sku, 2, "CXSN")])
    _deliver(db, client)
    assert [c.state for c in repo.cancels(order_id)] == ["sent"]
    wait_for(lambda: stream.poll() and repo.cancels(order_id)[0].state == "confirmed")
    line = repo.get(order_id).lines[0]  # type: ignore[union-attr]
    assert (line.cancelled_quantity, line.quantity) == (1, 2)
    at_dsco = sandbox.state.orders_by_ids([order_id])[0]["lineItems"][0]
    assert (at_dsco["cancelledQuantity"], at_dsco["cancelCode"]) == (1, "CXSS")


def test_a_cancel_dsco_refuses_shows_its_reason(
    sandbox: Any, db: Database, client: DscoClient, stream: OrderStreamService
) -> None:
    [order_id] = create_orders(client, sandbox, 1)
    stream.poll()
    repo = OrderRepository(db)
    line = repo.get(order_id).lines[1]  # type: ignore[union-attr]  # quantity 1
    row_id = OrderActions(db).cancel_lines(
        order_id, [CancelLine(line.line_number, line.sku, 1, "CXSD")]
    )
    # Meanwhile the retailer's side ships everything: DSCO now refuses the cancel.
    client.single_shipment(
        {
            "dscoOrderId": order_id,
            "shipments": [
                {
                    "trackingNumber": "9400111899223100000001",
                    "shipCarrier": "USPS",
                    "shippingServiceLevelCode": "USGA",
                    "lineItems": [{"lineNumber": line.line_number, "quantity": 1}],
                }
            ],
        }
    )
    OutboxSender(db, client).send_due()
    row = OutboxRepository(db).get(row_id)
    assert row is not None and row.state is OutboxState.REJECTED
    [cancel] = repo.cancels(order_id)
    assert cancel.state == "failed"
    assert "exceeds" in (cancel.error or "")


def test_cancel_names_the_line_when_asking_for_too_much(
    sandbox: Any, db: Database, client: DscoClient, stream: OrderStreamService
) -> None:
    [order_id] = create_orders(client, sandbox, 1)
    stream.poll()
    order = OrderRepository(db).get(order_id)
    assert order is not None
    line = order.lines[0]
    with pytest.raises(UserFacingError, match=rf"PO {order.po_number}.*Only 2 units of line 1"):
        OrderActions(db).cancel_lines(order_id, [CancelLine(1, line.sku, 5, "CXSS")])
    assert OutboxRepository(db).counts().pending == 0


def test_auto_acknowledge_queues_new_orders_as_they_arrive(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    service = OrderStreamService(db, client, backfill_days=0, auto_acknowledge=lambda: True)
    service.poll()
    ids = create_orders(client, sandbox, 3)
    service.poll()
    rows = OrderRepository(db).summaries(ids)
    assert {rows[i].acknowledgement for i in ids} == {"queued"}
    _deliver(db, client)
    repo = OrderRepository(db)
    wait_for(lambda: service.poll() and all(repo.get(i).lifecycle == "acknowledged" for i in ids))  # type: ignore[union-attr]
