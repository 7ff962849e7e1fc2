"""Catalog and inventory repositories: bulk upserts in one transaction, reads, local state."""

from __future__ import annotations

import pytest

from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryLevel, InventoryRepository
from dsco_desktop.store.items import ItemRepository


def _item(n: int, **extra: object) -> dict[str, object]:
    return {
        "sku": f"SKU-{n:06d}",
        "title": f"Cotton tee {n}",
        "upc": f"{n:012d}",
        "brand": "Acme",
        "productStatus": "active",
        "cost": 4.5,
        "msrp": "19.99",
        "images": [{"name": "front", "reference": f"https://img.example/{n}.jpg"}],
        "extendedAttributes": {"poshmark": {"fit": "slim"}},
        "someFieldDscoAddedLater": {"kept": True},
        **extra,
    }


def test_hundred_thousand_items_are_written_in_one_transaction(db: Database) -> None:
    repo = ItemRepository(db)
    statements: list[str] = []
    db.connection().set_trace_callback(statements.append)
    written = repo.upsert_many(_item(n) for n in range(100_000))
    db.connection().set_trace_callback(None)
    assert written == 100_000
    assert repo.count() == 100_000
    last = repo.get("SKU-099999")
    assert last is not None
    assert last.title == "Cotton tee 99999"
    # One BEGIN and one COMMIT for the whole batch, not one per row.
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]


def test_upsert_keeps_all_fields_including_unknown_ones(db: Database) -> None:
    repo = ItemRepository(db)
    repo.upsert_many([_item(1)])
    item = repo.get("SKU-000001")
    assert item is not None
    assert item.title == "Cotton tee 1"
    assert item.msrp == pytest.approx(19.99)
    assert item.images[0]["name"] == "front"
    assert item.extended_attributes == {"poshmark": {"fit": "slim"}}
    assert item.raw["someFieldDscoAddedLater"] == {"kept": True}
    assert item.local_state == "new"
    assert item.dsco_state == "unknown"
    assert repo.get("missing") is None


def test_reupsert_updates_fields_but_keeps_local_state_unless_told(db: Database) -> None:
    repo = ItemRepository(db)
    repo.upsert_many([_item(1)], local_state="modified")
    repo.set_dsco_state({"SKU-000001": ("accepted", None)}, request_id="req-1")
    repo.upsert_many([_item(1, title="Renamed tee")])
    item = repo.get("SKU-000001")
    assert item is not None
    assert item.title == "Renamed tee"
    assert item.local_state == "modified"
    assert item.dsco_state == "accepted"
    repo.upsert_many([_item(1)], local_state="synced")
    synced = repo.get("SKU-000001")
    assert synced is not None
    assert synced.local_state == "synced"
    assert repo.count() == 1


def test_a_bad_item_in_a_batch_writes_none_of_it(db: Database) -> None:
    repo = ItemRepository(db)
    with pytest.raises(ValueError, match="sku"):
        repo.upsert_many([_item(1), {"title": "no sku"}])
    assert repo.count() == 0


def test_joining_the_callers_transaction(db: Database) -> None:
    items = ItemRepository(db)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        items.upsert_many([_item(1)], conn=tx)
        raise RuntimeError("the caller's later step failed")
    assert items.count() == 0


def test_inventory_levels_per_warehouse(db: Database) -> None:
    repo = InventoryRepository(db)
    repo.upsert_many(
        [
            InventoryLevel("SKU-1", "WH01", 40, buffer=2),
            InventoryLevel("SKU-1", "WH02", 5),
            InventoryLevel("SKU-2", "WH01", 0),
        ]
    )
    assert [(lv.warehouse_code, lv.quantity) for lv in repo.get("SKU-1")] == [
        ("WH01", 40),
        ("WH02", 5),
    ]
    repo.upsert_many([InventoryLevel("SKU-1", "WH01", 38, buffer=2)])
    level = repo.get_level("SKU-1", "WH01")
    assert level is not None
    assert level.quantity == 38
    assert level.buffer == 2
    assert repo.count() == 3


def test_dsco_confirmation_keeps_local_quantities(db: Database) -> None:
    repo = InventoryRepository(db)
    repo.upsert_many([InventoryLevel("ABC123", "WH01", 41)])
    written = repo.confirm_from_dsco(
        [
            {
                "sku": "ABC123",
                "quantityAvailable": 45,
                "status": "in-stock",
                "warehouses": [{"code": "WH01", "quantity": 40}, {"code": "WH02", "quantity": 5}],
                "dscoLastQuantityUpdateDate": "2025-11-05T23:05:59Z",
            },
            {"sku": "NOWAREHOUSE", "quantityAvailable": 0},  # DSCO sometimes sends these
        ]
    )
    assert written == 2
    wh1 = repo.get_level("ABC123", "WH01")
    wh2 = repo.get_level("ABC123", "WH02")
    assert wh1 is not None
    assert wh2 is not None
    assert (wh1.quantity, wh1.dsco_quantity, wh1.dsco_status) == (41, 40, "in-stock")
    assert wh1.last_confirmed_at == "2025-11-05T23:05:59.000000Z"
    assert (wh2.quantity, wh2.dsco_quantity) == (5, 5)
    assert repo.get("NOWAREHOUSE") == []
