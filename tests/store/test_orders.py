"""Orders: idempotent upserts where the newest dscoLastUpdate wins and replays change nothing."""

from __future__ import annotations

import copy
from typing import Any

from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.streams import StreamCheckpointRepository


def _order(order_id: str, last_update: str, lifecycle: str = "created", **extra: Any) -> dict:
    return {
        "dscoOrderId": order_id,
        "poNumber": f"PO-{order_id}",
        "channel": "Poshmark",
        "dscoTradingPartnerId": "TP1",
        "dscoLifecycle": lifecycle,
        "dscoLastUpdate": last_update,
        "orderType": "dropship",
        "shipping": {
            "name": "Jane Doe",
            "address": ["1 MAIN ST"],
            "city": "X",
            "region": "NJ",
            "postal": "07657",
        },
        "billTo": None,
        "lineItems": [
            {"lineNumber": 1, "sku": "SKU-1", "quantity": 2, "cancelledQuantity": None},
            {"lineNumber": 2, "sku": "SKU-2", "quantity": 1},
        ],
        "packages": [],
        **extra,
    }


def test_new_orders_are_inserted_with_lines(db: Database) -> None:
    repo = OrderRepository(db)
    result = repo.upsert_many(
        [_order("1001", "2025-11-05T10:00:00Z"), _order("1002", "2025-11-05T10:00:01Z")]
    )
    assert sorted(result.inserted) == ["1001", "1002"]
    assert result.updated == []
    order = repo.get("1001")
    assert order is not None
    assert order.po_number == "PO-1001"
    assert order.lifecycle == "created"
    assert order.ship_to["city"] == "X"
    assert [(line.sku, line.quantity) for line in order.lines] == [("SKU-1", 2), ("SKU-2", 1)]
    assert order.raw["billTo"] is None  # DSCO's nulls are kept as they came


def test_newer_version_replaces_older_and_its_lines_and_packages(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many([_order("1001", "2025-11-05T10:00:00Z")])
    shipped = _order(
        "1001",
        # Same instant written with an offset, one millisecond later: must still compare newer.
        "2025-11-05T05:00:00.001-05:00",
        lifecycle="completed",
        packages=[
            {
                "trackingNumber": "9400TRACK1",
                "tracking_url": "https://t.example/1",
                "items": [{"sku": "SKU-1", "quantity": 2}],
            }
        ],
    )
    shipped["lineItems"] = [{"lineNumber": 1, "sku": "SKU-1", "quantity": 2, "shippedQuantity": 2}]
    result = repo.upsert_many([shipped])
    assert result.updated == ["1001"]
    order = repo.get("1001")
    assert order is not None
    assert order.lifecycle == "completed"
    assert [line.shipped_quantity for line in order.lines] == [2]
    assert [(p.tracking_number, p.tracking_url) for p in order.packages] == [
        ("9400TRACK1", "https://t.example/1")
    ]


def test_older_or_replayed_versions_change_nothing(db: Database) -> None:
    repo = OrderRepository(db)
    current = _order("1001", "2025-11-05T10:00:05Z", lifecycle="acknowledged")
    repo.upsert_many([current])
    before = repo.get("1001")

    older = _order("1001", "2025-11-05T10:00:00Z", lifecycle="created")
    replay = copy.deepcopy(current)
    replay["poNumber"] = "should not be written: same timestamp is a replay"
    result = repo.upsert_many([older, replay])
    assert result.unchanged == ["1001"]
    assert result.changed == []
    after = repo.get("1001")
    assert after == before


def test_newest_wins_within_one_batch_in_any_order(db: Database) -> None:
    repo = OrderRepository(db)
    versions = [
        _order("1001", "2025-11-05T10:00:02Z", lifecycle="acknowledged"),
        _order("1001", "2025-11-05T10:00:03Z", lifecycle="completed"),
        _order("1001", "2025-11-05T10:00:01Z", lifecycle="created"),
    ]
    result = repo.upsert_many(versions)
    assert result.inserted == ["1001"]
    order = repo.get("1001")
    assert order is not None
    assert order.lifecycle == "completed"


def test_local_state_survives_a_pull_from_dsco(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many([_order("1001", "2025-11-05T10:00:00Z")])
    with db.transaction() as tx:
        tx.execute("UPDATE orders SET local_state = 'shipping', local_note = 'fragile'")
    repo.upsert_many([_order("1001", "2025-11-05T11:00:00Z", lifecycle="acknowledged")])
    order = repo.get("1001")
    assert order is not None
    assert order.lifecycle == "acknowledged"
    assert order.local_state == "shipping"


def test_orders_and_stream_position_commit_together_or_not_at_all(db: Database) -> None:
    orders = OrderRepository(db)
    checkpoints = StreamCheckpointRepository(db)
    try:
        with db.transaction() as tx:
            orders.upsert_many([_order("1001", "2025-11-05T10:00:00Z")], conn=tx)
            checkpoints.set("orders-stream", 0, "z/2025/11/05/10/00/1-0000001", conn=tx)
            raise OSError("crash before commit")
    except OSError:
        pass
    assert orders.get("1001") is None
    assert checkpoints.get("orders-stream", 0) is None

    with db.transaction() as tx:
        orders.upsert_many([_order("1001", "2025-11-05T10:00:00Z")], conn=tx)
        checkpoints.set("orders-stream", 0, "z/2025/11/05/10/00/1-0000001", conn=tx)
    assert orders.get("1001") is not None
    assert checkpoints.get("orders-stream", 0) == "z/2025/11/05/10/00/1-0000001"
    assert checkpoints.get("orders-stream", 1) is None
    assert checkpoints.updated_at("orders-stream", 0) is not None


def test_list_filters_by_lifecycle_and_text(db: Database) -> None:
    repo = OrderRepository(db)
    repo.upsert_many(
        [
            _order("1001", "2025-11-05T10:00:00Z", lifecycle="created"),
            _order("1002", "2025-11-05T10:00:01Z", lifecycle="acknowledged"),
            _order("1003", "2025-11-05T10:00:02Z", lifecycle="created"),
        ]
    )
    assert [o.dsco_order_id for o in repo.list(lifecycles=["created"])] == ["1003", "1001"]
    found = repo.list(text="PO-1002")
    assert [o.dsco_order_id for o in found] == ["1002"]
    assert len(found[0].lines) == 2
    assert repo.count() == 3


def test_many_orders_in_one_call(db: Database) -> None:
    repo = OrderRepository(db)
    batch = [_order(str(n), "2025-11-05T10:00:00Z") for n in range(2_000)]
    assert len(repo.upsert_many(batch).inserted) == 2_000
    again = repo.upsert_many(batch)
    assert len(again.unchanged) == 2_000
    assert db.connection().execute("SELECT COUNT(*) FROM order_lines").fetchone()[0] == 4_000
