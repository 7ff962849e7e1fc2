"""Batch shipments from a spreadsheet: a 200-row file with every kind of mistake reports each
one on its row; the good POs are queued, the others held back; the same file twice queues
nothing new; the command line prints the same report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from dsco_desktop.domain.tracking import ups_check_digit
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.shipping import ShippingService, check_batch_file
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository

HEADERS = ["PO Number", "SKU", "Qty", "Carrier", "Service Level", "Tracking #", "Ship Date"]
TODAY = date(2025, 11, 14)


def ups(n: int) -> str:
    body = f"A1B2C3{n:09d}"
    return f"1Z{body}{ups_check_digit(body)}"


def store_orders(db: Database, count: int) -> None:
    """`count` local orders PO-0000.., each with SKU A-n (qty 1) and B-n (qty 2)."""
    OrderRepository(db).upsert_many(
        {
            "dscoOrderId": str(5000 + n),
            "poNumber": f"PO-{n:04d}",
            "dscoLifecycle": "acknowledged",
            "dscoLastUpdate": "2025-11-13T10:00:00+00:00",
            "lineItems": [
                {"lineNumber": 1, "sku": f"A-{n}", "quantity": 1},
                {"lineNumber": 2, "sku": f"B-{n}", "quantity": 2},
            ],
        }
        for n in range(count)
    )


def write_rows(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def good_rows(count: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for n in range(count):
        tracking = ups(n)
        rows.append([f"PO-{n:04d}", f"A-{n}", 1, "UPS", "UPCG", tracking, "2025-11-14"])
        rows.append([f"PO-{n:04d}", f"B-{n}", 2, "UPS", "UPCG", tracking, "2025-11-14"])
    return rows


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "app.sqlite3")
    store_orders(database, 100)
    return database


def test_200_rows_with_nine_kinds_of_mistakes_each_reported_on_its_row(
    db: Database, tmp_path: Path
) -> None:
    rows = good_rows(100)  # 200 rows, spreadsheet rows 2..201
    # (spreadsheet row, mistake, words the report must use)
    mistakes = {
        3: ("unknown PO", "is not among the orders on this computer"),
        10: ("SKU not on the order", "has no line with SKU"),
        21: ("quantity not a number", "'two' is not a whole number"),
        33: ("over-shipment", "more than the 2 left to ship"),
        44: ("check digit off by one", "mistyped"),
        55: ("generic code", "generic order-level code"),
        66: ("not a date", "is not a date"),
        77: ("no carrier", "Carrier is missing"),
        88: ("tracking of another PO", "also used for PO"),
    }
    rows[3 - 2][0] = "PO-NOPE"
    rows[10 - 2][1] = "Z-999"
    rows[21 - 2][2] = "two"
    rows[33 - 2][2] = 5  # row 33 is a B line: 2 ordered
    tracking = str(rows[44 - 2][5])
    rows[44 - 2][5] = tracking[:-1] + str((int(tracking[-1]) + 1) % 10)
    rows[55 - 2][4] = "GCG"
    rows[66 - 2][6] = "31/31/2025"
    rows[77 - 2][3] = ""
    rows[88 - 2][5] = rows[2 - 2][5]  # PO-0043's row reuses PO-0000's package
    path = write_rows(tmp_path / "shipments.xlsx", rows)

    report = check_batch_file(db, path, today=TODAY)

    assert len(report.rows) == 200
    bad = {row.row: row.errors for row in report.rows if row.errors}
    assert sorted(bad) == sorted(mistakes)
    for number, (kind, words) in mistakes.items():
        assert any(words in message for message in bad[number]), (kind, bad[number])
    assert report.rows_with_errors == 9
    # A PO with a bad row is held back whole; the rest is ready.
    expected = {"PO-NOPE"} | {f"PO-{(r - 2) // 2:04d}" for r in mistakes if r != 3}
    assert set(report.held_back) == expected
    assert len(report.shipments) == 100 - 8
    text = report.as_text()
    assert "Row 44: " in text and "mistyped" in text
    assert "PO PO-0021 is held back until row(s) 44 are fixed." in text
    data = report.as_json()
    assert data["rowsWithErrors"] == 9
    assert json.dumps(data)


def test_good_batch_is_queued_once(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "good.csv.xlsx", good_rows(5))
    report = check_batch_file(db, path, today=TODAY)
    assert report.rows_with_errors == 0
    service = ShippingService(db)
    queued = service.send_batch(report, key_prefix="good.xlsx")
    assert len(queued) == 5
    assert [len(s.packages) for s in queued] == [1] * 5
    assert queued[0].payload["shipments"][0]["lineItems"] == [
        {"quantity": 1, "lineNumber": 1, "sku": "A-0"},
        {"quantity": 2, "lineNumber": 2, "sku": "B-0"},
    ]
    assert service.send_batch(report, key_prefix="good.xlsx") == queued
    assert OutboxRepository(db).counts().pending == 5
    # The queued units are now taken: checking the file again refuses them.
    again = check_batch_file(db, path, today=TODAY)
    assert again.rows_with_errors == 10


def test_rows_over_several_lines_add_up(db: Database, tmp_path: Path) -> None:
    rows = [
        ["PO-0007", "B-7", 1, "UPS", "UPCG", ups(1), ""],
        ["PO-0007", "B-7", 1, "UPS", "UPCG", ups(2), ""],
        ["PO-0007", "B-7", 1, "UPS", "UPCG", ups(3), ""],
    ]
    report = check_batch_file(db, write_rows(tmp_path / "b.xlsx", rows), today=TODAY)
    assert [r.row for r in report.rows if r.errors] == [4]
    assert "1 of them" not in report.rows[2].errors[0]
    assert "2 of them in rows above" in report.rows[2].errors[0]


def test_csv_and_missing_columns(db: Database, tmp_path: Path) -> None:
    csv = tmp_path / "ship.csv"
    csv.write_text(
        f"PO,Line,Quantity,Carrier,Service level code,Tracking\nPO-0002,2,2,UPS,UPCG,{ups(9)}\n",
        encoding="utf-8",
    )
    report = check_batch_file(db, csv, today=TODAY)
    assert report.rows_with_errors == 0
    assert report.shipments[0].packages[0].quantities == {"line:2": 2}
    broken = tmp_path / "broken.csv"
    broken.write_text("PO,Quantity\nPO-0002,1\n", encoding="utf-8")
    with pytest.raises(UserFacingError) as caught:
        check_batch_file(db, broken)
    assert "no column for" in caught.value.message and "Tracking number" in caught.value.message


def test_command_line_prints_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dsco_desktop.app import main
    from dsco_desktop.paths import resolve_paths

    data_dir = tmp_path / "appdata"
    database = Database(resolve_paths(str(data_dir)).database)
    store_orders(database, 3)
    database.close_all()
    rows = good_rows(3)
    rows[1][2] = 9  # row 3: more than the 2 of B-0
    path = write_rows(tmp_path / "cli.xlsx", rows)

    code = main(["shipments", "check", str(path), "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "6 rows, 1 with errors" in out
    assert "Row 3: Quantity 9 for SKU B-0 is more than the 2 left to ship on PO PO-0000" in out

    code = main(["shipments", "check", str(path), "--json", "--data-dir", str(data_dir)])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [r["row"] for r in data["rows"] if r["errors"]] == [3]

    code = main(["shipments", "check", str(tmp_path / "nope.xlsx"), "--data-dir", str(data_dir)])
    assert code == 2
    assert "nope.xlsx" in capsys.readouterr().err
