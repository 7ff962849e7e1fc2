"""Orders over HTTP: lookup, paging, retailer creation, acknowledge, cancel, shipments, log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.sandbox import spec
from tests.sandbox.conftest import Api, wait_until

SHIP = "/order/singleShipment"


def _shipment(oid: str, lines: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    shipment = {
        "trackingNumber": "1Z999AA10123456784",
        "shipCarrier": "UPS",
        "shipMethod": "Ground",
        "shippingServiceLevelCode": "UPCG",
        "lineItems": lines,
    }
    shipment.update(overrides)
    return {"dscoOrderId": oid, "shipments": [{k: v for k, v in shipment.items() if v}]}


def test_seeded_shop_has_orders_in_several_states(api: Api) -> None:
    body = spec.check(api.get("/order/page"), "/order/page", "get", 200)
    assert len(body["orders"]) == 8
    assert {o["dscoLifecycle"] for o in body["orders"]} == {"created", "acknowledged", "completed"}
    assert {o["dscoStatus"] for o in body["orders"]} >= {"created", "shipped", "cancelled"}
    for order in body["orders"]:
        assert order["shipping"]["country"] == "US"
        assert 1 <= len(order["lineItems"]) <= 3


def test_order_page_scrolls_and_its_scroll_id_expires(sandbox_factory: Any) -> None:
    sb = sandbox_factory(rate_limits=False, scroll_ttl_s=0.3)
    api = Api(sb)
    for n in range(7):
        api.create_order(f"PAGE-{n}", [(api.skus()[n], 1)])
    first = spec.check(
        api.get("/order/page", params={"ordersPerPage": 10}), "/order/page", "get", 200
    )
    assert len(first["orders"]) == 10
    second = spec.check(
        api.get("/order/page", params={"scrollId": first["scrollId"]}), "/order/page", "get", 200
    )
    assert len(second["orders"]) == 5
    assert "scrollId" not in second
    ids = [o["dscoOrderId"] for o in first["orders"] + second["orders"]]
    assert len(set(ids)) == 15

    third = api.get("/order/page", params={"ordersPerPage": 10}).json()
    wait_until(
        lambda: api.get("/order/page", params={"scrollId": third["scrollId"]}).status_code == 404,
        what="scrollId expiry",
    )


def test_order_page_filters(api: Api) -> None:
    shipped = api.get("/order/page", params={"status": "shipped"}).json()["orders"]
    assert shipped and {o["dscoStatus"] for o in shipped} == {"shipped"}
    both = api.get("/order/page", params=[("status", "shipped"), ("status", "cancelled")])
    assert {o["dscoStatus"] for o in both.json()["orders"]} == {"shipped", "cancelled"}
    order = api.create_order("FILTER-1", [(api.skus()[0], 1)])
    since = api.get("/order/page", params={"ordersCreatedSince": order["dscoCreateDate"]})
    assert [o["poNumber"] for o in since.json()["orders"]] == ["FILTER-1"]
    by_con = api.get("/order/page", params={"consumerOrderNumber": "nope"}).json()
    assert by_con["orders"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"ordersPerPage": 5},
        {"ordersPerPage": 1001},
        {"until": "2100-01-01T00:00:00+00:00"},
        {"status": "bogus"},
        {"ordersUpdatedSince": "yesterday"},
    ],
)
def test_order_page_rejects_bad_parameters(api: Api, params: dict[str, Any]) -> None:
    r = api.get("/order/page", params=params)
    assert r.status_code == 400
    assert r.json()["messages"][0]["description"]


def test_until_in_the_past_is_accepted(api: Api) -> None:
    until = (datetime.now(UTC) - timedelta(seconds=6)).isoformat()
    assert api.get("/order/page", params={"until": until}).status_code == 200


def test_get_order_by_each_key_and_not_found(api: Api) -> None:
    order = api.create_order("LOOKUP-1", [(api.skus()[0], 1)])
    by_id = spec.check(
        api.get("/order/", params={"orderKey": "dscoOrderId", "value": order["dscoOrderId"]}),
        "/order/",
        "get",
        200,
    )
    assert by_id["poNumber"] == "LOOKUP-1"
    multiple = api.get(
        "/order", params={"orderKey": "poNumber", "value": "LOOKUP-1", "returnMultiple": "true"}
    )
    assert [o["dscoOrderId"] for o in multiple.json()] == [order["dscoOrderId"]]
    assert api.get("/order/", params={"orderKey": "poNumber", "value": "NOPE"}).status_code == 404
    assert api.get("/order/", params={"orderKey": "poNumber"}).status_code == 400


def test_create_order_is_idempotent_by_po_and_validated(api: Api) -> None:
    sku = api.skus()[0]
    body = {
        "poNumber": "RET-1",
        "lineItems": [{"sku": sku, "quantity": 2}],
        "shipping": {"city": "Denver", "region": "CO", "postal": "80205"},
    }
    created = spec.check(api.post("/order/", json=body), "/order/", "post", 201)
    again = spec.check(api.post("/order/", json=body), "/order/", "post", 200)
    assert again["dscoOrderIds"] == created["dscoOrderIds"]
    order = created["dscoOrders"][0]
    assert order["dscoLifecycle"] == "created"
    assert order["lineItems"][0]["dscoItemId"]
    assert order["dscoOrderId"].isdigit()
    bad = api.post(
        "/order/", json={"poNumber": "RET-2", "lineItems": [{"sku": "NOPE", "quantity": 0}]}
    )
    assert bad.status_code == 400
    text = " ".join(m["description"] for m in bad.json()["messages"])
    assert "shipping" in text and "quantity" in text and "NOPE" in text


def test_acknowledge_is_async_and_logged_per_record(sandbox_factory: Any) -> None:
    sb = sandbox_factory(rate_limits=False, async_delay_s=0.3)
    api = Api(sb)
    order = api.create_order("ACK-1", [(api.skus()[0], 1)])
    r = api.post(
        "/order/acknowledge",
        json=[
            {"id": order["dscoOrderId"], "type": "DSCO_ORDER_ID", "supplierOrderNumber": "SO-1"},
            {"id": "999", "type": "DSCO_ORDER_ID"},
        ],
    )
    body = spec.check(r, "/order/acknowledge", "post", 202)
    early = spec.check(
        api.get("/order/log", params={"requestId": body["requestId"]}), "/order/log", "get", 200
    )
    assert early["status"] == "PROCESSING"
    assert {e["status"] for e in early["logs"]} == {"pending"}
    assert api.order(order["dscoOrderId"])["dscoLifecycle"] == "created"
    log = api.wait_log("order", body["requestId"])
    spec.check_log(log, "/order/log")
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]
    assert log["logs"][1]["results"][0]["severity"] == "error"
    acked = api.order(order["dscoOrderId"])
    assert acked["dscoLifecycle"] == "acknowledged"
    assert acked["supplierOrderNumber"] == "SO-1"
    failures = api.get("/order/log", params={"requestId": body["requestId"], "status": "failure"})
    assert len(failures.json()["logs"]) == 1


def test_cancel_single_order_lines(api: Api) -> None:
    order = api.create_order("CXL-1", [(api.skus()[0], 2), (api.skus()[1], 1)])
    oid = order["dscoOrderId"]
    body = {
        "id": oid,
        "type": "DSCO_ORDER_ID",
        "lineItems": [{"lineNumber": 1, "cancelledQuantity": 1, "cancelCode": "CXSS"}],
    }
    spec.check(api.post("/order/item/cancel", json=body), "/order/item/cancel", "post", 200)
    after = api.order(oid)
    assert after["dscoLifecycle"] == "acknowledged"
    line = after["lineItems"][0]
    assert (line["cancelledQuantity"], line["remainingQuantity"], line["cancelCode"]) == (
        1,
        1,
        "CXSS",
    )

    bad_code = dict(
        body, lineItems=[{"lineNumber": 1, "cancelledQuantity": 1, "cancelCode": "NOPE"}]
    )
    assert api.post("/order/item/cancel", json=bad_code).status_code == 400
    too_many = dict(
        body, lineItems=[{"lineNumber": 1, "cancelledQuantity": 2, "cancelCode": "CXSO"}]
    )
    r = api.post("/order/item/cancel", json=too_many)
    assert r.status_code == 400
    assert "exceeds" in r.json()["messages"][0]["description"]

    rest = {
        "id": "CXL-1",
        "type": "PO_NUMBER",
        "lineItems": [
            {"sku": api.skus()[0], "cancelledQuantity": 1, "cancelCode": "CXSD"},
            {"lineNumber": 2, "cancelledQuantity": 1, "cancelCode": "CXSN"},
        ],
    }
    r = api.post("/order/item/cancel/batch/small", json=[rest])
    log = api.wait_log(
        "order", spec.check(r, "/order/item/cancel/batch/small", "post", 202)["requestId"]
    )
    assert [e["status"] for e in log["logs"]] == ["success"]
    done = api.order(oid)
    assert (done["dscoLifecycle"], done["dscoStatus"]) == ("completed", "cancelled")
    assert {li["status"] for li in done["lineItems"]} == {"cancelled"}


@pytest.mark.parametrize(
    ("overrides", "lines", "expected"),
    [
        ({"trackingNumber": None}, None, "Tracking number is required"),
        ({"shipCarrier": None}, None, "Ship carrier is required"),
        ({"shippingServiceLevelCode": None}, None, "service level code is required"),
        ({"shippingServiceLevelCode": "GCG"}, None, "generic"),
        ({}, [{"sku": "NOT-ON-ORDER", "quantity": 1}], "Line item not found"),
        ({}, [{"lineNumber": 1, "quantity": 3}], "exceeds the 2 remaining"),
        ({}, [], "at least one line item"),
    ],
)
def test_single_shipment_validation(
    api: Api, overrides: dict[str, Any], lines: list[dict[str, Any]] | None, expected: str
) -> None:
    order = api.create_order("SHIPV-1", [(api.skus()[0], 2)])
    body = _shipment(
        order["dscoOrderId"],
        [{"lineNumber": 1, "quantity": 1}] if lines is None else lines,
        **overrides,
    )
    if lines == []:
        body["shipments"][0]["lineItems"] = []
    r = api.post(SHIP, json=body)
    assert r.status_code == 400
    messages = r.json()["messages"]
    assert all(m["code"] == "VALIDATION_FAILED" for m in messages)
    assert any(expected.lower() in m["description"].lower() for m in messages), messages
    assert api.order(order["dscoOrderId"])["packages"] == []


def test_single_shipment_to_unknown_order(api: Api) -> None:
    r = api.post(SHIP, json=_shipment("424242", [{"lineNumber": 1, "quantity": 1}]))
    assert r.status_code == 400
    assert "Order not found" in r.json()["messages"][0]["description"]


def test_over_shipment_across_two_packages_in_one_call(api: Api) -> None:
    order = api.create_order("SHIPV-2", [(api.skus()[0], 2)])
    body = _shipment(order["dscoOrderId"], [{"lineNumber": 1, "quantity": 2}])
    body["shipments"].append(dict(body["shipments"][0], trackingNumber="1Z2"))
    assert api.post(SHIP, json=body).status_code == 400


def test_shipment_small_batch_reports_each_record(api: Api) -> None:
    order = api.create_order("SHIPB-1", [(api.skus()[0], 1)])
    good = _shipment(order["dscoOrderId"], [{"lineNumber": 1, "quantity": 1}])
    bad = _shipment(order["dscoOrderId"], [{"lineNumber": 1, "quantity": 1}], shipCarrier=None)
    bad["poNumber"] = bad.pop("dscoOrderId") and "SHIPB-1"
    r = api.post("/order/shipment/batch/small", json=[bad, good])
    log = api.wait_log(
        "order", spec.check(r, "/order/shipment/batch/small", "post", 202)["requestId"]
    )
    assert [e["status"] for e in log["logs"]] == ["failure", "success"]
    assert log["logs"][0]["results"][0]["code"] == "VALIDATION_FAILED"
    assert api.order(order["dscoOrderId"])["dscoLifecycle"] == "completed"


def test_order_small_batch_creates_orders(api: Api) -> None:
    shipping = {"city": "Tampa", "region": "FL", "postal": "33602"}
    orders = [
        {
            "poNumber": "B-1",
            "lineItems": [{"sku": api.skus()[0], "quantity": 1}],
            "shipping": shipping,
        },
        {"poNumber": "B-2", "lineItems": [{"sku": "NOPE", "quantity": 1}], "shipping": shipping},
    ]
    r = api.post("/order/batch/small", json=orders)
    log = api.wait_log("order", r.json()["requestId"])
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]
    assert api.get("/order/", params={"orderKey": "poNumber", "value": "B-1"}).status_code == 200


def test_order_log_needs_a_query_and_pages(sandbox_factory: Any) -> None:
    sb = sandbox_factory(rate_limits=False, seed_demo=False)
    api = Api(sb)
    assert api.get("/order/log").status_code == 400
    r = api.post(
        "/order/acknowledge", json=[{"id": str(n), "type": "DSCO_ORDER_ID"} for n in range(150)]
    )
    api.wait_log("order", r.json()["requestId"])
    window = {"startDate": "2000-01-01T00:00:00Z", "endDate": "2100-01-01T00:00:00Z"}
    first = spec.check(api.get("/order/log", params=window), "/order/log", "get", 200)
    assert len(first["logs"]) == 100
    second = api.get("/order/log", params={"scrollId": first["scrollId"]}).json()
    assert len(second["logs"]) == 50
    assert api.get("/order/log", params={"scrollId": first["scrollId"]}).status_code == 404
    empty = api.get(
        "/order/log",
        params={"startDate": "2000-01-01T00:00:00Z", "endDate": "2000-01-02T00:00:00Z"},
    )
    assert empty.json()["logs"] == []
