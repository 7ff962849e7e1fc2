"""Invoices, returns and warehouses over HTTP."""

from __future__ import annotations

from typing import Any

from tests.sandbox import spec
from tests.sandbox.conftest import Api


def _invoice(order: dict[str, Any], invoice_id: str, **extra: Any) -> dict[str, Any]:
    line = order["lineItems"][0]
    body = {
        "invoiceId": invoice_id,
        "poNumber": order["poNumber"],
        "totalAmount": 25.0,
        "lineItems": [{"sku": line["sku"], "quantity": 1, "unitPrice": 25.0}],
    }
    body.update(extra)
    return body


def test_single_invoice_and_lookup(api: Api) -> None:
    order = api.create_order("INV-1", [(api.skus()[0], 1)])
    spec.check(api.post("/invoice", json=_invoice(order, "I-1")), "/invoice", "post", 201)
    found = spec.check(
        api.get("/invoice", params={"key": "invoiceId", "value": "I-1"}), "/invoice", "get", 200
    )
    assert [i["dscoOrderId"] for i in found["invoices"]] == [order["dscoOrderId"]]
    by_po = api.get("/invoice", params={"key": "poNumber", "value": "INV-1"}).json()
    assert len(by_po["invoices"]) == 1
    assert api.post("/invoice", json=_invoice(order, "I-1")).status_code == 400  # duplicate
    no_price = _invoice(order, "I-2", lineItems=[{"sku": "x", "quantity": 1}])
    assert api.post("/invoice", json=no_price).status_code == 400
    assert api.post("/invoice", json=_invoice(order, "I-3", poNumber="NOPE")).status_code == 400


def test_invoice_small_batch_and_log(api: Api) -> None:
    order = api.create_order("INV-2", [(api.skus()[0], 1)])
    r = api.post("/invoice/batch/small", json=[_invoice(order, "B-1"), {"invoiceId": "B-2"}])
    log = api.wait_log("invoice", spec.check(r, "/invoice/batch/small", "post", 202)["requestId"])
    spec.check_log(log, "/invoice/log")
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]


def test_return_create_complete_page_and_log(api: Api) -> None:
    order = api.create_order("RET-1", [(api.skus()[0], 1)])
    body = {
        "returnNumber": "RMA-1",
        "dscoOrderId": order["dscoOrderId"],
        "lineItems": [
            {"sku": order["lineItems"][0]["sku"], "quantity": 1, "reasonCode": "DAMAGED"}
        ],
    }
    created = spec.check(api.post("/return/", json=body), "/return/", "post", 201)
    rid = created["return"]["dscoReturnId"]
    assert created["return"]["status"] == "created"
    bad = dict(body, lineItems=[{"sku": "NOT-ON-ORDER", "quantity": 1}])
    assert api.post("/return/", json=bad).status_code == 400

    page = spec.check(
        api.get("/return/page", params={"orderIdType": "poNumber", "orderIdValue": "RET-1"}),
        "/return/page",
        "get",
        200,
    )
    assert [r["dscoReturnId"] for r in page["returns"]] == [rid]

    complete = {
        "dscoReturnId": rid,
        "lineItems": [{"sku": order["lineItems"][0]["sku"], "response": "accepted"}],
    }
    done = spec.check(api.put("/return/", json=complete), "/return/", "put", 200)
    assert done["return"]["status"] == "completed"
    assert api.get("/return/page", params={"status": "created"}).json()["returns"] == []

    r = api.post(
        "/return/batch/small",
        params={"operation": "create"},
        json=[dict(body, returnNumber="RMA-2"), {"returnNumber": "RMA-3"}],
    )
    log = api.wait_log("return", spec.check(r, "/return/batch/small", "post", 202)["requestId"])
    spec.check_log(log, "/return/log")
    assert [e["status"] for e in log["logs"]] == ["success", "failure"]
    assert (
        api.post("/return/batch/small", params={"operation": "explode"}, json=[]).status_code == 400
    )


def test_warehouses(api: Api) -> None:
    body = spec.check(api.get("/warehouse/page"), "/warehouse/page", "get", 200)
    assert sorted(w["code"] for w in body["warehouses"]) == ["WH01", "WH02"]
    one = api.get("/warehouse/page", params={"idType": "code", "idValue": "WH02"}).json()
    assert [w["code"] for w in one["warehouses"]] == ["WH02"]
