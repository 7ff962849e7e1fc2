"""Streams: create/list/update/delete, reading after a position, ranges, partitions, knobs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import quote

from tests.sandbox import spec
from tests.sandbox.conftest import Api

EVENTS = "/stream/{id}/{partitionId}/{position}"


def _q(position: str) -> str:
    return quote(position, safe="")


def test_create_list_update_delete(api: Api) -> None:
    r = api.post(
        "/stream", json={"objectType": "order", "query": {"queryType": "order"}, "numPartitions": 4}
    )
    stream = spec.check(r, "/stream", "post", 201)
    assert [p["partitionId"] for p in stream["partitions"]] == [0, 1, 2, 3]
    assert stream["partitions"][0]["position"].startswith("z/")
    listed = spec.check(api.get("/stream"), "/stream", "get", 200)
    assert [s["id"] for s in listed] == [stream["id"]]

    r = api.put(
        f"/stream/{stream['id']}",
        json={"objectType": "order", "numPartitions": 2, "description": "mine"},
    )
    updated = spec.check(r, "/stream/{id}", "put", 200)
    assert [p["status"] for p in updated["partitions"]] == [
        "active",
        "active",
        "inactive",
        "inactive",
    ]
    assert updated["streamVersion"] == 2
    assert updated["description"] == "mine"

    named = api.create_stream("inventory", id="inventory-change-stream")
    assert named["id"] == "inventory-change-stream"
    assert (
        api.post(
            "/stream",
            json={
                "id": "inventory-change-stream",
                "objectType": "inventory",
                "query": {"queryType": "inventory"},
            },
        ).status_code
        == 400
    )

    deleted = spec.check(api.delete(f"/stream/{stream['id']}"), "/stream/{id}", "delete", 200)
    assert deleted["id"] == stream["id"]
    assert api.get("/stream", params={"id": stream["id"]}).status_code == 404
    assert api.get(f"/stream/{stream['id']}/0/0").status_code == 404


def test_create_rejects_bad_streams(api: Api) -> None:
    bad = [
        {"query": {"queryType": "order"}},
        {"objectType": "order", "query": {"queryType": "inventory"}},
        {"objectType": "order", "query": {"queryType": "order"}, "numPartitions": 21},
        {
            "objectType": "order",
            "query": {"queryType": "order"},
            "maxEvents": {"objectCount": 10001},
        },
    ]
    for body in bad:
        assert api.post("/stream", json=body).status_code == 400, body


def test_max_events_paging_and_ranges(api: Api) -> None:
    stream = api.create_stream("order", maxEvents={"objectCount": 3})
    start = stream["partitions"][0]["position"]
    for n in range(7):
        api.create_order(f"ME-{n}", [(api.skus()[n], 1)])
    pages: list[list[dict[str, Any]]] = []
    position = start
    while True:
        page = spec.check_events(api.events(stream["id"], 0, position), "Order")
        if not page:
            break
        pages.append(page)
        position = page[-1]["id"]
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [e["id"] for p in pages for e in p]
    assert ids == sorted(ids, key=lambda i: int(i.rsplit("-", 1)[1]))
    assert all(i.count("/") == 6 and i.startswith("z/") for i in ids)

    # Range: start inclusive, end exclusive; ISO datetimes work too.
    r = api.get(f"/stream/{stream['id']}/0/{_q(ids[1])}/{_q(ids[4])}")
    ranged = spec.check_events(r, "Order")
    assert [e["id"] for e in ranged] == ids[1:4]
    r = api.get(
        f"/stream/{stream['id']}/0/{_q('2000-01-01T00:00:00Z')}/{_q('2100-01-01T00:00:00Z')}"
    )
    assert [e["id"] for e in r.json()["events"]] == ids[:3]
    # Positions sent without URL-encoding are understood as well.
    r = api.get(f"/stream/{stream['id']}/0/{ids[5]}")
    assert [e["id"] for e in r.json()["events"]] == ids[6:]

    single = api.get(f"/stream/single/{stream['id']}/0/{_q(ids[0])}")
    assert [e["id"] for e in spec.check_events(single, "Order")] == [ids[1]]
    assert api.get(f"/stream/{stream['id']}/0/not-a-position").status_code == 400


def test_checkpoint_moves_the_partition_position(api: Api) -> None:
    stream = api.create_stream("order")
    api.create_order("CP-1", [(api.skus()[0], 1)])
    event = api.events(stream["id"], 0, stream["partitions"][0]["position"]).json()["events"][0]
    r = api.put(f"/stream/{stream['id']}/0/{_q(event['id'])}")
    spec.check(r, EVENTS, "put", 200)
    listed = api.get("/stream", params={"id": stream["id"], "partitionId": 0}).json()
    assert listed[0]["partitions"][0]["position"] == event["id"]
    assert listed[0]["partitions"][0]["maxPosition"] == event["id"]
    assert api.put(f"/stream/{stream['id']}/7/{_q(event['id'])}").status_code == 404


def test_an_orders_events_stay_on_one_partition(api: Api) -> None:
    stream = api.create_stream("order", numPartitions=4)
    orders = [api.create_order(f"PART-{n}", [(api.skus()[n], 2)]) for n in range(12)]
    r = api.post(
        "/order/acknowledge",
        json=[{"id": o["dscoOrderId"], "type": "DSCO_ORDER_ID"} for o in orders],
    )
    api.wait_log("order", r.json()["requestId"])
    for order in orders:
        body = {
            "dscoOrderId": order["dscoOrderId"],
            "shipments": [
                {
                    "trackingNumber": "T",
                    "shipCarrier": "USPS",
                    "shippingServiceLevelCode": "USGA",
                    "lineItems": [{"lineNumber": 1, "quantity": 1}],
                }
            ],
        }
        assert api.post("/order/singleShipment", json=body).status_code == 201
    seen: dict[str, set[int]] = defaultdict(set)
    reasons: dict[str, list[str]] = defaultdict(list)
    for part in stream["partitions"]:
        r = api.events(stream["id"], part["partitionId"], part["position"])
        for event in spec.check_events(r, "Order"):
            oid = event["payload"]["dscoOrderId"]
            seen[oid].add(event["partitionId"])
            reasons[oid].append(event["eventReasons"][0])
    assert len(seen) == 12
    assert all(len(p) == 1 for p in seen.values())
    assert len({next(iter(p)) for p in seen.values()}) > 1  # spread over partitions
    assert all(r == ["create", "update_status_lifecycle", "add_shipment"] for r in reasons.values())


def test_stream_query_filters_orders(api: Api) -> None:
    completed_only = api.create_stream(
        "order", query={"queryType": "order", "dscoLifecycle": ["completed"]}
    )
    marketplace = api.create_stream(
        "order", query={"queryType": "order", "orderTypes": ["marketplace"]}
    )
    order = api.create_order("FLT-1", [(api.skus()[0], 1)])
    body = {
        "dscoOrderId": order["dscoOrderId"],
        "shipments": [
            {
                "trackingNumber": "T",
                "shipCarrier": "USPS",
                "shippingServiceLevelCode": "USGA",
                "lineItems": [{"lineNumber": 1, "quantity": 1}],
            }
        ],
    }
    api.post("/order/singleShipment", json=body)
    events = api.events(
        completed_only["id"], 0, completed_only["partitions"][0]["position"]
    ).json()["events"]
    assert [e["payload"]["dscoLifecycle"] for e in events] == ["completed"]
    assert (
        api.events(marketplace["id"], 0, marketplace["partitions"][0]["position"]).json()["events"]
        == []
    )


def test_operations_sync_owner_repartition(api: Api) -> None:
    stream = api.create_stream("inventory")
    pos = stream["partitions"][0]["position"]
    r = api.post(f"/stream/{stream['id']}", json={"operationType": "sync"})
    assert spec.check(r, "/stream/{id}", "post", 202)["operationType"] == "sync"
    events = spec.check_events(api.events(stream["id"], 0, pos), "ItemInventory")
    assert len(events) == len(api.skus())
    assert {e["source"] for e in events} == {"sync"}

    r = api.post(
        f"/stream/{stream['id']}",
        json={"operationType": "setpartitionowner", "partitionId": 0, "ownerId": "worker-1"},
    )
    spec.check(r, "/stream/{id}", "post", 202)
    assert api.events(stream["id"], 0, pos).json()["ownerId"] == "worker-1"
    r = api.post(f"/stream/{stream['id']}", json={"operationType": "repartition"})
    spec.check(r, "/stream/{id}", "post", 202)
    assert api.post(f"/stream/{stream['id']}", json={"operationType": "explode"}).status_code == 400


def test_duplicate_event_knob_serves_events_twice(api: Api) -> None:
    stream = api.create_stream("order")
    for n in range(5):
        api.create_order(f"DUP-{n}", [(api.skus()[n], 1)])
    api.server.set_faults(duplicate_event_rate=1.0)
    ids = [
        e["id"]
        for e in api.events(stream["id"], 0, stream["partitions"][0]["position"]).json()["events"]
    ]
    assert len(ids) == 10 and len(set(ids)) == 5


def test_inventory_and_catalog_streams_get_events(api: Api) -> None:
    inv = api.create_stream("inventory")
    cat = api.create_stream("catalog")
    sku = api.skus()[0]
    assert (
        api.post(
            "/inventory/singleItem",
            json={"sku": sku, "warehouses": [{"code": "WH01", "quantity": 41}]},
        ).status_code
        == 201
    )
    events = spec.check_events(
        api.events(inv["id"], 0, inv["partitions"][0]["position"]), "ItemInventory"
    )
    assert [(e["payload"]["sku"], e["eventReasons"]) for e in events] == [
        (sku, ["inventory_attribute_changed"])
    ]
    r = api.post(
        "/catalog/batch/small",
        json=[{"sku": "NEW-1", "title": "New thing", "productStatus": "active"}],
    )
    api.wait_log("catalog", r.json()["requestId"])
    events = spec.check_events(
        api.events(cat["id"], 0, cat["partitions"][0]["position"]), "ItemCatalog"
    )
    assert [(e["payload"]["sku"], e["eventReasons"]) for e in events] == [
        ("NEW-1", ["catalog_object_created"])
    ]
