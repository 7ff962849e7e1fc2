"""The inventory editor's store: staged values win, SQL filters and sorts, allocations."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsco_desktop.domain.inventory import DISCONTINUED, BulkOperation, LevelValues
from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryFilter, InventoryLevel
from dsco_desktop.store.orders import OrderRepository


@pytest.fixture
def editor(tmp_path: Path) -> InventoryEditor:
    editor = InventoryEditor(Database(tmp_path / "app.sqlite3"))
    editor.levels.upsert_many(
        [
            InventoryLevel("A-1", "WH01", 10, buffer=2),
            InventoryLevel("A-1", "WH02", 0),
            InventoryLevel("B-2", "WH01", 3),
            InventoryLevel("C_3", "WH01", 50),
        ]
    )
    return editor


def test_staged_values_show_and_filter(editor: InventoryEditor) -> None:
    editor.stage({("B-2", "WH01"): LevelValues(30)})
    repo = editor.repo
    staged = repo.rows(InventoryFilter(pending=True))
    assert [(r.sku, r.quantity, r.base_quantity) for r in staged] == [("B-2", 30, 3)]
    assert [r.sku for r in repo.rows(InventoryFilter(out_of_stock=True))] == ["A-1"]
    low = repo.rows(InventoryFilter(low_stock_at=8))
    assert [(r.sku, r.warehouse_code) for r in low] == [("A-1", "WH01"), ("A-1", "WH02")]
    # "_" is a literal in the search, not a wildcard.
    assert [r.sku for r in repo.rows(InventoryFilter(text="C_"))] == ["C_3"]
    by_available = repo.rows_by_id(repo.ids(sort="available", descending=True))
    ordered = [by_available[i].sku for i in repo.ids(sort="available", descending=True)]
    assert ordered[:2] == ["C_3", "B-2"]


def test_staging_the_committed_value_again_leaves_nothing_staged(editor: InventoryEditor) -> None:
    editor.stage({("A-1", "WH01"): LevelValues(4, 2)})
    editor.stage({("A-1", "WH01"): LevelValues(10, 2)})
    assert editor.repo.pending_count() == 0
    assert editor.review().text == "No staged changes."


def test_review_reads_as_a_diff(editor: InventoryEditor) -> None:
    editor.stage({("A-1", "WH01"): LevelValues(12, 2), ("B-2", "WH01"): LevelValues(5)})
    editor.stage_bulk([("C_3", "WH01")], BulkOperation.DISCONTINUE)
    review = editor.review()
    assert review.text == (
        "2 quantity changes, 1 discontinued on 3 SKUs; 1 level will be delisted."
    )
    (line,) = [ln for ln in review.lines if ln.sku == "C_3"]
    assert line.after.status == DISCONTINUED and line.delisting


def test_undo_and_redo_restore_the_staged_state(editor: InventoryEditor) -> None:
    first = editor.stage({("A-1", "WH01"): LevelValues(11, 2)})
    second = editor.stage({("A-1", "WH01"): LevelValues(20, 2)})
    editor.undo(second)
    assert editor.repo.rows(keys=[("A-1", "WH01")])[0].quantity == 11
    editor.undo(first)
    row = editor.repo.rows(keys=[("A-1", "WH01")])[0]
    assert (row.quantity, row.pending) == (10, False)
    editor.redo(first)
    editor.redo(second)
    assert editor.repo.rows(keys=[("A-1", "WH01")])[0].quantity == 20


def test_undo_of_a_created_level_removes_it(editor: InventoryEditor) -> None:
    change = editor.stage({("NEW", "WH01"): LevelValues(4)}, create=True)
    assert editor.repo.rows(keys=[("NEW", "WH01")])[0].quantity == 4
    editor.undo(change)
    assert editor.repo.rows(keys=[("NEW", "WH01")]) == []


def test_allocations_come_from_open_orders(editor: InventoryEditor) -> None:
    OrderRepository(editor.repo._db).upsert_many(
        [
            {
                "dscoOrderId": "1001",
                "poNumber": "PO-1",
                "dscoLifecycle": "acknowledged",
                "dscoLastUpdate": "2025-01-01T00:00:00Z",
                "lineItems": [
                    {"sku": "A-1", "quantity": 3, "lineNumber": 1},
                    {"sku": "B-2", "quantity": 1, "lineNumber": 2, "warehouseCode": "WH01"},
                ],
            }
        ]
    )
    assert editor.refresh_allocations() == 2
    rows = {r.key: r for r in editor.repo.rows()}
    assert (rows[("A-1", "WH01")].allocated, rows[("A-1", "WH01")].available) == (3, 5)
    assert rows[("B-2", "WH01")].available == 2
