"""The Catalog tab and the import wizard, driven like a user would, against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView, QWizard
from pytestqt.qtbot import QtBot

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.catalog_import import CatalogImportService
from dsco_desktop.store.db import Database
from dsco_desktop.ui.catalog_models import CatalogItemsModel, ImportRowsModel
from dsco_desktop.ui.catalog_tab import CatalogTab
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.table_model import RawRole
from tests.spreadsheets.sheets import write_xlsx
from tests.ui.shots import shot

WAIT_MS = 20_000


@pytest.fixture
def tab(qtbot: QtBot, db: Database, jobs: JobRunner, client: DscoClient) -> CatalogTab:
    widget = CatalogTab(CatalogImportService(db), jobs, client_provider=lambda: client)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    return widget


def scroll_to_the_end(qtbot: QtBot, table: QTableView) -> None:
    """Scroll down until every row of the view is loaded (the view may ask for pages too)."""
    model = table.model()

    def loaded() -> bool:
        table.scrollToBottom()
        if model.canFetchMore():
            model.fetchMore()
        return model.rowCount() == model.total_rows  # type: ignore[attr-defined, no-any-return]

    qtbot.waitUntil(loaded, timeout=WAIT_MS)


def cell(model: ImportRowsModel, row_number: int, header: str, role: int) -> Any:
    position = next(i for i, r in enumerate(model.rows) if r.row_number == row_number)
    column = next(
        c
        for c in range(model.columnCount())
        if model.headerData(c, Qt.Orientation.Horizontal) == header
    )
    return model.data(model.index(position, column), role)


def test_wizard_from_file_to_confirmed_push_with_an_inline_fix(
    qtbot: QtBot, tab: CatalogTab, tmp_path: Path, client: DscoClient
) -> None:
    path = write_xlsx(
        tmp_path / "supplier.xlsx",
        [
            ["Spring catalog"],
            ["Item SKU", "Product Name", "Status", "MSRP", "Colour", "Image 1"],
            ["W1", "Linen towel", "active", 12.5, "White", "https://img.example/w1.jpg"],
            ["W2", "Cotton towel", "active", "$9.99", "Blue", "https://img.example/w2.jpg"],
            ["W3", "Bath mat", "active", 30, "Grey", "https://img.example/w3.jpg"],
        ],
    )
    shot(tab, "catalog_tab_empty")
    wizard = tab.open_wizard(path)
    wizard.resize(1100, 720)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT_MS)
    assert wizard.preview is not None and wizard.preview.header_row == 1
    shot(wizard, "import_1_file")
    wizard.next()
    page = wizard.mapping_page
    assert [c.currentData() for c in page.combos] == [
        "sku",
        "title",
        "productStatus",
        "msrp",
        "colorPrimaryDescription",
        "images",
    ]
    shot(wizard, "import_2_columns")
    wizard.next()
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.isComplete() and check.model.rowCount() == 3, timeout=WAIT_MS)
    assert "<b>2</b> new" in check.counts.text() and "<b>1</b> with errors" in check.counts.text()
    # The bad cell is red, with the message on hover, and its row is listed first.
    assert check.model.rows[0].row_number == 4
    tip = cell(check.model, 4, "MSRP", Qt.ItemDataRole.ToolTipRole)
    assert "currency symbol" in tip
    assert cell(check.model, 4, "MSRP", Qt.ItemDataRole.BackgroundRole) is not None
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Send 2 items to DSCO"
    shot(wizard, "import_3_check")
    # Fix it inline: the error clears at once, and the row counts as new.
    index = check.model.index(0, check.model.model_column(3))
    assert check.model.setData(index, "9.99", Qt.ItemDataRole.EditRole)
    qtbot.waitUntil(
        lambda: cell(check.model, 4, "MSRP", Qt.ItemDataRole.ToolTipRole) is None, timeout=WAIT_MS
    )
    assert cell(check.model, 4, "MSRP", Qt.ItemDataRole.BackgroundRole) is None
    assert cell(check.model, 4, "MSRP", RawRole) == "9.99"
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Send 3 items to DSCO"
    # Nothing was sent before the confirmation.
    assert client.get_catalog(item_key="sku", value="W1") is None
    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS):
        wizard.next()
    send = wizard.send_page
    assert "<b>3</b> accepted by DSCO" in send.status.text()
    states = {r.sku: r.push_state for r in send.model.rows}
    assert states == {"W1": "accepted", "W2": "accepted", "W3": "accepted"}
    shot(wizard, "import_4_sent")
    remote = client.get_catalog(item_key="sku", value="W2")
    assert remote is not None and remote.msrp == 9.99
    wizard.accept()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 3, timeout=WAIT_MS)
    assert [r.dsco_state for r in tab.model.rows] == ["accepted"] * 3
    shot(tab, "catalog_tab")


def test_wizard_says_why_a_locked_file_cannot_be_opened(
    qtbot: QtBot, tab: CatalogTab, tmp_path: Path
) -> None:
    from tests.spreadsheets.sheets import write_encrypted_xlsx

    wizard = tab.open_wizard(write_encrypted_xlsx(tmp_path / "locked.xlsx"))
    qtbot.waitUntil(wizard.file_page.error.isVisible, timeout=WAIT_MS)
    assert "protected with a password" in wizard.file_page.error.text()
    assert not wizard.file_page.isComplete()


def test_catalog_tab_filters_exports_and_saves_the_template(
    qtbot: QtBot, tab: CatalogTab, db: Database, tmp_path: Path, qtmodeltester: Any
) -> None:
    service = CatalogImportService(db)
    service.items.upsert_many(
        [
            {"sku": f"S{n:03}", "title": f"Item {n}", "productStatus": "active", "cost": n}
            for n in range(40)
        ],
    )
    service.items.set_dsco_state({"S001": ("rejected", "title is required")})
    with qtbot.waitSignal(tab.refresh().finished, timeout=WAIT_MS):
        pass
    assert tab.model.rowCount() == 40
    qtmodeltester.check(tab.model)
    tab.state_filter.setCurrentIndex(1)  # rejected or not delivered
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT_MS)
    assert tab.model.rows[0].dsco_message == "title is required"
    out = tmp_path / "rejected.csv"
    with qtbot.waitSignal(tab.message, timeout=WAIT_MS) as said:
        tab.export(out)
    assert "Exported 1 items" in said.args[0]
    assert "S001" in out.read_text(encoding="utf-8-sig")
    template = tmp_path / "template.xlsx"
    with qtbot.waitSignal(tab.message, timeout=WAIT_MS):
        tab.save_template(template)
    assert template.exists()


def test_import_rows_model_passes_the_model_tester(
    qtmodeltester: Any, db: Database, tmp_path: Path
) -> None:
    service = CatalogImportService(db)
    path = write_xlsx(tmp_path / "m.xlsx", [["SKU", "Title", "Status"], ["A", "T", "x"]])
    import_id = service.validate(service.preview(path)).import_id
    model = ImportRowsModel()
    model.set_rows(service.column_titles(import_id), service.imports.rows(import_id))
    qtmodeltester.check(model)


def test_check_grid_pages_through_a_big_import_in_a_fixed_order(
    qtbot: QtBot, tab: CatalogTab, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImportRowsModel, "PAGE_ROWS", 10)
    service = CatalogImportService(db)
    service.items.upsert_many(
        [{"sku": "B07", "title": "Old title", "productStatus": "active", "cost": 1}]
    )
    rows: list[list[Any]] = [["SKU", "Title", "Status", "Cost"]]
    for n in range(1, 26):
        rows.append([f"B{n:02}", f"Item {n}", "active", "$3" if n % 6 == 0 else 2])
    wizard = tab.open_wizard(write_xlsx(tmp_path / "big.xlsx", rows))
    wizard.resize(1100, 560)  # a grid that ten rows fill: no page is read before asked
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT_MS)
    wizard.next()
    wizard.next()
    check = wizard.check_page
    model = check.model
    # The first page (the view may already be asking for the next one).
    qtbot.waitUntil(lambda: check.isComplete() and model.rowCount() >= 10, timeout=WAIT_MS)
    assert model.total_rows == 25 and model.rowCount() < 25
    bad = [7, 13, 19, 25]  # sheet rows of B06, B12, B18, B24
    assert [r.row_number for r in model.rows[:4]] == bad
    # A changed row says what it changes.
    assert cell(model, 8, "Result", Qt.ItemDataRole.ToolTipRole) == "Changes Cost, Title."
    # Fixing a problem row moves it in SQL's order, never in the grid's.
    assert model.setData(model.index(0, model.model_column(3)), "3", Qt.ItemDataRole.EditRole)
    qtbot.waitUntil(lambda: model.rows[0].errors == 0, timeout=WAIT_MS)
    scroll_to_the_end(qtbot, check.table)
    numbers = [r.row_number for r in model.rows]
    assert len(numbers) == 25 and sorted(numbers) == list(range(2, 27))
    assert numbers[:4] == bad
    # A new view reads the order afresh: the fixed row is no longer first.
    check.filter.setCurrentIndex(1)  # only rows with problems
    qtbot.waitUntil(lambda: model.total_rows == 3, timeout=WAIT_MS)
    assert [r.row_number for r in model.rows] == bad[1:]


def test_partial_sheet_shows_unknown_skus_as_skipped(
    qtbot: QtBot, tab: CatalogTab, db: Database, tmp_path: Path
) -> None:
    CatalogImportService(db).items.upsert_many(
        [{"sku": "K1", "title": "Kettle", "productStatus": "active", "cost": 10}]
    )
    path = write_xlsx(tmp_path / "costs.xlsx", [["SKU", "Cost"], ["K1", 12], ["K9", 4]])
    wizard = tab.open_wizard(path)
    wizard.resize(1100, 560)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT_MS)
    wizard.next()
    wizard.next()
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.isComplete() and check.model.rowCount() == 2, timeout=WAIT_MS)
    assert "1 SKU is not in your catalog" in check.counts.text()
    assert "<b>0</b> with errors" in check.counts.text()
    assert cell(check.model, 3, "Result", Qt.ItemDataRole.DisplayRole) == (
        "Not in catalog, 1 warning"
    )
    assert "no Title and Product Status columns" in cell(
        check.model, 3, "SKU", Qt.ItemDataRole.ToolTipRole
    )
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Send 1 item to DSCO"
    shot(wizard, "import_3_partial_sheet")


def test_a_push_cut_short_is_finished_from_the_catalog_tab(
    qtbot: QtBot, tab: CatalogTab, db: Database, tmp_path: Path, client: DscoClient
) -> None:
    from dsco_desktop.services.catalog_import import ImportMode, direct_delivery

    service = CatalogImportService(db)
    service.items.upsert_many(
        [{"sku": "R0", "title": "Old", "productStatus": "active"}], local_state="synced"
    )
    rows: list[list[Any]] = [["SKU", "Title", "Status"], ["R0", "Changed title", "active"]]
    rows += [[f"R{n}", f"Rug {n}", "active"] for n in range(1, 7)]
    validated = service.validate(service.preview(write_xlsx(tmp_path / "rugs.xlsx", rows)))
    send = direct_delivery(db, client)
    calls = []

    def killed_after_one_batch() -> object:
        calls.append(1)
        if len(calls) > 1:
            raise SystemExit("the app was closed mid-push")
        return send()

    with pytest.raises(SystemExit):
        service.push(
            validated.import_id,
            ImportMode.ADD_NEW,
            deliver=killed_after_one_batch,
            max_batch_bytes=120,
            large_batch_min_batches=100,
        )
    before = {r.sku: r.push_state for r in service.imports.rows(validated.import_id)}
    assert before["R6"] == "not_sent" and "queued" in before.values(), before
    with qtbot.waitSignal(tab.refresh().finished, timeout=WAIT_MS):
        pass
    assert tab.banner_host.isVisible() and "was interrupted" in tab.banner.text()
    assert tab.check_button.text() == "Finish sending and check results"
    shot(tab, "catalog_tab_push_interrupted")
    with qtbot.waitSignal(tab.message, timeout=WAIT_MS) as said:
        tab.check_unfinished()
    assert said.args[0] == "rugs.xlsx: 6 accepted, 0 rejected, 0 still waiting."
    states = {r.sku: r.push_state for r in service.imports.rows(validated.import_id)}
    assert states == {"R0": "not_sent", **{f"R{n}": "accepted" for n in range(1, 7)}}
    assert client.get_catalog(item_key="sku", value="R6") is not None
    qtbot.waitUntil(lambda: not tab.banner_host.isVisible(), timeout=WAIT_MS)


def test_a_sku_the_retailer_refuses_shows_dscos_reason_after_the_push(
    qtbot: QtBot, tab: CatalogTab, tmp_path: Path, sandbox: Any
) -> None:
    sandbox.set_catalog_required(["brand"])
    path = write_xlsx(
        tmp_path / "brands.xlsx",
        [
            ["SKU", "Title", "Status", "Brand"],
            ["BR1", "Scarf", "active", "Acme"],
            ["BR2", "Gloves", "active", ""],
            ["BR3", "Hat", "active", "Acme"],
        ],
    )
    wizard = tab.open_wizard(path)
    wizard.resize(1100, 560)
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=WAIT_MS)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(wizard.check_page.isComplete, timeout=WAIT_MS)
    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS):
        wizard.next()
    send = wizard.send_page
    assert "<b>2</b> accepted by DSCO" in send.status.text()
    assert "<b>1</b> rejected" in send.status.text()
    model = send.model
    assert model.rows[0].sku == "BR2"  # refusals first
    assert cell(model, 3, "Result", Qt.ItemDataRole.DisplayRole) == "Rejected by DSCO"
    assert cell(model, 3, "Problems", Qt.ItemDataRole.DisplayRole) == (
        "DSCO: brand is required by Poshmark on every item"
    )
    shot(wizard, "import_4_rejected")


def test_a_csv_read_with_the_wrong_encoding_can_be_read_again_with_the_right_one(
    qtbot: QtBot, tab: CatalogTab, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "polish.csv"
    path.write_bytes("SKU,Title,Status\nPL1,Żółć gęś,active\nPL2,Łódź,active\n".encode("cp1250"))
    wizard = tab.open_wizard(path)
    wizard.resize(1100, 560)
    page = wizard.file_page
    qtbot.waitUntil(page.isComplete, timeout=WAIT_MS)
    assert page.encoding_combo.isVisible()
    assert page.encoding_combo.currentText().startswith("Automatic (")
    # Choose Windows-1250, as a user would after seeing the wrong letters.
    page.encoding_combo.setCurrentIndex(page.encoding_combo.findData("cp1250"))
    page.encoding_combo.activated.emit(page.encoding_combo.currentIndex())
    qtbot.waitUntil(
        lambda: page.isComplete() and wizard.preview is not None and wizard.preview.info.chosen,
        timeout=WAIT_MS,
    )
    assert page.rows_model.rows[1][1] == "Żółć gęś"
    assert page.encoding_combo.currentText() == "Windows-1250 (Central European)"
    assert not page.notice.isVisible()
    shot(wizard, "import_1_encoding")
    wizard.next()
    wizard.next()
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.isComplete() and check.model.rowCount() == 2, timeout=WAIT_MS)
    assert cell(check.model, 3, "Title", Qt.ItemDataRole.DisplayRole) == "Łódź"
    # An xlsx has no text encoding to choose.
    wizard.load_file(write_xlsx(tmp_path / "book.xlsx", [["SKU", "Title"], ["B1", "Book"]]))
    qtbot.waitUntil(page.isComplete, timeout=WAIT_MS)
    assert not page.encoding_combo.isVisible()


def test_catalog_list_reads_more_items_as_it_scrolls(
    qtbot: QtBot, tab: CatalogTab, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CatalogItemsModel, "PAGE_ROWS", 10)
    CatalogImportService(db).items.upsert_many(
        [{"sku": f"P{n:03}", "title": f"Item {n}", "productStatus": "active"} for n in range(25)]
    )
    tab.resize(1200, 360)  # a list that ten rows fill: no page is read before it scrolls
    with qtbot.waitSignal(tab.refresh().finished, timeout=WAIT_MS):
        pass
    model = tab.model
    assert model.total_rows == 25 and 10 <= model.rowCount() < 25
    assert tab.count_label.text() == "25 of 25 items"
    scroll_to_the_end(qtbot, tab.table)
    assert [r.sku for r in model.rows] == [f"P{n:03}" for n in range(25)]
    # A page asked for by an earlier view is dropped when it arrives late.
    model.set_first_page(list(model.rows[:10]), 25)
    with qtbot.waitSignal(model.more_wanted) as asked:
        model.fetchMore()
    generation, start = asked.args
    assert start == 10
    model.set_first_page(list(model.rows[:5]), 5)
    model.append_rows(generation, list(model.rows[:3]), asked=10)
    assert model.rowCount() == 5 and not model.canFetchMore()
