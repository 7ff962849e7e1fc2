"""Inventory sheets: long (sku, warehouse, quantity) and wide (one column per warehouse) layouts
staged with every bad cell named; the export reads back in as it is."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryLevel


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def make_editor(tmp_path: Path) -> InventoryEditor:
    editor = InventoryEditor(Database(tmp_path / "app.sqlite3"))
    editor.levels.upsert_many([InventoryLevel("A-1", "WH01", 4), InventoryLevel("A-1", "WH02", 1)])
    return editor


def test_a_long_sheet_is_staged_and_bad_cells_are_named(tmp_path: Path) -> None:
    editor = make_editor(tmp_path)
    path = write_xlsx(
        tmp_path / "stock.xlsx",
        [
            ["SKU", "Warehouse", "Qty"],
            ["A-1", "WH01", 9],
            ["B-2", "WH02", 3],
            ["C-3", "WH01", -4],
            ["A-1", "WH01", 2],
        ],
    )
    preview = editor.preview_import(path, ["WH01", "WH02"])
    assert preview.mapping.targets == ("sku", "warehouse", "quantity")
    checked = editor.validate_import(preview, ["WH01", "WH02"])

    assert (checked.changes, checked.new_levels, checked.rows_with_errors) == (1, 1, 2)
    texts = {p.number: p.text(checked.mapping) for p in checked.problems}
    assert texts[4] == "column C: Quantity -4 is below 0."
    assert "also on row 2" in texts[5]
    editor.stage_import(checked)
    rows = {r.key: r for r in editor.repo.rows()}
    assert rows[("A-1", "WH01")].quantity == 9 and rows[("A-1", "WH01")].pending
    assert rows[("B-2", "WH02")].quantity == 3
    assert ("C-3", "WH01") not in rows


def test_a_wide_sheet_maps_one_column_per_warehouse(tmp_path: Path) -> None:
    editor = make_editor(tmp_path)
    path = tmp_path / "wide.csv"
    path.write_text("Item SKU,WH01,Qty WH02\nA-1,7,0\n", encoding="utf-8")
    preview = editor.preview_import(path, ["WH01", "WH02"])
    checked = editor.validate_import(preview, ["WH01", "WH02"])
    change = editor.stage_import(checked)
    assert change.description == "Import of wide.csv"
    assert editor.review().text == "2 quantity changes on 1 SKU; 1 level will be delisted."
    editor.undo(change)
    assert editor.repo.pending_count() == 0


def test_the_export_imports_back_unchanged(tmp_path: Path) -> None:
    editor = make_editor(tmp_path)
    out = tmp_path / "export.xlsx"
    assert editor.export_table(out) == 2
    preview = editor.preview_import(out, ["WH01", "WH02"])
    checked = editor.validate_import(preview, ["WH01", "WH02"])
    assert (checked.unchanged, checked.changes, checked.rows_with_errors) == (2, 0, 0)
