"""Every client operation against the running local sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.dsco.errors import AuthError, ServerError, ValidationError, is_transient
from dsco_desktop.dsco.models import Order, ShipmentsForUpdate
from tests.services.orders_support import BUYER

_serial = itertools.count(1)
WAIT = {"timeout_s": 20, "poll_s": 0.05}


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client(sandbox: Any, records: list[CallRecord]) -> Iterator[DscoClient]:
    with DscoClient(
        sandbox.base_url,
        sandbox.client_id,
        sandbox.client_secret,
        on_call=records.append,
        retry_wait_max_s=1.0,
    ) as client:
        yield client


@pytest.fixture
def skus(client: DscoClient) -> list[str]:
    """Two fresh catalog items with stock in WH01, created through the API."""
    tag = next(_serial)
    skus = [f"TST-{tag}-A", f"TST-{tag}-B"]
    answer = client.update_catalog_small_batch(
        [{"sku": s, "title": f"Test tee {s}", "productStatus": "active", "cost": 5} for s in skus]
    )
    assert client.wait_for_change_log("catalog", answer.request_id or "", **WAIT).all_succeeded
    for sku in skus:
        client.update_inventory_single_item(
            {"sku": sku, "quantityAvailable": 10, "warehouses": [{"code": "WH01", "quantity": 10}]}
        )
    return skus


def new_order(
    client: DscoClient, skus: list[str], quantity: int = 2, consumer_order: str | None = None
) -> Order:
    po = f"PO-TEST-{next(_serial):05d}-{datetime.now(UTC):%H%M%S%f}"
    result = client.create_order(
        {
            "poNumber": po,
            "consumerOrderNumber": consumer_order or f"C-{po}",
            "shipping": dict(BUYER),
            "lineItems": [
                {"sku": sku, "quantity": quantity, "lineNumber": n}
                for n, sku in enumerate(skus, start=1)
            ],
        }
    )
    assert result.status == "success"
    return result.dsco_orders[0]


def shipment(order: Order, *, carrier: str | None = "USPS") -> dict[str, Any]:
    return ShipmentsForUpdate(
        po_number=order.po_number,
        shipments=[
            {
                "tracking_number": f"9400{next(_serial):018d}",
                "ship_carrier": carrier,
                "ship_method": "Ground Advantage",
                "shipping_service_level_code": "USGA",
                "line_items": [
                    {"line_number": line.line_number, "quantity": line.quantity}
                    for line in order.line_items
                ],
            }
        ],
    ).to_wire()


# -- connection and tokens --------------------------------------------------------------------


def test_hello_with_a_token(client: DscoClient, records: list[CallRecord]) -> None:
    assert client.hello() == {"hello": "World!"}
    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "/oauth2/token", 200),
        ("GET", "/hello", 200),
    ]


def test_wrong_secret_is_refused_readably(sandbox: Any) -> None:
    client = DscoClient(sandbox.base_url, sandbox.client_id, "wrong")
    with client, pytest.raises(AuthError) as caught:
        client.hello()
    assert "did not accept the client id and secret" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_revoked_token_is_replaced_mid_session(
    sandbox: Any, client: DscoClient, records: list[CallRecord]
) -> None:
    first = client.token()
    sandbox.revoke_tokens()
    assert client.hello() == {"hello": "World!"}
    assert client.token() != first
    assert [r.status for r in records if r.path == "/hello"] == [401, 200]
    assert all(first not in str(r) for r in records)


def test_short_lived_tokens_are_renewed_before_they_expire(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(token_lifetime_s=1.0, seed_demo=False)
    records: list[CallRecord] = []
    with DscoClient(
        sandbox.base_url, sandbox.client_id, sandbox.client_secret, on_call=records.append
    ) as client:
        client.hello()
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while client.tokens.fetch_count < 2 and datetime.now(UTC) < deadline:
            client.hello()
    assert client.tokens.fetch_count >= 2
    assert all(r.status == 200 for r in records)  # renewed in time: never a 401


def test_a_server_error_storm_gives_up_with_a_transient_error(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(error_rate=1.0, seed_demo=False)
    records: list[CallRecord] = []
    with (
        DscoClient(
            sandbox.base_url,
            sandbox.client_id,
            sandbox.client_secret,
            on_call=records.append,
            max_retries=2,
            retry_wait_max_s=0.01,
        ) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.hello()
    assert is_transient(caught.value)
    assert [r.status is not None and r.status >= 500 for r in records if r.path == "/hello"] == [
        True
    ] * 3


def test_rate_limits_are_absorbed_by_short_retries(
    client: DscoClient, skus: list[str], records: list[CallRecord]
) -> None:
    for _ in range(20):  # the spec allows 15 inventory reads a second
        assert client.get_inventory(itemKey="sku", value=skus[0]) is not None
    statuses = [r.status for r in records if r.path.startswith("/inventory?")]
    assert statuses.count(200) == 20
    assert 429 in statuses


# -- catalog ----------------------------------------------------------------------------------


def test_catalog_small_batch_reports_each_record(client: DscoClient) -> None:
    sku = f"CAT-{next(_serial)}"
    answer = client.update_catalog_small_batch(
        [
            {"sku": sku, "title": "Linen shirt", "productStatus": "active", "brand": "Acme"},
            {"sku": f"{sku}-BAD", "productStatus": "active"},
        ]
    )
    assert answer.status == "pending" and answer.request_id
    result = client.wait_for_change_log("catalog", answer.request_id, **WAIT)
    assert result.completed
    assert [e.record_key for e in result.succeeded] == [sku]
    assert [e.record_key for e in result.failed] == [f"{sku}-BAD"]
    assert "title is required" in result.failed[0].message_text
    item = client.get_catalog(itemKey="sku", value=sku)
    assert item is not None and item.title == "Linen shirt" and item.brand == "Acme"
    assert client.get_catalog(item_key="sku", value="NO-SUCH-SKU") is None
    page = client.get_catalog_log(requestId=answer.request_id)
    assert page.status == "COMPLETED" and len(page.logs) == 2


def test_catalog_large_batch_uploads_and_applies(client: DscoClient) -> None:
    tag = next(_serial)
    items = [
        {"sku": f"BIG-{tag}-{n}", "title": f"Item {n}", "productStatus": "active"}
        for n in range(50)
    ]
    answer = client.update_catalog_large_batch(items)
    result = client.wait_for_change_log("catalog", answer.request_id or "", **WAIT)
    assert result.all_succeeded and len(result.entries) == 50
    found = client.get_catalog(itemKey="sku", value=f"BIG-{tag}-49")
    assert found is not None and found.title == "Item 49"


# -- inventory --------------------------------------------------------------------------------


def test_inventory_single_item_and_get(client: DscoClient, skus: list[str]) -> None:
    answer = client.update_inventory_single_item(
        {
            "sku": skus[0],
            "quantityAvailable": 7,
            "warehouses": [{"code": "WH01", "quantity": 4}, {"code": "WH02", "quantity": 3}],
        }
    )
    assert answer["success"] is True
    inventory = client.get_inventory(itemKey="sku", value=skus[0])
    assert inventory is not None
    assert inventory.quantity_available == 7
    assert {w.code: w.quantity for w in inventory.warehouses} == {"WH01": 4, "WH02": 3}
    assert client.get_inventory(itemKey="sku", value="NO-SUCH-SKU") is None


def test_inventory_single_item_rejection_carries_dscos_message(
    client: DscoClient, skus: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        client.update_inventory_single_item(
            {"sku": skus[0], "warehouses": [{"code": "NOWHERE", "quantity": 1}]}
        )
    assert str(caught.value) == (
        f"DSCO rejected the inventory of SKU {skus[0]}: Unknown warehouse code NOWHERE"
    )


def test_inventory_small_batch_and_log(client: DscoClient, skus: list[str]) -> None:
    answer = client.update_inventory_small_batch(
        [
            {"sku": skus[0], "warehouses": [{"code": "WH01", "quantity": 3}]},
            {"sku": skus[1], "warehouses": [{"code": "WH09", "quantity": 3}]},
        ]
    )
    result = client.wait_for_change_log("inventory", answer.request_id or "", **WAIT)
    assert [e.record_key for e in result.succeeded] == [skus[0]]
    assert [(e.record_key, e.message_text) for e in result.failed] == [
        (skus[1], "Unknown warehouse code WH09")
    ]
    inventory = client.get_inventory(itemKey="sku", value=skus[0])
    assert inventory is not None and inventory.quantity_available == 3
    assert len(client.get_inventory_log(request_id=answer.request_id).logs) == 2


def test_inventory_large_batch_both_steps(client: DscoClient, skus: list[str]) -> None:
    answer = client.update_inventory_large_batch(
        [{"sku": sku, "warehouses": [{"code": "WH02", "quantity": 6}]} for sku in skus]
    )
    assert answer.data_url
    result = client.wait_for_change_log("inventory", answer.request_id or "", **WAIT)
    assert result.all_succeeded and len(result.entries) == 2
    inventory = client.get_inventory(itemKey="sku", value=skus[1])
    assert inventory is not None
    assert {w.code: w.quantity for w in inventory.warehouses}["WH02"] == 6


# -- orders -----------------------------------------------------------------------------------


def test_create_and_get_an_order(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus)
    assert order.dsco_lifecycle == "created"
    by_po = client.get_order("poNumber", order.po_number or "")
    by_id = client.get_order("dscoOrderId", order.dsco_order_id or "")
    assert by_po is not None and by_id is not None
    assert by_po.dsco_order_id == by_id.dsco_order_id == order.dsco_order_id
    assert [line.sku for line in by_po.line_items] == skus
    assert by_po.shipping is not None and by_po.shipping.city == "Austin"
    assert client.get_order("poNumber", "NO-SUCH-PO") is None


def test_order_pages_are_followed_by_scroll_id(
    client: DscoClient, skus: list[str], records: list[CallRecord]
) -> None:
    # One consumer order split into many POs: a search that needs no `until`, so the orders
    # created just now are found (a date search must end at least 5 s in the past).
    consumer = f"CONSUMER-{next(_serial)}"
    created = [new_order(client, skus[:1], 1, consumer).po_number for _ in range(12)]
    found = [
        o.po_number for o in client.iter_orders(consumer_order_number=consumer, orders_per_page=10)
    ]
    assert sorted(found) == sorted(created)
    page_calls = [r.path for r in records if r.path.startswith("/order/page")]
    assert len(page_calls) >= 2 and "scrollId=" in page_calls[1]


def test_order_search_until_must_be_in_the_past(client: DscoClient) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValidationError) as caught:
        client.get_order_page(orders_updated_since=now - timedelta(hours=1), until=now)
    assert "until must be at least 5 seconds in the past" in str(caught.value)


def test_acknowledge_orders_through_the_change_log(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus)
    answer = client.acknowledge_orders(
        [{"id": order.dsco_order_id, "type": "DSCO_ORDER_ID", "supplierOrderNumber": "SO-1"}]
    )
    result = client.wait_for_change_log("order", answer.request_id or "", **WAIT)
    assert result.all_succeeded
    assert [e.record_key for e in result.entries] == [order.dsco_order_id]
    again = client.get_order("dscoOrderId", order.dsco_order_id or "")
    assert again is not None
    assert again.dsco_lifecycle == "acknowledged"
    assert again.supplier_order_number == "SO-1"


def test_single_shipment_rejected_then_accepted(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus)
    with pytest.raises(ValidationError) as caught:
        client.single_shipment(shipment(order, carrier=None))
    assert str(caught.value) == (
        f"DSCO rejected the shipment for PO {order.po_number}: "
        "shipments[1]: Ship carrier is required"
    )
    assert caught.value.messages[0].code == "VALIDATION_FAILED"
    body = shipment(order)
    assert client.single_shipment(body)["success"] is True
    shipped = client.get_order("poNumber", order.po_number or "")
    assert shipped is not None
    assert shipped.dsco_lifecycle == "completed"
    assert [p.tracking_number for p in shipped.packages] == [body["shipments"][0]["trackingNumber"]]


def test_shipment_small_batch_reports_the_bad_record(client: DscoClient, skus: list[str]) -> None:
    good, bad = new_order(client, skus), new_order(client, skus)
    answer = client.shipment_small_batch([shipment(good), shipment(bad, carrier=None)])
    result = client.wait_for_change_log("order", answer.request_id or "", **WAIT)
    assert [e.record_key for e in result.succeeded] == [good.po_number]
    assert [e.record_key for e in result.failed] == [bad.po_number]
    assert "Ship carrier is required" in result.failed[0].message_text


def test_cancel_lines_single_and_batch(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus, quantity=2)
    answer = client.cancel_order_item(
        {
            "id": order.dsco_order_id,
            "type": "DSCO_ORDER_ID",
            "lineItems": [{"lineNumber": 1, "cancelledQuantity": 1, "cancelCode": "CXSS"}],
        }
    )
    assert answer.status == "success"
    batch = client.cancel_order_items_small_batch(
        [
            {
                "id": order.po_number,
                "type": "PO_NUMBER",
                "lineItems": [{"lineNumber": 2, "cancelledQuantity": 9, "cancelCode": "CXSS"}],
            }
        ]
    )
    result = client.wait_for_change_log("order", batch.request_id or "", **WAIT)
    assert len(result.failed) == 1 and "exceeds the 2 remaining" in result.failed[0].message_text
    after = client.get_order("dscoOrderId", order.dsco_order_id or "")
    assert after is not None
    assert [(line.cancelled_quantity, line.remaining_quantity) for line in after.line_items] == [
        (1, 1),
        (0, 2),
    ]


def test_orders_small_batch_creates_orders(client: DscoClient, skus: list[str]) -> None:
    po = f"PO-BATCH-{next(_serial)}"
    answer = client.create_orders_small_batch(
        [
            {
                "poNumber": po,
                "shipping": {"city": "Reno", "region": "NV", "postal": "89502"},
                "lineItems": [{"sku": skus[0], "quantity": 1}],
            }
        ]
    )
    assert client.wait_for_change_log("order", answer.request_id or "", **WAIT).all_succeeded
    assert client.get_order("poNumber", po) is not None


# -- streams ----------------------------------------------------------------------------------


def test_order_stream_read_checkpoint_and_range(client: DscoClient, skus: list[str]) -> None:
    stream = client.create_stream("order", stream_id=f"orders-{next(_serial)}")
    assert stream.object_type == "order" and len(stream.partitions) == 1
    start = stream.partitions[0].position or ""
    order = new_order(client, skus)
    page = client.get_stream_events(stream.id or "", 0, start)
    mine = [e for e in page.events if e.payload_as_order().po_number == order.po_number]
    assert mine and mine[0].event_reasons == ["create"]
    assert "/" in (page.last_position or "")
    assert client.checkpoint_stream(stream.id or "", 0, page.last_position or "").status == (
        "success"
    )
    saved = client.get_stream(stream.id or "")
    assert saved is not None and saved.partitions[0].position == page.last_position
    assert client.get_stream_events(stream.id or "", 0, page.last_position or "").events == []
    ranged = client.get_stream_events_in_range(
        stream.id or "", 0, page.events[0].id or "", page.last_position or ""
    )
    assert [e.id for e in ranged.events] == [e.id for e in page.events[:-1]]
    assert len(client.get_stream_events(stream.id or "", 0, start, max_events=1).events) == 1
    now = datetime.now(UTC)
    by_time = client.get_stream_events_in_range(
        stream.id or "", 0, now - timedelta(minutes=1), now + timedelta(minutes=1)
    )
    assert [e.id for e in by_time.events] == [e.id for e in page.events]


def test_stream_update_operations_and_delete(client: DscoClient, skus: list[str]) -> None:
    stream = client.create_stream("inventory", description="stock", max_events={"objectCount": 500})
    stream_id = stream.id or ""
    assert stream_id and any(s.id == stream_id for s in client.list_streams())
    updated = client.update_stream(stream_id, description="stock, two readers", num_partitions=2)
    assert updated.description == "stock, two readers"
    assert len(updated.partitions) == 2
    assert updated.max_events is not None and updated.max_events.object_count == 500
    owner = client.stream_operation(stream_id, "setpartitionowner", partition_id=1, owner_id="pc-1")
    assert owner.operation_uuid
    reread = client.list_streams(stream_id, partition_id=1)
    assert [p.owner_id for p in reread[0].partitions] == ["pc-1"]
    sync = client.stream_operation(stream_id, "sync", sku=skus)
    assert sync.operation_type == "sync"
    synced = [
        e
        for pid in (0, 1)
        for e in client.get_stream_events(
            stream_id, pid, reread[0].partitions[0].position or ""
        ).events
        if e.source == "sync"
    ]
    assert sorted(e.payload_as_inventory().sku or "" for e in synced) == sorted(skus)
    deleted = client.delete_stream(stream_id)
    assert deleted.id == stream_id
    assert client.get_stream(stream_id) is None


# -- invoices and returns ---------------------------------------------------------------------


def test_invoices_single_batch_get_and_log(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus[:1], 1)
    invoice_id = f"INV-{next(_serial)}"
    invoice = {
        "invoiceId": invoice_id,
        "poNumber": order.po_number,
        "totalAmount": 19.99,
        "lineItems": [{"sku": skus[0], "quantity": 1, "unitPrice": 19.99}],
    }
    assert client.create_invoice(invoice)["success"] is True
    found = client.get_invoices(key="invoiceId", value=invoice_id)
    assert [i.po_number for i in found] == [order.po_number]
    assert found[0].dsco_invoice_id
    with pytest.raises(ValidationError, match="already exists"):
        client.create_invoice(invoice)
    answer = client.invoice_small_batch(
        [
            {**invoice, "invoiceId": f"{invoice_id}-B"},
            {**invoice, "invoiceId": f"{invoice_id}-C", "lineItems": [{"quantity": 1}]},
        ]
    )
    result = client.wait_for_change_log("invoice", answer.request_id or "", **WAIT)
    assert [e.record_key for e in result.succeeded] == [f"{invoice_id}-B"]
    assert "unitPrice is required" in result.failed[0].message_text
    assert client.get_invoices(key="invoiceId", value="NO-SUCH") == []
    assert len(client.get_invoice_log(requestId=answer.request_id).logs) == 2


def test_returns_create_page_complete_and_log(client: DscoClient, skus: list[str]) -> None:
    order = new_order(client, skus[:1], 1)
    client.single_shipment(shipment(order))
    number = f"RMA-{next(_serial)}"
    created = client.create_return(
        {
            "returnNumber": number,
            "dscoOrderId": order.dsco_order_id,
            "lineItems": [{"sku": skus[0], "quantity": 1, "reasonCode": "DAMAGED"}],
        }
    )
    assert created.status == "success" and created.return_ is not None
    return_id = created.return_.dsco_return_id or ""
    page = client.get_returns(returnIdType="dscoReturnId", returnIdValue=return_id)
    assert [r.return_number for r in page.returns] == [number]
    assert page.returns[0].status == "created"
    done = client.complete_return(
        {"dscoReturnId": return_id, "lineItems": [{"sku": skus[0], "response": "accepted"}]}
    )
    assert done.return_ is not None and done.return_.status == "completed"
    answer = client.return_small_batch(
        [{"dscoReturnId": return_id, "trackingNumbers": ["1Z-RET"]}], "update"
    )
    result = client.wait_for_change_log("return", answer.request_id or "", **WAIT)
    assert result.completed and len(result.entries) == 1
    assert len(client.get_return_log(requestId=answer.request_id).logs) == 1


# -- warehouses -------------------------------------------------------------------------------


def test_warehouses(client: DscoClient) -> None:
    warehouses = client.get_warehouses()
    assert {w.code for w in warehouses} >= {"WH01", "WH02"}
    assert all(w.warehouse_id for w in warehouses)
    assert [w.code for w in client.get_warehouses(idType="code", idValue="WH02")] == ["WH02"]
