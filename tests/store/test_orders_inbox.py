"""The inbox queries: statuses in SQL agree with the domain rules, search, counts, seen, history."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from dsco_desktop.domain.orders import (
    OrderStatus,
    derive_status,
    line_quantities,
    order_totals,
    parse_timestamp,
)
from dsco_desktop.store._util import normalize_timestamp
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderEventRecord, OrderRepository
from dsco_desktop.store.outbox import OutboxRepository

NOW = datetime(2025, 11, 14, 12, 0, tzinfo=UTC)
NOW_TEXT = normalize_timestamp(NOW)


def _iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def _order(order_id: str, **extra: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "dscoOrderId": order_id,
        "poNumber": f"PM{order_id}",
        "channel": "Poshmark",
        "dscoTradingPartnerName": "Poshmark",
        "dscoLifecycle": "created",
        "dscoLastUpdate": _iso(timedelta(0)),
        "consumerOrderDate": _iso(-timedelta(hours=int(order_id) % 48)),
        "acknowledgeByDate": _iso(timedelta(days=1)),
        "shipByDate": _iso(timedelta(days=3)),
        "orderTotalAmount": 42.5,
        "currencyCode": "USD",
        "shipping": {"name": "Chloe Nguyen", "city": "Austin", "region": "TX", "postal": "78704"},
        "lineItems": [{"lineNumber": 1, "sku": "NKE-AF1-BLA-8", "quantity": 2}],
        "packages": [],
    }
    order.update(extra)
    return order


def test_sql_status_matches_the_domain_rules_for_every_combination(db: Database) -> None:
    repo = OrderRepository(db)
    lifecycles = ["received", "created", "acknowledged", "completed"]
    quantities = [(2, 0, 0), (2, 1, 0), (2, 2, 0), (2, 0, 2), (2, 1, 1), (2, 0, 1)]
    deadlines = [None, timedelta(days=1), -timedelta(hours=1)]
    orders = []
    for n, (lifecycle, (q, s, c), ship_by, ack_by) in enumerate(
        itertools.product(lifecycles, quantities, deadlines, deadlines), start=1
    ):
        orders.append(
            _order(
                str(1000 + n),
                dscoLifecycle=lifecycle,
                shipByDate=None if ship_by is None else _iso(ship_by),
                acknowledgeByDate=None if ack_by is None else _iso(ack_by),
                lineItems=[
                    {
                        "lineNumber": 1,
                        "sku": "A",
                        "quantity": q,
                        "shippedQuantity": s,
                        "cancelledQuantity": c,
                    }
                ],
            )
        )
    repo.upsert_many(orders)
    ids = [o["dscoOrderId"] for o in orders]
    rows = repo.summaries(ids, now=NOW_TEXT)
    for order in orders:
        expected = derive_status(
            order["dscoLifecycle"],
            order_totals(line_quantities(li) for li in order["lineItems"]),
            ship_by=parse_timestamp(order["shipByDate"]),
            acknowledge_by=parse_timestamp(order["acknowledgeByDate"]),
            now=NOW,
        )
        assert rows[order["dscoOrderId"]].status == expected.value, order
    counts = repo.status_counts(now=NOW_TEXT)
    assert counts.total == len(orders)
    for status in OrderStatus:
        assert len(repo.list_ids(status=status.value, now=NOW_TEXT)) == counts.by_status.get(
            status.value, 0
        )


def test_search_finds_orders_by_po_customer_and_sku(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order("1"),
            _order(
                "2", shipping={"name": "Marcus O'Brien", "city": "X", "region": "Y", "postal": "1"}
            ),
            _order("3", lineItems=[{"lineNumber": 1, "sku": "COA-TAB-IVO-M", "quantity": 1}]),
        ]
    )
    assert repo.list_ids(text="PM2") == ["2"]
    assert repo.list_ids(text="o'brien") == ["2"]
    assert repo.list_ids(text="coa-tab") == ["3"]
    assert sorted(repo.list_ids(text="nke-af1")) == ["1", "2"]
    assert repo.list_ids(text="chloe PM1") == ["1"]  # every word must match
    assert repo.list_ids(text="100%") == []  # a wildcard typed by the user matches literally


def test_sorting_by_a_deadline_puts_missing_dates_last(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order("1", shipByDate=_iso(timedelta(days=2))),
            _order("2", shipByDate=None),
            _order("3", shipByDate=_iso(timedelta(days=1))),
        ]
    )
    assert repo.list_ids(sort="ship_by", descending=False) == ["3", "1", "2"]
    assert repo.list_ids(sort="ship_by", descending=True) == ["1", "3", "2"]
    assert repo.list_ids(sort="status", now=NOW_TEXT)  # sorting by status works too


def test_new_orders_stay_unseen_until_opened_and_finished_history_is_not_new(
    db: Database,
) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order("1"),
            _order("2"),
            _order(
                "3",
                dscoLifecycle="completed",
                lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 1, "shippedQuantity": 1}],
            ),
        ]
    )
    assert repo.unseen_count() == 2
    assert sorted(repo.list_ids(unseen=True)) == ["1", "2"]
    assert repo.mark_seen(["1"]) == 1
    assert repo.mark_seen(["1"]) == 0
    assert repo.unseen_count() == 1
    assert repo.summaries(["1", "2"])["1"].seen is True
    # A newer version from DSCO does not make an opened order new again.
    repo.upsert_many([_order("1", dscoLastUpdate=_iso(timedelta(minutes=1)))])
    assert repo.unseen_count() == 1
    repo.mark_all_seen()
    assert repo.unseen_count() == 0


def test_cancel_requests_are_flagged_and_counted_while_the_order_is_open(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order("1", cancelRequested=True, cancelRequestedCode="CXRR"),
            _order(
                "2",
                lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 1, "cancelRequested": True}],
            ),
            _order("3"),
        ]
    )
    rows = repo.summaries(["1", "2", "3"])
    assert rows["1"].cancel_requested and rows["1"].cancel_requested_code == "CXRR"
    assert rows["2"].cancel_requested
    assert not rows["3"].cancel_requested
    assert sorted(repo.list_ids(cancel_requested=True)) == ["1", "2"]
    assert repo.status_counts(now=NOW_TEXT).cancel_requested == 2


def test_summary_sums_lines_and_total(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order(
                "1",
                lineItems=[
                    {"lineNumber": 1, "sku": "A", "quantity": 3, "shippedQuantity": 1},
                    {"lineNumber": 2, "sku": "B", "quantity": 2, "cancelledQuantity": 2},
                ],
            )
        ]
    )
    row = repo.summaries(["1"])["1"]
    assert (row.line_count, row.qty_ordered, row.qty_shipped, row.qty_cancelled) == (2, 5, 1, 2)
    assert row.qty_remaining == 2
    assert (row.total, row.currency_code, row.customer_name) == (42.5, "USD", "Chloe Nguyen")


def test_event_history_keeps_each_event_once(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many([_order("1")])
    event = OrderEventRecord(
        "1", "z/2025/11/14/12/00/1763121600000-0000001", NOW_TEXT, ("create",), "stream", "created"
    )
    repo.record_events([event, event])
    repo.record_events([event])
    assert [e.reasons for e in repo.events("1")] == [("create",)]


def test_a_pending_cancel_is_confirmed_when_dsco_shows_the_cancelled_units(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many([_order("1", lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 3}])])
    outbox = OutboxRepository(db)
    with db.transaction() as tx:
        row = outbox.enqueue("order.cancel", {"id": "1"}, "k1", conn=tx)
        repo.add_cancels("1", [(1, "A", 2, "CXSS", "", 0)], row, conn=tx)
    assert [c.state for c in repo.cancels("1")] == ["queued"]
    assert repo.summaries(["1"])["1"].cancels_pending == 1
    # DSCO's next version shows only one unit cancelled: not yet.
    repo.upsert_many(
        [
            _order(
                "1",
                dscoLastUpdate=_iso(timedelta(minutes=1)),
                lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 3, "cancelledQuantity": 1}],
            )
        ]
    )
    assert [c.state for c in repo.cancels("1")] == ["queued"]
    repo.upsert_many(
        [
            _order(
                "1",
                dscoLastUpdate=_iso(timedelta(minutes=2)),
                lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 3, "cancelledQuantity": 2}],
            )
        ]
    )
    assert [c.state for c in repo.cancels("1")] == ["confirmed"]
    assert repo.summaries(["1"])["1"].cancels_pending == 0


def test_open_order_lines_are_allocated_per_sku(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order(
                "1", lineItems=[{"lineNumber": 1, "sku": "A", "quantity": 3, "shippedQuantity": 1}]
            ),
            _order(
                "2",
                lineItems=[
                    {"lineNumber": 1, "sku": "A", "quantity": 1},
                    {"lineNumber": 2, "sku": "B", "quantity": 2, "cancelledQuantity": 2},
                ],
            ),
            _order(
                "3",
                dscoLifecycle="completed",
                lineItems=[{"lineNumber": 1, "sku": "C", "quantity": 1, "shippedQuantity": 1}],
            ),
        ]
    )
    assert repo.allocated_by_sku() == {"A": 3}


def test_orders_stored_by_schema_1_get_their_sums_on_upgrade(tmp_path) -> None:
    from dsco_desktop.store.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    old = Database(path, migrations=MIGRATIONS[:1])
    with old.transaction() as tx:
        tx.execute(
            "INSERT INTO orders (dsco_order_id, po_number, lifecycle, ship_to, raw, received_at,"
            " updated_at) VALUES ('1', 'PM1', 'acknowledged', '{\"name\": \"Ann\"}', '{}',"
            " '2025-01-01', '2025-01-01')"
        )
        tx.execute(
            "INSERT INTO order_lines (dsco_order_id, line_index, line_number, sku, quantity,"
            " shipped_quantity) VALUES ('1', 0, 1, 'A', 2, 1)"
        )
    old.close_all()
    new = Database(path)
    row = OrderRepository(new).summaries(["1"], now=NOW_TEXT)["1"]
    assert (row.qty_ordered, row.qty_shipped, row.qty_remaining) == (2, 1, 1)
    assert row.status == "partly_shipped"
    assert row.seen  # history from before the inbox existed is not "new"
    assert OrderRepository(new).list_ids(text="a") == ["1"]
    new.close_all()
