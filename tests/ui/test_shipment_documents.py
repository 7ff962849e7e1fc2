"""Packing slips and pick lists: one PDF page per order, the pick list adds units per SKU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage, QPainter, QTextDocument
from pytestqt.qtbot import QtBot

from dsco_desktop.services.shipping import ShippingService
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.packing_slips import pdf_page_count, write_pdf
from dsco_desktop.ui.shipments_tab import ShipmentsTab
from tests.ui.shots import SHOTS, shot


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "app.sqlite3")
    OrderRepository(database).upsert_many(
        {
            "dscoOrderId": str(7000 + n),
            "poNumber": f"PM{n:08d}",
            "consumerOrderNumber": f"c0ffee{n}",
            "dscoTradingPartnerName": "Poshmark",
            "dscoLifecycle": "acknowledged",
            "dscoLastUpdate": "2025-11-13T10:00:00+00:00",
            "packingSlipMessage": "Thank you for shopping with us!",
            "shipping": {
                "name": f"Ashley Brooks {n}",
                "address": ["4410 Maple Ave", "Apt 2"],
                "city": "Austin",
                "region": "TX",
                "postal": "78704",
                "country": "US",
            },
            "lineItems": [
                {"lineNumber": 1, "sku": "LLM-LEG-BLA-S", "title": "Align Legging", "quantity": 2},
                {"lineNumber": 2, "sku": f"NKE-AF1-{n}", "title": "Air Force 1", "quantity": 1},
            ],
        }
        for n in range(3)
    )
    yield database
    database.close_all()


def test_packing_slips_one_page_per_order(qapp: object, db: Database, tmp_path: Path) -> None:
    title, html = ShippingService(db).documents(["7000", "7001", "7002"], "slip")
    assert "PM00000000" in html and "Ashley Brooks 1" in html and "4410 Maple Ave" in html
    assert "Thank you for shopping with us!" in html
    path = tmp_path / "slips.pdf"
    pages = write_pdf(html, path, title)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert pages == 3 == pdf_page_count(data)
    # Look at the first slip as a picture, too.
    document = QTextDocument()
    document.setHtml(html)
    document.setTextWidth(800)
    image = QImage(820, 620, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFF)
    painter = QPainter(image)
    document.drawContents(painter)
    painter.end()
    SHOTS.mkdir(parents=True, exist_ok=True)
    image.save(str(SHOTS / "packing_slip.png"))


def test_pick_list_adds_units_per_sku(db: Database) -> None:
    _title, html = ShippingService(db).documents(["7000", "7001", "7002"], "pick")
    assert "3 order(s), 4 SKU(s), 9 unit(s) to pick." in html
    assert "<b>6</b>" in html  # LLM-LEG-BLA-S: 2 on each of three orders
    assert "PM00000000 x2" in html


def test_the_tab_writes_the_pdf_on_a_job(qtbot: QtBot, db: Database, tmp_path: Path) -> None:
    jobs = JobRunner()
    tab = ShipmentsTab(
        ShippingService(db), jobs, lambda: None, lambda: None, reconcile_interval_ms=0
    )
    qtbot.addWidget(tab)
    path = tmp_path / "pick.pdf"
    with qtbot.waitSignal(tab.documents_written, timeout=10_000) as caught:
        tab.export_documents("pick", ["7000", "7001"], path)
    assert caught.args == [str(path), 1]
    assert tab.documents_message.text() == "Saved pick.pdf (1 page(s))."
    tab.export_documents("slip", [], tmp_path / "none.pdf")
    assert tab.documents_message.text() == "Open an order or select shipments first."
    jobs.shutdown()


def test_batch_preview_shows_problems_per_row_then_sends(qtbot: QtBot, tmp_path: Path) -> None:
    from dsco_desktop.store.outbox import OutboxRepository
    from tests.services.test_shipping_batch import good_rows, store_orders, write_rows

    database = Database(tmp_path / "batch.sqlite3")
    store_orders(database, 6)
    rows = good_rows(6)
    rows[2][4] = "GCG"  # spreadsheet row 4, PO-0001
    path = write_rows(tmp_path / "batch.xlsx", rows)
    jobs = JobRunner()
    woken: list[bool] = []
    tab = ShipmentsTab(
        ShippingService(database), jobs, lambda: None, lambda: woken.append(True),
        reconcile_interval_ms=0,
    )  # fmt: skip
    qtbot.addWidget(tab)
    tab.open_batch(path)
    qtbot.waitUntil(lambda: tab.batch_dialog is not None, timeout=10_000)
    dialog = tab.batch_dialog
    assert dialog is not None
    assert dialog.model.rowCount() == 12
    problems = dialog.model.index(2, dialog.model.column_index("Problems")).data()
    assert "generic order-level code" in problems
    assert "5 shipment(s) ready" in dialog.summary.text()
    dialog.only_problems.setChecked(True)
    assert dialog.model.rowCount() == 1
    dialog.table.setCurrentIndex(dialog.model.index(0, 0))
    assert dialog.details.text().startswith("Row 4: GCG is DSCO's generic order-level code")
    shot(dialog, "batch_preview")
    with qtbot.waitSignal(dialog.sent, timeout=10_000) as caught:
        dialog.send_button.click()
    assert caught.args == [5]
    assert woken
    assert OutboxRepository(database).counts().pending == 5
    jobs.shutdown()
    database.close_all()


def test_the_tab_goes_quiet_once_the_job_runner_is_shut_down(qtbot: QtBot, db: Database) -> None:
    jobs = JobRunner()
    tab = ShipmentsTab(
        ShippingService(db), jobs, lambda: None, lambda: None, reconcile_interval_ms=10
    )
    qtbot.addWidget(tab)
    jobs.shutdown()
    qtbot.waitUntil(lambda: not tab._reconcile_timer.isActive(), timeout=2000)
    tab.refresh()  # no error: nothing is started any more
