"""The outbox sender with a fake clock and a fake DSCO: states, backoff, give-up, in-doubt rows."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

import pytest

from dsco_desktop.dsco.errors import (
    DscoMessage,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from dsco_desktop.dsco.models import Invoice, Order, ReturnPage
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxRepository, OutboxState

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeDsco:
    """Just enough of DscoClient: orders with packages and lines, invoices, returns.

    `script[method]` is a list of exceptions raised by the next calls of that method;
    `apply_then_fail[method]` makes the next call apply the change and then raise (the answer
    was lost on the way back, as when the process dies or the network drops mid-call).
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.script: dict[str, list[Exception]] = defaultdict(list)
        self.apply_then_fail: dict[str, Exception] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.acknowledged: list[str] = []

    def add_order(self, order_id: str, cancelled: int = 0) -> None:
        self.orders[order_id] = {
            "dscoOrderId": order_id,
            "poNumber": f"PO-{order_id}",
            "packages": [],
            "lineItems": [
                {"lineNumber": 1, "sku": "SKU-1", "quantity": 5, "cancelledQuantity": cancelled}
            ],
        }

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        if self.script[method]:
            raise self.script[method].pop(0)

    def _leave(self, method: str) -> None:
        exc = self.apply_then_fail.pop(method, None)
        if exc is not None:
            raise exc

    # reads
    def get_order(self, key: str, value: str, **_: Any) -> Order | None:
        self._enter("get_order")
        for order in self.orders.values():
            if str(order.get(key)) == value:
                return Order.model_validate(order)
        return None

    def get_invoices(self, **query: Any) -> list[Invoice]:
        self._enter("get_invoices")
        found = self.invoices.get(query["value"])
        return [Invoice.model_validate(found)] if found else []

    def get_returns(self, **query: Any) -> ReturnPage:
        self._enter("get_returns")
        value = query["returnIdValue"]
        found = [
            r for r in self.returns.values() if value in (r["returnNumber"], r["dscoReturnId"])
        ]
        return ReturnPage.model_validate({"returns": found})

    # writes
    def acknowledge_orders(self, orders: list[dict[str, Any]]) -> dict[str, Any]:
        self._enter("acknowledge_orders")
        self.acknowledged.extend(str(o["id"]) for o in orders)
        self._leave("acknowledge_orders")
        return {"status": "pending", "requestId": f"req-{len(self.calls)}"}

    def single_shipment(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._enter("single_shipment")
        order = self.orders[payload["dscoOrderId"]]
        for shipment in payload["shipments"]:
            order["packages"].append({"trackingNumber": shipment["trackingNumber"]})
        self._leave("single_shipment")
        return {"success": True}

    def cancel_order_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._enter("cancel_order_item")
        order = self.orders[str(payload["id"])]
        for wanted in payload["lineItems"]:
            for line in order["lineItems"]:
                if line["lineNumber"] == wanted["lineNumber"]:
                    line["cancelledQuantity"] += wanted["cancelledQuantity"]
        self._leave("cancel_order_item")
        return {"status": "success", "requestId": "req-cancel"}

    def create_invoice(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._enter("create_invoice")
        self.invoices[payload["invoiceId"]] = dict(payload)
        self._leave("create_invoice")
        return {"success": True}

    def create_return(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._enter("create_return")
        number = payload["returnNumber"]
        self.returns[number] = {
            "returnNumber": number,
            "dscoReturnId": f"R{number}",
            "status": "created",
        }
        self._leave("create_return")
        return {"status": "success"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dsco() -> FakeDsco:
    return FakeDsco()


def _sender(db: Database, dsco: FakeDsco, clock: Clock, **kw: Any) -> OutboxSender:
    kw.setdefault("rng", lambda: 0.5)
    return OutboxSender(db, dsco, clock=clock, **kw)  # type: ignore[arg-type]


def _ship(repo: OutboxRepository, order_id: str, tracking: str) -> int:
    payload = {"dscoOrderId": order_id, "shipments": [{"trackingNumber": tracking}]}
    return repo.enqueue("order.shipment", payload, f"ship:{order_id}:{tracking}")


def test_success_stores_dscos_answer(db: Database, dsco: FakeDsco, clock: Clock) -> None:
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("order.acknowledge", {"orders": [{"id": "1001"}]}, "ack:1001")
    report = _sender(db, dsco, clock).send_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.SENT
    assert row.result is not None
    assert row.result["requestId"].startswith("req-")
    assert dsco.acknowledged == ["1001"]
    assert repo.counts().pending == 0


def test_transient_errors_retry_with_growing_delays(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("order.acknowledge", {"orders": [{"id": "1"}]}, "ack:1")
    dsco.script["acknowledge_orders"] = [
        NetworkError("connection reset"),
        ServerError("503 Service Unavailable", status=503),
        NetworkError("timed out"),
        ServerError("502", status=502),
    ]
    sender = _sender(db, dsco, clock)
    delays = []
    for _ in range(4):
        assert sender.send_due().retried == 1
        row = repo.get(row_id)
        assert row is not None
        assert row.state is OutboxState.PENDING
        delays.append(row.next_attempt_at - clock.now)
        # Not due yet: nothing is sent before its time.
        calls_before = len(dsco.calls)
        assert sender.send_due().handled == 0
        assert len(dsco.calls) == calls_before
        assert sender.next_due_at() == pytest.approx(row.next_attempt_at)
        clock.now = row.next_attempt_at
    assert all(later > earlier for earlier, later in pairwise(delays))
    assert delays[1] == pytest.approx(2 * delays[0])
    assert sender.send_due().sent == 1
    row = repo.get(row_id)
    assert row is not None
    assert (row.state, row.attempts) == (OutboxState.SENT, 5)
    assert dsco.acknowledged == ["1"]


def test_backoff_is_jittered_capped_and_honours_retry_after(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    low = _sender(db, dsco, clock, rng=lambda: 0.0, base_delay_s=5, max_delay_s=900)
    high = _sender(db, dsco, clock, rng=lambda: 0.999999, base_delay_s=5, max_delay_s=900)
    assert low.backoff_delay(1) == pytest.approx(2.5)
    assert high.backoff_delay(1) == pytest.approx(5.0, abs=1e-3)
    assert low.backoff_delay(30) == pytest.approx(450)
    assert high.backoff_delay(30) == pytest.approx(900, abs=1e-2)

    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("order.acknowledge", {"orders": [{"id": "1"}]}, "ack:1")
    dsco.script["acknowledge_orders"] = [RateLimitedError("429", status=429, retry_after=120)]
    low.send_due()
    row = repo.get(row_id)
    assert row is not None
    assert row.next_attempt_at - clock.now == pytest.approx(120)


def test_gives_up_after_two_hours_of_transient_failures(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("invoice", {"invoiceId": "INV-1", "totalAmount": 5}, "inv:1")
    clock.now += 10 * HOUR  # queued long before the first attempt: the window starts then
    dsco.script["create_invoice"] = [ServerError("503 from DSCO", status=503)] * 1000
    sender = _sender(db, dsco, clock)
    first_attempt = clock.now
    while True:
        report = sender.send_due()
        row = repo.get(row_id)
        assert row is not None
        if row.state is not OutboxState.PENDING:
            break
        assert report.retried == 1
        assert clock.now - first_attempt < 2 * HOUR + 900
        clock.now = row.next_attempt_at
    assert report.failed == 1
    assert row.state is OutboxState.FAILED
    assert clock.now - first_attempt >= 2 * HOUR
    assert row.last_error is not None
    assert "Gave up after 2 hours" in row.last_error
    assert "503 from DSCO" in row.last_error
    assert repo.counts().failed == 1
    # Failed rows stay put until the user acts.
    clock.now += HOUR
    assert sender.send_due().handled == 0
    assert sender.next_due_at() is None
    dsco.script["create_invoice"] = []
    assert repo.retry(row_id)
    assert sender.send_due().sent == 1
    assert list(dsco.invoices) == ["INV-1"]


def test_validation_errors_are_rejected_with_messages_and_never_retried(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    row_id = _ship(repo, "1001", "9400A")
    dsco.script["single_shipment"] = [
        ValidationError(
            "DSCO rejected the shipment for PO PO-1001: Ship carrier is required",
            status=400,
            messages=[
                DscoMessage("VALIDATION_FAILED", "Ship carrier is required", "error", "PO-1001"),
                DscoMessage(None, "All of these fields are required: poNumber, carrier"),
            ],
        )
    ]
    sender = _sender(db, dsco, clock)
    assert sender.send_due().rejected == 1
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.REJECTED
    assert [(m.code, m.description, m.record) for m in row.messages] == [
        ("VALIDATION_FAILED", "Ship carrier is required", "PO-1001"),
        (None, "All of these fields are required: poNumber, carrier", None),
    ]
    assert "Ship carrier is required" in (row.last_error or "")
    clock.now += 3 * HOUR
    assert sender.send_due().handled == 0
    assert dsco.calls.count("single_shipment") == 1
    assert dsco.orders["1001"]["packages"] == []


def test_other_dsco_errors_and_bugs_fail_without_sticking_in_sending(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    gone = repo.enqueue("invoice", {"invoiceId": "INV-9"}, "inv:9")
    broken = repo.enqueue("order.acknowledge", {"not_orders": []}, "ack:broken")
    unknown = repo.enqueue("pricing.change", {}, "price:1")
    dsco.script["create_invoice"] = [
        NotFoundError("The order for INV-9 does not exist", status=404)
    ]
    report = _sender(db, dsco, clock).send_due()
    assert report.failed == 3
    states = {i: repo.get(i) for i in (gone, broken, unknown)}
    assert all(r is not None and r.state is OutboxState.FAILED for r in states.values())
    assert "does not exist" in (states[gone].last_error or "")  # type: ignore[union-attr]
    assert "cannot send 'pricing.change'" in (states[unknown].last_error or "")  # type: ignore[union-attr]
    assert repo.counts().sending == 0


def test_limit_and_should_stop_are_honoured(db: Database, dsco: FakeDsco, clock: Clock) -> None:
    repo = OutboxRepository(db, clock=clock)
    for n in range(10):
        repo.enqueue("order.acknowledge", {"orders": [{"id": str(n)}]}, f"ack:{n}")
    sender = _sender(db, dsco, clock)
    assert sender.send_due(limit=3).sent == 3
    stop_after = iter([False, False, True])
    assert sender.send_due(should_stop=lambda: next(stop_after)).sent == 2
    assert repo.counts().pending == 5
    assert dsco.acknowledged == [str(n) for n in range(5)]  # oldest first


def _left_in_doubt(repo: OutboxRepository, clock: Clock) -> None:
    """What a sender killed mid-call leaves: the row claimed (SENDING) by a dead sender."""
    assert repo.claim_next("sender-that-died", clock.now) is not None


def test_in_doubt_shipment_already_applied_is_not_sent_again(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    row_id = _ship(repo, "1001", "9400A")
    _left_in_doubt(repo, clock)
    dsco.orders["1001"]["packages"].append({"trackingNumber": "9400A"})  # the call got through

    sender = _sender(db, dsco, clock)
    assert sender.next_due_at() == clock.now
    report = sender.send_due()
    assert (report.in_doubt_resolved, report.already_applied, report.sent) == (1, 1, 0)
    assert "single_shipment" not in dsco.calls
    assert dsco.orders["1001"]["packages"] == [{"trackingNumber": "9400A"}]
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.SENT
    assert row.result == {"alreadyApplied": True, "attempts": 2}


def test_in_doubt_shipment_not_applied_is_sent_once(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    _ship(repo, "1001", "9400A")
    _left_in_doubt(repo, clock)
    report = _sender(db, dsco, clock).send_due()
    assert (report.in_doubt_resolved, report.sent) == (1, 1)
    assert dsco.calls == ["get_order", "single_shipment"]
    assert dsco.orders["1001"]["packages"] == [{"trackingNumber": "9400A"}]


def test_answer_lost_after_dsco_applied_it_is_not_applied_twice(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    row_id = _ship(repo, "1001", "9400A")
    dsco.apply_then_fail["single_shipment"] = NetworkError("read timed out")
    sender = _sender(db, dsco, clock)
    assert sender.send_due().retried == 1
    clock.now += HOUR
    assert sender.send_due().already_applied == 1
    assert dsco.orders["1001"]["packages"] == [{"trackingNumber": "9400A"}]
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.SENT


def test_partly_applied_shipment_is_left_to_the_user(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    payload = {
        "dscoOrderId": "1001",
        "shipments": [{"trackingNumber": "T1"}, {"trackingNumber": "T2"}],
    }
    row_id = repo.enqueue("order.shipment", payload, "ship:two")
    _left_in_doubt(repo, clock)
    dsco.orders["1001"]["packages"].append({"trackingNumber": "T1"})
    assert _sender(db, dsco, clock).send_due().failed == 1
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.FAILED
    assert "T1" in (row.last_error or "")
    assert "single_shipment" not in dsco.calls


def test_cancel_is_recognised_against_what_was_cancelled_before(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001", cancelled=1)  # one unit was cancelled earlier, by another cancel
    payload = {
        "id": "1001",
        "type": "DSCO_ORDER_ID",
        "lineItems": [{"lineNumber": 1, "cancelledQuantity": 1, "cancelCode": "CXSS"}],
    }
    row_id = repo.enqueue("order.cancel", payload, "cancel:1001:1")
    dsco.apply_then_fail["cancel_order_item"] = ServerError("502 Bad Gateway", status=502)
    sender = _sender(db, dsco, clock)
    assert sender.send_due().retried == 1
    row = repo.get(row_id)
    assert row is not None
    assert row.context == {"cancelled_before": {"lineNumber=1": 1}}
    clock.now = row.next_attempt_at
    assert sender.send_due().already_applied == 1
    assert dsco.orders["1001"]["lineItems"][0]["cancelledQuantity"] == 2
    assert dsco.calls.count("cancel_order_item") == 1


def test_cancel_killed_before_the_call_is_sent_once(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001", cancelled=1)
    payload = {
        "id": "1001",
        "type": "DSCO_ORDER_ID",
        "lineItems": [{"lineNumber": 1, "cancelledQuantity": 2, "cancelCode": "CXSS"}],
    }
    repo.enqueue("order.cancel", payload, "cancel:1001:2")
    _left_in_doubt(repo, clock)  # died after the claim, before reading or calling
    report = _sender(db, dsco, clock).send_due()
    assert (report.in_doubt_resolved, report.sent) == (1, 1)
    assert dsco.orders["1001"]["lineItems"][0]["cancelledQuantity"] == 3


def test_in_doubt_invoice_and_return_are_looked_up(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    repo.enqueue("invoice", {"invoiceId": "INV-1", "dscoOrderId": "1"}, "inv:1")
    repo.enqueue("return.create", {"returnNumber": "RMA-1", "dscoOrderId": "1"}, "ret:1")
    repo.enqueue("invoice", {"invoiceId": "INV-2", "dscoOrderId": "1"}, "inv:2")
    for _ in range(3):
        _left_in_doubt(repo, clock)
    dsco.invoices["INV-1"] = {"invoiceId": "INV-1"}
    dsco.returns["RMA-1"] = {"returnNumber": "RMA-1", "dscoReturnId": "R1", "status": "created"}
    report = _sender(db, dsco, clock).send_due()
    assert (report.in_doubt_resolved, report.already_applied, report.sent) == (3, 2, 1)
    assert dsco.calls.count("create_invoice") == 1
    assert "create_return" not in dsco.calls
    assert sorted(dsco.invoices) == ["INV-1", "INV-2"]


def test_in_doubt_idempotent_kinds_are_simply_resent(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    repo.enqueue("order.acknowledge", {"orders": [{"id": "7"}]}, "ack:7")
    _left_in_doubt(repo, clock)
    report = _sender(db, dsco, clock).send_due()
    assert (report.in_doubt_resolved, report.sent) == (1, 1)
    assert dsco.calls == ["acknowledge_orders"]


def test_a_row_left_sending_by_this_process_is_recovered_too(
    db: Database, dsco: FakeDsco, clock: Clock
) -> None:
    repo = OutboxRepository(db, clock=clock)
    dsco.add_order("1001")
    _ship(repo, "1001", "9400A")
    sender = _sender(db, dsco, clock)
    # Its own earlier round claimed the row, then failed to record the outcome (disk full).
    assert repo.claim_next(sender._token, clock.now) is not None
    assert sender.next_due_at() == clock.now
    report = sender.send_due()
    assert (report.in_doubt_resolved, report.sent) == (1, 1)
    assert dsco.orders["1001"]["packages"] == [{"trackingNumber": "9400A"}]
