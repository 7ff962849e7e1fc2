"""Inventory rules: available never below 0, bulk edits, allocations, delisting, import rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsco_desktop.domain.inventory import (
    DISCONTINUED,
    WAREHOUSE_COLUMN_PREFIX,
    BulkOperation,
    LevelValues,
    apply_bulk,
    available,
    bulk_value_problem,
    distribute_allocation,
    import_mapping_problems,
    is_delisting,
    item_payload,
    validate_inventory_row,
)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_available_is_never_negative_nor_more_than_on_hand(q: int, a: int, b: int) -> None:
    assert 0 <= available(q, a, b) <= q


def test_available_subtracts_allocated_and_buffer_and_is_zero_when_discontinued() -> None:
    assert available(10, 3, 2) == 5
    assert available(2, 3, 0) == 0
    assert available(10, 0, 0, DISCONTINUED) == 0


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (BulkOperation.SET, 7, LevelValues(7, 2)),
        (BulkOperation.ADD, 5, LevelValues(15, 2)),
        (BulkOperation.SUBTRACT, 50, LevelValues(0, 2)),
        (BulkOperation.PERCENT, -25, LevelValues(7, 2)),  # 7.5 rounds down
        (BulkOperation.PERCENT, 15, LevelValues(11, 2)),  # 11.5 rounds down
        (BulkOperation.SET_BUFFER, 4, LevelValues(10, 4)),
        (BulkOperation.DISCONTINUE, 0, LevelValues(10, 2, DISCONTINUED)),
    ],
)
def test_bulk_operations(op: BulkOperation, value: float, expected: LevelValues) -> None:
    assert apply_bulk(op, value, LevelValues(10, 2)) == expected


def test_bulk_values_are_checked() -> None:
    assert bulk_value_problem(BulkOperation.SET, 2.5) == "Quantities are whole numbers."
    assert bulk_value_problem(BulkOperation.ADD, -1) is not None
    assert bulk_value_problem(BulkOperation.PERCENT, -150) is not None
    assert bulk_value_problem(BulkOperation.PERCENT, -20) is None
    assert bulk_value_problem(BulkOperation.DISCONTINUE, None) is None


def test_allocation_prefers_the_named_warehouse_then_the_fullest() -> None:
    levels = {"WH01": (5, 0), "WH02": (20, 2)}
    assert distribute_allocation(levels, {"WH01": 2}, 4) == {"WH01": 2, "WH02": 4}
    # More ordered than in stock: the excess lands on the first warehouse, nothing is shown
    # as available anywhere.
    shares = distribute_allocation(levels, {}, 30)
    assert shares == {"WH01": 12, "WH02": 18}
    assert sum(available(q, shares[c], b) for c, (q, b) in levels.items()) == 0


def test_delisting_and_payload() -> None:
    assert is_delisting(4, 0, "")
    assert not is_delisting(0, 0, "")
    assert is_delisting(0, 0, DISCONTINUED)
    assert item_payload("A", [("WH01", 3), ("WH02", 4)]) == {
        "sku": "A",
        "quantityAvailable": 7,
        "status": "in-stock",
        "warehouses": [{"code": "WH01", "quantity": 3}, {"code": "WH02", "quantity": 4}],
    }
    assert item_payload("A", [("WH01", 0)])["status"] == "out-of-stock"


def test_import_rows_name_the_bad_cell() -> None:
    row = validate_inventory_row(
        3, {"sku": "A", "warehouse": "WH01", "quantity": "-2"}, known_warehouses=["WH01"]
    )
    assert row.levels == [] and [i.field for i in row.issues] == ["quantity"]
    assert "below 0" in row.issues[0].message
    row = validate_inventory_row(
        4, {"sku": 12345.0, "warehouse": "WH09", "quantity": 3.0}, known_warehouses=["WH01"]
    )
    assert row.sku == "12345" and "WH09 is not one of yours" in row.issues[0].message
    wide = validate_inventory_row(
        5,
        {"sku": "B", WAREHOUSE_COLUMN_PREFIX + "WH01": 4, WAREHOUSE_COLUMN_PREFIX + "WH02": "1"},
        known_warehouses=["WH01", "WH02"],
    )
    assert [(lv.warehouse_code, lv.quantity) for lv in wide.levels] == [("WH01", 4), ("WH02", 1)]
    default = validate_inventory_row(
        6, {"sku": "C", "quantity": "7"}, known_warehouses=[], default_warehouse="WH01"
    )
    assert default.levels[0].warehouse_code == "WH01"


def test_mapping_needs_a_quantity() -> None:
    assert import_mapping_problems({"sku", "warehouse"})
    assert not import_mapping_problems({"sku", WAREHOUSE_COLUMN_PREFIX + "WH01"})
