"""What the client puts on the wire is what the vendor's OpenAPI spec describes.

Each request the client sends is matched to a spec operation (method and path template), its
query parameter names are checked against the operation's parameters, and its JSON body is
validated against the operation's request schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from dsco_desktop.dsco.client import DscoClient
from tests.dsco.fake_dsco import FakeDsco

# The spec lives beside the repository (../shared/reference), as for the sandbox's tests.
SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared/reference/dsco-api-v3-openapi.yaml"

ORDER = {"dscoOrderId": "1022178919", "poNumber": "PO1", "lineItems": [], "packages": []}
STREAM = {
    "id": "s1",
    "objectType": "order",
    "query": {"queryType": "order"},
    "partitions": [{"partitionId": 0, "position": "z/2025/10/31/01/25/1761873943592"}],
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"the vendor spec is not at {SPEC_PATH}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The spec operation whose path template matches `path` (most literal template wins)."""
    candidates = []
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        op = item.get(method.lower())
        if op is not None and re.match(pattern, path):
            candidates.append((template.count("{"), template, op))
    assert candidates, f"{method} {path} is not an operation of the spec"
    return sorted(candidates, key=lambda c: c[0])[0][2]


def _check(spec: dict[str, Any], request: httpx.Request) -> str:
    path = request.url.raw_path.decode().split("?", 1)[0].removeprefix("/api/v3")
    op = _operation(spec, request.method, path)
    allowed = {p["name"] for p in op.get("parameters") or [] if p.get("in") == "query"}
    for name in request.url.params:
        assert name in allowed, f"{op['operationId']}: unknown query parameter {name}"
    body = (op.get("requestBody") or {}).get("content") or {}
    if request.content and "application/json" in body:
        schema = body["application/json"]["schema"]
        # Not `jsonschema.validate`: the spec's own schema has a malformed corner
        # (ItemCatalog.extendedAttributes) that a meta-schema check refuses outright.
        jsonschema.Draft202012Validator(schema).validate(json.loads(request.content))
    return str(op["operationId"])


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/api/v3")
    if request.method == "GET" and path == "/stream":
        return httpx.Response(200, json=[STREAM])
    if request.method == "GET" and path == "/order/":
        return httpx.Response(200, json=ORDER)
    if request.method == "GET" and path.endswith("/log"):
        return httpx.Response(200, json={"status": "COMPLETED", "logs": []})
    if path.endswith("/batch/large"):
        return httpx.Response(
            200,
            json={"status": "success", "requestId": "r", "dataUrl": "https://up.test/x"},
        )
    if request.method == "POST" and path.startswith("/stream/"):
        return httpx.Response(202, json={"operationType": "sync", "operationUuid": "u"})
    if path.startswith("/stream"):
        return httpx.Response(200, json=STREAM)
    return httpx.Response(202, json={"status": "pending", "requestId": "r", "eventDate": "now"})


SHIPMENT = {
    "poNumber": "PO1",
    "shipments": [
        {
            "trackingNumber": "1Z999",
            "shipCarrier": "UPS",
            "shippingServiceLevelCode": "UPCG",
            "shipDate": "2025-11-14T00:00:00Z",
            "lineItems": [{"lineNumber": 1, "quantity": 1, "sku": "A"}],
        }
    ],
}
CANCEL = {
    "id": "1022178919",
    "type": "DSCO_ORDER_ID",
    "lineItems": [{"lineNumber": 1, "cancelledQuantity": 1, "cancelCode": "CXSS"}],
}
INVENTORY = {"sku": "A", "quantityAvailable": 1, "warehouses": [{"code": "WH01", "quantity": 1}]}
ITEM = {"sku": "A", "title": "Tee", "productStatus": "active"}
INVOICE = {
    "invoiceId": "INV1",
    "poNumber": "PO1",
    "totalAmount": 10.0,
    "lineItems": [{"sku": "A", "quantity": 1, "unitPrice": 10.0}],
}
RETURN = {
    "returnNumber": "R1",
    "dscoOrderId": "1022178919",
    "lineItems": [{"sku": "A", "quantity": 1, "reasonCode": "DAMAGED"}],
}

CALLS: dict[str, Callable[[DscoClient], Any]] = {
    "helloWorld": lambda c: c.hello(),
    "getOrders": lambda c: c.get_order_page(
        orders_updated_since="2025-01-01T00:00:00Z",
        until="2025-01-02T00:00:00Z",
        status=["created", "shipped"],
        orders_per_page=100,
    ),
    "getOrderById": lambda c: c.get_order("poNumber", "PO1"),
    "acknowledgeOrders": lambda c: c.acknowledge_orders(
        [{"id": "1022178919", "type": "DSCO_ORDER_ID", "supplierOrderNumber": "SO1"}]
    ),
    "cancelOrderItem": lambda c: c.cancel_order_item(CANCEL),
    "cancelOrderItemSmallBatch": lambda c: c.cancel_order_items_small_batch([CANCEL]),
    "singleShipment": lambda c: c.single_shipment(SHIPMENT),
    "createShipmentSmallBatch": lambda c: c.shipment_small_batch([SHIPMENT]),
    "getOrderChangeLog": lambda c: c.get_order_log(requestId="r", status="failure"),
    "getInventoryById": lambda c: c.get_inventory(itemKey="sku", value="A"),
    "singleItem": lambda c: c.update_inventory_single_item(INVENTORY),
    "updateInventorySmallBatch": lambda c: c.update_inventory_small_batch(
        [INVENTORY], skip_items_that_dont_exist=True
    ),
    "updateInventoryLargeBatch": lambda c: c.update_inventory_large_batch([INVENTORY]),
    "getInventoryChangeLog": lambda c: c.get_inventory_log(
        startDate="2025-01-01T00:00:00Z", endDate="2025-01-02T00:00:00Z"
    ),
    "getCatalogById": lambda c: c.get_catalog(itemKey="sku", value="A"),
    "updateCatalogSmallBatch": lambda c: c.update_catalog_small_batch([ITEM]),
    "updateCatalogLargeBatch": lambda c: c.update_catalog_large_batch([ITEM]),
    "getCatalogChangeLog": lambda c: c.get_catalog_log(scrollId="s"),
    "createStream": lambda c: c.create_stream(
        "order", stream_id="s1", description="orders", max_events={"objectCount": 100}
    ),
    "listStreams": lambda c: c.list_streams("s1", partition_id=0),
    "updateStream": lambda c: c.update_stream("s1", num_partitions=2),
    "createStreamOperation": lambda c: c.stream_operation(
        "s1", "setpartitionowner", partition_id=0, owner_id="pc-1"
    ),
    "deleteStream": lambda c: c.delete_stream("s1"),
    "getStreamEventsFromPosition": lambda c: c.get_stream_events("s1", 0, "z/2025/11/06/1-1"),
    "getStreamEventsInRange": lambda c: c.get_stream_events_in_range("s1", 0, "a", "b"),
    "updateStreamPosition": lambda c: c.checkpoint_stream("s1", 0, "z/2025/11/06/1-1"),
    "singleInvoice": lambda c: c.create_invoice(INVOICE),
    "createInvoiceSmallBatch": lambda c: c.invoice_small_batch([INVOICE]),
    "getInvoiceById": lambda c: c.get_invoices(key="invoiceId", value="INV1"),
    "getInvoiceChangeLog": lambda c: c.get_invoice_log(requestId="r"),
    "createReturn": lambda c: c.create_return(RETURN),
    "completeReturn": lambda c: c.complete_return(
        {"dscoReturnId": "3", "lineItems": [{"sku": "A", "quantity": 1, "response": "accepted"}]}
    ),
    "getReturns": lambda c: c.get_returns(returnIdType="returnNumber", returnIdValue="R1"),
    "getReturnChangeLog": lambda c: c.get_return_log(requestId="r"),
    "getWarehouses": lambda c: c.get_warehouses(idType="code", idValue="WH01"),
}


@pytest.mark.parametrize("operation_id", sorted(CALLS))
def test_requests_match_the_spec_operation(spec: dict[str, Any], operation_id: str) -> None:
    fake = FakeDsco()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return fake.handler(request)
        fake.requests.append(request)
        if request.url.host == "up.test":
            return httpx.Response(200)
        return _answer(request)

    client = DscoClient(
        "https://api.dsco.test/api/v3", "id", "secret", transport=httpx.MockTransport(handler)
    )
    with client:
        CALLS[operation_id](client)
    api_calls = [r for r in fake.requests if r.url.host != "up.test"]
    assert operation_id in [_check(spec, r) for r in api_calls]
