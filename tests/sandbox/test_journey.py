"""The whole supplier journey over HTTP, as a real integration would walk it."""

from __future__ import annotations

from typing import Any

from tests.sandbox import spec
from tests.sandbox.conftest import Api


def _read_all(api: Api, stream_id: str, position: str) -> tuple[list[dict[str, Any]], str]:
    """Read events after `position` until the stream has nothing more; return them and the end."""
    events: list[dict[str, Any]] = []
    while True:
        batch = spec.check_events(api.events(stream_id, 0, position), "Order")
        if not batch:
            return events, position
        events.extend(batch)
        position = batch[-1]["id"]


def test_supplier_journey_from_new_order_to_completed(api: Api) -> None:
    stream = api.create_stream("order")
    listed = spec.check(api.get("/stream", params={"id": stream["id"]}), "/stream", "get", 200)
    position = listed[0]["partitions"][0]["position"]

    sku_a, sku_b = api.skus()[:2]
    order = api.create_order("JOURNEY-1", [(sku_a, 2), (sku_b, 1)])
    oid = order["dscoOrderId"]

    events, position = _read_all(api, stream["id"], position)
    assert [e["eventReasons"] for e in events] == [["create"]]
    assert events[0]["payload"]["dscoOrderId"] == oid
    assert events[0]["payload"]["dscoLifecycle"] == "created"
    r = api.put(f"/stream/{stream['id']}/0/{position.replace('/', '%2F')}")
    assert spec.check(r, "/stream/{id}/{partitionId}/{position}", "put", 200) == {
        "status": "success"
    }

    r = api.post("/order/acknowledge", json=[{"id": oid, "type": "DSCO_ORDER_ID"}])
    ack = spec.check(r, "/order/acknowledge", "post", 202)
    assert ack["status"] == "pending"
    log = api.wait_log("order", ack["requestId"])
    spec.check_log(log, "/order/log")
    assert [entry["status"] for entry in log["logs"]] == ["success"]
    events, position = _read_all(api, stream["id"], position)
    assert [e["payload"]["dscoLifecycle"] for e in events] == ["acknowledged"]
    assert "update_status_lifecycle" in events[0]["eventReasons"]

    def ship(tracking: str, lines: list[dict[str, Any]]) -> None:
        body = {
            "dscoOrderId": oid,
            "shipments": [
                {
                    "trackingNumber": tracking,
                    "shipCarrier": "USPS",
                    "shipMethod": "Ground Advantage",
                    "shippingServiceLevelCode": "USGA",
                    "lineItems": lines,
                }
            ],
        }
        spec.check(
            api.post("/order/singleShipment", json=body), "/order/singleShipment", "post", 201
        )

    ship("9400111111111111111111", [{"sku": sku_a, "quantity": 1}])
    partial = api.order(oid)
    assert partial["dscoLifecycle"] == "acknowledged"
    assert [li["remainingQuantity"] for li in partial["lineItems"]] == [1, 1]
    events, position = _read_all(api, stream["id"], position)
    assert [e["eventReasons"] for e in events] == [["add_shipment"]]
    assert len(events[0]["payload"]["packages"]) == 1

    ship("9400222222222222222222", [{"sku": sku_a, "quantity": 1}, {"sku": sku_b, "quantity": 1}])
    done = spec.check(
        api.get("/order/", params={"orderKey": "poNumber", "value": "JOURNEY-1"}),
        "/order/",
        "get",
        200,
    )
    assert done["dscoLifecycle"] == "completed"
    assert done["dscoStatus"] == "shipped"
    assert [p["trackingNumber"] for p in done["packages"]] == [
        "9400111111111111111111",
        "9400222222222222222222",
    ]
    events, _ = _read_all(api, stream["id"], position)
    assert len(events) == 1
    assert set(events[0]["eventReasons"]) == {"add_shipment", "update_status_lifecycle"}
    assert events[0]["payload"]["dscoLifecycle"] == "completed"

    # Every step is in the order change log, and the saved position survived.
    listed = api.get("/stream", params={"id": stream["id"]}).json()
    assert listed[0]["partitions"][0]["position"] != stream["partitions"][0]["position"]
    r = api.get(
        "/order/log",
        params={"startDate": order["dscoCreateDate"], "endDate": "2100-01-01T00:00:00Z"},
    )
    log = spec.check(r, "/order/log", "get", 200)
    details = [entry["requestMethodDetail"] for entry in log["logs"]]
    assert details == ["acknowledgeOrders", "singleShipment", "singleShipment"]
    assert {entry["status"] for entry in log["logs"]} == {"success"}
