"""The Inventory tab: inline and bulk edits staged and highlighted, the review panel, undo,
filters, history, and a push from the panel to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from dsco_desktop.domain.inventory import BulkOperation
from dsco_desktop.domain.settings import AppSettings
from dsco_desktop.services.inventory_sync import (
    InventoryEditor,
    InventorySync,
    OrderPull,
    direct_delivery,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryLevel
from dsco_desktop.ui.inventory_model import (
    PENDING_BACKGROUND,
    InventoryTableModel,
    RowRole,
)
from dsco_desktop.ui.inventory_tab import InventoryTab
from dsco_desktop.ui.jobs import JobRunner
from tests.services.orders_support import client_for

SKUS = 600  # x 2 warehouses = 1,200 rows


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "app.sqlite3")
    InventoryEditor(db).levels.upsert_many(
        InventoryLevel(f"SKU-{n:04d}", code, n % 9, buffer=1 if code == "WH02" else 0)
        for n in range(SKUS)
        for code in ("WH01", "WH02")
    )
    return db


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    jobs = JobRunner()
    yield jobs
    jobs.shutdown()


def make_tab(qtbot: Any, db: Database, runner: JobRunner, **kw: Any) -> InventoryTab:
    kw.setdefault("client_provider", lambda: None)
    tab = InventoryTab(
        db, runner, deliver=lambda: None, settings=lambda: AppSettings(low_stock_threshold=3), **kw
    )
    qtbot.addWidget(tab)
    tab.resize(1400, 700)
    tab.show()
    with qtbot.waitSignal(tab.loaded, timeout=5000):
        tab.refresh()
    return tab


def row_of(tab: InventoryTab, sku: str, warehouse: str) -> int:
    for r in range(tab.model.rowCount()):
        row = tab.model.row_at(r)
        if row is not None and row.key == (sku, warehouse):
            return r
    raise AssertionError(f"{sku} {warehouse} not shown")


def settle(qtbot: Any, tab: InventoryTab) -> None:
    qtbot.waitUntil(lambda: tab.idle, timeout=10_000)


def test_the_model_passes_the_model_tester(qtmodeltester: Any, db: Database) -> None:
    editor = InventoryEditor(db)
    model = InventoryTableModel(editor.repo.rows_by_id)
    model.set_ids(editor.repo.ids()[:300])
    qtmodeltester.check(model)


def test_inline_edit_is_staged_highlighted_and_reviewed(
    qtbot: Any, db: Database, runner: JobRunner
) -> None:
    tab = make_tab(qtbot, db, runner)
    r = row_of(tab, "SKU-0007", "WH01")
    on_hand = tab.model.index(r, 2)
    assert tab.model.setData(on_hand, "42")
    settle(qtbot, tab)

    r = row_of(tab, "SKU-0007", "WH01")
    assert tab.model.index(r, 2).data() == "42"
    assert tab.model.index(r, 5).data() == "42"  # available
    assert tab.model.index(r, 0).data(Qt.ItemDataRole.BackgroundRole).color() == PENDING_BACKGROUND
    assert tab.review.summary.text() == "1 quantity change on 1 SKU."
    assert tab.review.model.rowCount() == 1
    assert tab.review.model.index(0, 2).data() == "7 → 42"
    assert tab.review.model.index(0, 3).data() == "on hand 7 → 42"

    tab.stack.undo()
    settle(qtbot, tab)
    r = row_of(tab, "SKU-0007", "WH01")
    assert tab.model.index(r, 2).data() == "7"
    assert tab.review.summary.text() == "No staged changes."
    tab.grab().save("/tmp/shots/inventory_tab.png")


def test_bulk_edit_of_1000_selected_rows(qtbot: Any, db: Database, runner: JobRunner) -> None:
    tab = make_tab(qtbot, db, runner)
    selection = QItemSelection(tab.model.index(0, 0), tab.model.index(999, 0))
    tab.table.selectionModel().select(
        selection, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    )
    dialog = tab.open_bulk_edit()
    assert dialog is not None
    dialog.operation.setCurrentIndex(dialog.operation.findData(BulkOperation.ADD))
    dialog.value.setValue(5)
    dialog.grab().save("/tmp/shots/inventory_bulk_edit.png")
    dialog._accept()
    settle(qtbot, tab)

    assert tab.counts.pending == 1000
    assert tab.review.summary.text() == "1,000 quantity changes on 500 SKUs."
    first = tab.model.index(0, 0).data(RowRole)
    assert first.quantity == first.base_quantity + 5
    tab.grab().save("/tmp/shots/inventory_tab_bulk.png")

    tab.pending_only.setChecked(True)
    settle(qtbot, tab)
    assert tab.model.rowCount() == 1000
    tab.stack.undo()
    settle(qtbot, tab)
    assert tab.counts.pending == 0 and tab.model.rowCount() == 0


def test_bulk_edit_refuses_a_bad_value_next_to_the_field(
    qtbot: Any, db: Database, runner: JobRunner
) -> None:
    tab = make_tab(qtbot, db, runner)
    tab.table.selectRow(0)
    dialog = tab.open_bulk_edit()
    assert dialog is not None
    dialog.operation.setCurrentIndex(dialog.operation.findData(BulkOperation.PERCENT))
    dialog.value.setValue(-150)
    dialog._accept()
    assert dialog.isVisible() and "below -100" in dialog.error.text()


def test_filters_and_search(qtbot: Any, db: Database, runner: JobRunner) -> None:
    tab = make_tab(qtbot, db, runner)
    assert tab.model.rowCount() == SKUS * 2
    tab.out_of_stock.setChecked(True)
    settle(qtbot, tab)
    rows = [tab.model.index(r, 0).data(RowRole) for r in range(tab.model.rowCount())]
    assert rows and all(r.available == 0 for r in rows)
    tab.out_of_stock.setChecked(False)
    tab.low_stock.setChecked(True)
    settle(qtbot, tab)
    rows = [tab.model.index(r, 0).data(RowRole) for r in range(tab.model.rowCount())]
    assert rows and all(r.available <= 3 for r in rows)
    tab.low_stock.setChecked(False)
    tab.search.setText("SKU-0123")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=5000)
    assert "2 of 1,200 rows" in tab.summary.text()


def test_history_shows_before_and_after(qtbot: Any, db: Database, runner: JobRunner) -> None:
    tab = make_tab(qtbot, db, runner)
    r = row_of(tab, "SKU-0002", "WH02")
    tab.model.setData(tab.model.index(r, 4), "3")  # buffer 1 -> 3
    settle(qtbot, tab)
    tab.show_history("SKU-0002")
    settle(qtbot, tab)
    assert ("WH02", "Edited", "buffer", "1", "3") in [row[1:6] for row in tab.side.history.rows]


def test_push_from_the_review_panel_reaches_the_sandbox(
    qtbot: Any, tmp_path: Path, runner: JobRunner, sandbox: Any
) -> None:
    db = Database(tmp_path / "push.sqlite3")
    sku = sandbox.state.all_skus()[0]
    InventoryEditor(db).levels.upsert_many(
        [InventoryLevel(sku, "WH01", 5), InventoryLevel(sku, "WH02", 2)]
    )
    client = client_for(sandbox)

    def factory(c: Any) -> InventorySync:
        return InventorySync(db, c, deliver=direct_delivery(db, c), pull_orders=OrderPull)

    tab = make_tab(qtbot, db, runner, client_provider=lambda: client, sync_factory=factory)
    r = row_of(tab, sku, "WH01")
    tab.model.setData(tab.model.index(r, 2), "9")
    settle(qtbot, tab)
    tab.review.push_button.click()
    qtbot.waitUntil(lambda: getattr(tab, "confirm_box", None) is not None, timeout=10_000)
    box: QMessageBox = tab.confirm_box
    qtbot.waitUntil(box.isVisible, timeout=5000)
    assert "Send the available quantities of 1 SKU" in box.text()
    send = next(b for b in box.buttons() if b.text() == "Send")
    with qtbot.waitSignal(tab.pushed, timeout=30_000) as pushed:
        send.click()
    assert pushed.args[0].accepted == 2
    settle(qtbot, tab)
    r = row_of(tab, sku, "WH01")
    assert tab.model.index(r, 9).data() == "Confirmed"
    assert tab.model.index(r, 8).data() != ""
    item = client.get_inventory(itemKey="sku", value=sku)
    assert item is not None and {w.code: w.quantity for w in item.warehouses} == {
        "WH01": 9,
        "WH02": 2,
    }
    tab.grab().save("/tmp/shots/inventory_tab_pushed.png")


def test_an_inventory_csv_can_be_read_again_with_another_text_encoding(
    qtbot: Any, db: Database, runner: JobRunner, tmp_path: Path
) -> None:
    from tests.ui.shots import shot

    tab = make_tab(qtbot, db, runner)
    path = tmp_path / "stock.csv"
    path.write_bytes(
        "SKU,Warehouse,Quantity,Note\nSKU-0001,WH01,40,Żółć\nSKU-0002,WH01,7,gęś\n".encode("cp1250")
    )
    tab.open_import(path)
    qtbot.waitUntil(
        lambda: tab.import_dialog is not None and tab.import_dialog.isVisible(), timeout=10_000
    )
    first = tab.import_dialog
    assert first is not None and first.encoding.isVisible()
    first.encoding.setCurrentIndex(first.encoding.findData("cp1250"))
    first.encoding.activated.emit(first.encoding.currentIndex())
    qtbot.waitUntil(
        lambda: tab.import_dialog is not first and tab.import_dialog is not None, timeout=10_000
    )
    dialog = tab.import_dialog
    assert dialog.preview.info.chosen and dialog.sheet.rows[1][3] == "Żółć"
    assert not first.isVisible()
    assert dialog.encoding.currentText() == "Windows-1250 (Central European)"
    shot(dialog, "inventory_import_encoding")
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.checked is not None, timeout=10_000)
    assert dialog.checked is not None and dialog.checked.changes == 2
    assert dialog.stage_button.isEnabled()
