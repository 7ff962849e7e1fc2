"""Inventory and catalog over HTTP: lookups, sync and async updates, large batches, logs."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox import spec
from tests.sandbox.conftest import Api


def _inventory(api: Api, sku: str) -> dict[str, Any]:
    r = api.get("/inventory", params={"itemKey": "sku", "value": sku})
    return dict(spec.check(r, "/inventory", "get", 200))


def test_seeded_items_have_valid_upcs_and_https_images(api: Api) -> None:
    skus = api.skus()
    assert 30 <= len(skus) <= 60
    for sku in skus[:5]:
        item = spec.check(
            api.get("/catalog", params={"itemKey": "sku", "value": sku}), "/catalog", "get", 200
        )
        assert item["images"][0]["reference"].startswith("https://")
        by_upc = api.get("/catalog", params={"itemKey": "upc", "value": item["upc"]}).json()
        assert by_upc["sku"] == sku
    assert api.get("/catalog", params={"itemKey": "sku", "value": "NOPE"}).status_code == 404
    assert api.get("/catalog", params={"itemKey": "color", "value": "x"}).status_code == 400
    assert (
        api.get(
            "/inventory", params={"itemKey": "sku", "value": "NOPE", "returnMultiple": "true"}
        ).json()
        == []
    )


def test_single_item_sums_warehouses(api: Api) -> None:
    sku = api.skus()[0]
    body = {
        "sku": sku,
        "warehouses": [{"code": "WH01", "quantity": 4}, {"code": "WH02", "quantity": 6}],
    }
    spec.check(api.post("/inventory/singleItem", json=body), "/inventory/singleItem", "post", 201)
    item = _inventory(api, sku)
    assert item["quantityAvailable"] == 10
    assert item["status"] == "in-stock"
    spec.check(
        api.post(
            "/inventory/singleItem",
            json={"sku": sku, "warehouses": [{"code": "WH01", "quantity": 0}]},
        ),
        "/inventory/singleItem",
        "post",
        201,
    )
    item = _inventory(api, sku)
    assert {w["code"]: w["quantity"] for w in item["warehouses"]} == {"WH01": 0, "WH02": 6}
    assert item["quantityAvailable"] == 6


def test_single_item_validation(api: Api) -> None:
    sku = api.skus()[0]
    cases = [
        {"sku": "UNKNOWN-SKU", "warehouses": [{"code": "WH01", "quantity": 1}]},
        {"sku": sku, "warehouses": []},
        {"sku": sku, "warehouses": [{"code": "WH99", "quantity": 1}]},
        {"sku": sku, "warehouses": [{"code": "WH01", "quantity": -1}]},
        {"warehouses": [{"code": "WH01", "quantity": 1}]},
    ]
    for body in cases:
        r = api.post("/inventory/singleItem", json=body)
        assert r.status_code == 400, body
        assert r.json()["messages"][0]["code"] == "VALIDATION_FAILED"


def test_inventory_small_batch_per_record_results(api: Api) -> None:
    sku = api.skus()[1]
    records = [
        {
            "sku": sku,
            "quantityAvailable": 9,
            "warehouses": [{"code": "WH01", "quantity": 5}, {"code": "WH02", "quantity": 3}],
        },
        {"sku": "GHOST", "warehouses": [{"code": "WH01", "quantity": 5}]},
    ]
    r = api.post("/inventory/batch/small", json=records)
    body = spec.check(r, "/inventory/batch/small", "post", 202)
    log = api.wait_log("inventory", body["requestId"])
    spec.check_log(log, "/inventory/log")
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]
    assert log["logs"][0]["results"][0]["code"] == "QUANTITY_MISMATCH"  # 9 sent, 8 summed
    assert _inventory(api, sku)["quantityAvailable"] == 8

    r = api.post(
        "/inventory/batch/small", params={"skipItemsThatDontExist": "true"}, json=records[1:]
    )
    log = api.wait_log("inventory", r.json()["requestId"])
    assert [e["status"] for e in log["logs"]] == ["success"]
    assert log["logs"][0]["results"][0]["severity"] == "info"
    assert api.post("/inventory/batch/small", content=b"{not json").status_code == 400


def test_inventory_large_batch_via_data_url(api: Api) -> None:
    skus = api.skus()[:3]
    r = api.post("/inventory/batch/large")
    body = spec.check(r, "/inventory/batch/large", "post", 200)
    assert api.get("/inventory/log", params={"requestId": body["requestId"]}).json() == {
        "status": "PROCESSING",
        "logs": [],
    }
    lines = "\n".join(
        f'{{"sku":"{s}","warehouses":[{{"code":"WH01","quantity":{n}}},{{"code":"WH02","quantity":0}}]}}'
        for n, s in enumerate(skus, start=20)
    )
    up = httpx.put(body["dataUrl"], content=lines.encode(), headers=api.headers)
    assert up.status_code == 200
    assert httpx.put(body["dataUrl"], content=lines.encode()).status_code == 404  # used once
    log = api.wait_log("inventory", body["requestId"])
    assert [e["status"] for e in log["logs"]] == ["success"] * 3
    assert [_inventory(api, s)["quantityAvailable"] for s in skus] == [20, 21, 22]


def test_catalog_small_batch_validates_each_record(api: Api) -> None:
    good = {
        "sku": "NEW-TEE",
        "title": "Vintage Band Tee",
        "productStatus": "active",
        "upc": "036000291452",
        "cost": 4.5,
        "images": [{"name": "front", "reference": "https://images.example.com/tee.jpg"}],
    }
    bad = [
        {"title": "No sku", "productStatus": "active"},
        {"sku": "NO-TITLE", "productStatus": "active"},
        {"sku": "BAD-STATUS", "title": "x", "productStatus": "live"},
        {"sku": "BAD-UPC", "title": "x", "productStatus": "active", "upc": "036000291453"},
        {"sku": "NEG", "title": "x", "productStatus": "active", "cost": -1},
    ]
    r = api.post("/catalog/batch/small", json=[good, *bad])
    log = api.wait_log("catalog", spec.check(r, "/catalog/batch/small", "post", 202)["requestId"])
    spec.check_log(log, "/catalog/log")
    assert [e["status"] for e in log["logs"]] == ["success"] + ["failure"] * 5
    descriptions = [e["results"][0]["description"] for e in log["logs"][1:]]
    assert "sku" in descriptions[0] and "title" in descriptions[1]
    assert "productStatus" in descriptions[2] and "check digit" in descriptions[3]
    item = api.get("/catalog", params={"itemKey": "sku", "value": "NEW-TEE"}).json()
    assert item["title"] == "Vintage Band Tee" and item["dscoItemId"]
    # A new item gets an inventory object, empty in every warehouse.
    assert _inventory(api, "NEW-TEE")["quantityAvailable"] == 0

    # JSON Lines is accepted too, and null deletes an attribute.
    lines = b'{"sku":"NEW-TEE","title":"Vintage Band Tee","productStatus":"active","cost":null}\n'
    r = api.post("/catalog/batch/small", content=lines)
    api.wait_log("catalog", r.json()["requestId"])
    assert "cost" not in api.get("/catalog", params={"itemKey": "sku", "value": "NEW-TEE"}).json()


def test_catalog_large_batch_and_log_window(api: Api) -> None:
    body = spec.check(api.post("/catalog/batch/large"), "/catalog/batch/large", "post", 200)
    lines = b'{"sku":"BIG-1","title":"Big One","productStatus":"pending"}\n{"sku":"BIG-2"}\n'
    assert httpx.put(body["dataUrl"], content=lines).status_code == 200
    log = api.wait_log("catalog", body["requestId"])
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]
    window = {
        "startDate": "2000-01-01T00:00:00Z",
        "endDate": "2100-01-01T00:00:00Z",
        "status": "failure",
    }
    failures = api.get("/catalog/log", params=window).json()
    spec.check_log(failures, "/catalog/log")
    assert [e["payload"]["message"]["sku"] for e in failures["logs"]] == ["BIG-2"]


def test_a_retailer_requirement_rejects_items_without_the_attribute(sb: Any, api: Api) -> None:
    sb.set_catalog_required(["brand"])
    seeded = sb.state.all_skus()[0]  # seeded items have a brand
    stored = api.get("/catalog", params={"itemKey": "sku", "value": seeded}).json()
    assert stored["brand"]
    records = [
        {"sku": "BRANDED", "title": "Tee", "productStatus": "active", "brand": "Acme"},
        {"sku": "NO-BRAND", "title": "Tee", "productStatus": "active"},
        {"sku": "EMPTY-BRAND", "title": "Tee", "productStatus": "active", "brand": ""},
        # An update without the brand: the stored one counts.
        {"sku": seeded, "title": stored["title"], "productStatus": "active", "cost": 9.5},
    ]
    r = api.post("/catalog/batch/small", json=records)
    log = api.wait_log("catalog", spec.check(r, "/catalog/batch/small", "post", 202)["requestId"])
    spec.check_log(log, "/catalog/log")
    outcome = {e["payload"]["message"]["sku"]: e for e in log["logs"]}
    assert [outcome[r["sku"]]["status"] for r in records] == [
        "success", "failure", "failure", "success"
    ]  # fmt: skip
    assert outcome["NO-BRAND"]["results"][0]["description"] == (
        "brand is required by Poshmark on every item"
    )
    missing = api.get("/catalog", params={"itemKey": "sku", "value": "NO-BRAND"})
    assert missing.status_code == 404
    sb.set_catalog_required([])
    r = api.post("/catalog/batch/small", json=[records[1]])
    log = api.wait_log("catalog", r.json()["requestId"])
    assert log["logs"][0]["status"] == "success"
