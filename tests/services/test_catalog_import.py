"""Catalog import end to end: sheets written here, the store, the outbox and the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from dsco_desktop.app import main
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.catalog_import import (
    CatalogImportService,
    ImportMode,
    direct_delivery,
    write_template,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxRepository
from tests.spreadsheets.sheets import write_xlsx

HEADER = [
    "Item SKU",
    "Product Name",
    "Status",
    "UPC",
    "Cost",
    "MSRP",
    "Image 1",
    "Category",
    "Weight",
    "Weight Unit",
]

# One mistake per row, each kind once (plus two duplicates that point at earlier rows).
MISTAKES: list[tuple[list[Any], str, str]] = [
    (["", "No sku", "active", "", 5, 10, "", "", "", ""], "A", "SKU is missing"),
    (["M2", "", "active", "", 5, 10, "", "", "", ""], "B", "Title is missing"),
    (["M3", "Bad status", "for sale", "", 5, 10, "", "", "", ""], "C", "is not one of pending"),
    (["M" * 91, "Long sku", "active", "", 5, 10, "", "", "", ""], "A", "at most 90"),
    (["M5", "Symbol", "active", "", "$5.00", 10, "", "", "", ""], "E", "currency symbol"),
    (["M6", "Decimals", "active", "", 5.125, 10, "", "", "", ""], "E", "more than 2 decimals"),
    (
        ["M7", "Check digit", "active", "012345678904", 5, 10, "", "", "", ""],
        "D",
        "wrong check digit",
    ),
    (["M8", "Short UPC", "active", "12345", 5, 10, "", "", "", ""], "D", "has 5 digits"),
    (
        ["M9", "Plain http", "active", "", 5, 10, "http://img.example/9.jpg", "", "", ""],
        "G",
        "https://",
    ),
    (
        ["M10", "Bad path", "active", "", 5, 10, "", "Apparel||||Shoes", "", ""],
        "H",
        "not a category path",
    ),
    (["M11", "Negative", "active", "", 5, -3, "", "", "", ""], "F", "negative"),
    (["M12", "Bad unit", "active", "", 5, 10, "", "", "2", "stone"], "J", "is not one of oz"),
    (["M3", "Duplicate sku", "active", "", 5, 10, "", "", "", ""], "A", "also on row 7"),
    (
        ["M14", "Duplicate upc", "active", "036000291452", 5, 10, "", "", "", ""],
        "D",
        "also on row 4",
    ),
]


def good_row(sku: str, **overrides: Any) -> list[Any]:
    values = {
        "sku": sku,
        "title": f"Item {sku}",
        "status": "active",
        "upc": "",
        "cost": 5,
        "msrp": 12.5,
        "image": f"https://img.example/{sku}.jpg",
        "category": "Home||Decor",
        "weight": 1,
        "unit": "lb",
    }
    values.update(overrides)
    return list(values.values())


@pytest.fixture
def service(db: Database) -> CatalogImportService:
    return CatalogImportService(db)


class RetailerRules(httpx.BaseTransport):
    """DSCO applies retailer rules the app cannot see; here: SKUs starting 'HOLD' are refused.

    The batch goes to the real sandbox with those records made invalid, so the rejection comes
    back through DSCO's own change log."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/catalog/batch/small"):
            body = json.loads(request.content)
            for record in body:
                if str(record.get("sku", "")).startswith("HOLD"):
                    record["productStatus"] = "held-by-retailer"
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            request = httpx.Request(
                request.method, request.url, headers=headers, content=json.dumps(body).encode()
            )
        return self.inner.handle_request(request)


@pytest.fixture
def client(sandbox: Any) -> Iterator[DscoClient]:
    with DscoClient(
        sandbox.base_url, sandbox.client_id, sandbox.client_secret, transport=RetailerRules()
    ) as dsco:
        yield dsco


def validate_file(service: CatalogImportService, path: Path) -> int:
    return service.validate(service.preview(path)).import_id


def test_every_mistake_is_reported_on_its_row_and_column(
    tmp_path: Path, service: CatalogImportService
) -> None:
    rows = [HEADER, good_row("OK1", upc="036000291452"), *[m[0] for m in MISTAKES]]
    path = write_xlsx(tmp_path / "mistakes.xlsx", [["Our catalog"], [], *rows])
    import_id = validate_file(service, path)
    by_row = {r.row_number: r for r in service.imports.rows(import_id)}
    first_data_row = 5
    for offset, (_cells, letter, text) in enumerate(MISTAKES):
        row = by_row[first_data_row + offset]
        found = [i for i in row.issues if i["severity"] == "error"]
        columns = {
            openpyxl.utils.get_column_letter(i["column"] + 1)
            for i in found
            if i["column"] is not None
        }
        assert any(text in i["message"] for i in found), (row.row_number, found)
        assert letter in columns, (row.row_number, found)
        assert row.diff == "invalid"
    assert by_row[4].errors == 0  # the first row with that UPC keeps it
    counts = service.summary(import_id).counts
    assert (counts.invalid, counts.new) == (len(MISTAKES), 1)


def test_leading_zeros_survive_from_text_and_are_flagged_from_numbers(
    tmp_path: Path, service: CatalogImportService
) -> None:
    path = write_xlsx(
        tmp_path / "zeros.xlsx",
        [
            ["SKU", "Title", "Status", "UPC"],
            ["00123", "Text codes", "active", "012345678905"],
            [456, "Number codes", "active", 36000291452],
        ],
    )
    import_id = validate_file(service, path)
    rows = {r.row_number: r for r in service.imports.rows(import_id)}
    assert rows[2].sku == "00123" and rows[2].item["upc"] == "012345678905"
    assert rows[3].sku == "456" and rows[3].item["upc"] == "036000291452"
    assert "lost its leading zero" in rows[3].issues[0]["message"]
    assert rows[3].issues[0]["column"] == 3


def test_push_to_the_sandbox_shows_each_sku_outcome_and_survives_a_restart(
    tmp_path: Path, db: Database, service: CatalogImportService, client: DscoClient
) -> None:
    path = write_xlsx(
        tmp_path / "push.xlsx",
        [
            HEADER,
            good_row("NEW1"),
            good_row("HOLD2"),
            good_row("NEW3"),
            good_row("BAD", cost="x"),
        ],
    )
    import_id = validate_file(service, path)
    summary = service.push(
        import_id,
        ImportMode.BOTH,
        deliver=direct_delivery(db, client),
        client=client,
        poll_s=0.1,
        follow_timeout_s=30,
    )
    assert summary.state == "done"
    restarted = CatalogImportService(Database(db.path))
    rows = {r.sku: r for r in restarted.imports.rows(import_id)}
    assert rows["NEW1"].push_state == "accepted" and rows["NEW3"].push_state == "accepted"
    assert rows["HOLD2"].push_state == "rejected"
    assert "productStatus" in (rows["HOLD2"].dsco_message or "")
    assert rows["BAD"].push_state == "not_sent"
    stored = restarted.items.get("HOLD2")
    assert stored is not None and stored.dsco_state == "rejected"
    assert restarted.items.get("NEW1").dsco_state == "accepted"  # type: ignore[union-attr]
    assert client.get_catalog(item_key="sku", value="NEW1") is not None


def test_partial_column_update_changes_only_those_fields(
    tmp_path: Path, db: Database, service: CatalogImportService, client: DscoClient
) -> None:
    full = write_xlsx(tmp_path / "full.xlsx", [HEADER, good_row("P1"), good_row("P2")])
    first = validate_file(service, full)
    service.push(
        first, ImportMode.BOTH, deliver=direct_delivery(db, client), client=client, poll_s=0.1
    )
    partial = write_xlsx(tmp_path / "cost.xlsx", [["sku", "cost"], ["P1", 7.25], ["P2", 5]])
    second = validate_file(service, partial)
    counts = service.summary(second).counts
    assert (counts.changed, counts.unchanged, counts.invalid) == (1, 1, 0)
    service.push(
        second,
        ImportMode.UPDATE_EXISTING,
        deliver=direct_delivery(db, client),
        client=client,
        poll_s=0.1,
    )
    outbox = OutboxRepository(db).list()
    assert outbox[0].payload["items"] == [
        {"cost": 7.25, "sku": "P1", "title": "Item P1", "productStatus": "active"}
    ]
    item = service.items.get("P1")
    assert item is not None
    assert (item.cost, item.msrp, item.title, item.dsco_state) == (
        7.25,
        12.5,
        "Item P1",
        "accepted",
    )
    remote = client.get_catalog(item_key="sku", value="P1")
    assert remote is not None and remote.cost == 7.25 and remote.msrp == 12.5


def test_inline_fix_clears_the_error_and_the_duplicate_it_caused(
    tmp_path: Path, service: CatalogImportService
) -> None:
    path = write_xlsx(
        tmp_path / "fix.xlsx", [HEADER, good_row("F1"), good_row("F1"), good_row("F3", cost="$4")]
    )
    import_id = validate_file(service, path)
    assert service.summary(import_id).counts.invalid == 2
    fixed = service.fix_cell(import_id, 3, 0, "F2")
    assert [r.row_number for r in fixed] == [3, 2]
    assert fixed[0].errors == 0 and fixed[0].sku == "F2"
    fixed = service.fix_cell(import_id, 4, 4, "4.00")
    assert fixed[0].errors == 0 and fixed[0].item["cost"] == 4.0
    assert service.summary(import_id).counts.invalid == 0


def test_saved_profile_maps_the_same_layout_next_time(
    tmp_path: Path, service: CatalogImportService
) -> None:
    rows = [["Ref", "Name", "State", "Fabric"], ["R1", "Towel", "active", "linen"]]
    path = write_xlsx(tmp_path / "odd.xlsx", rows)
    preview = service.preview(path)
    assert preview.mapping.targets == ("", "title", "", "")
    mapping = preview.mapping.with_target(0, "sku").with_target(2, "productStatus")
    mapping = mapping.with_target(3, "extended:Fabric")
    service.save_profile("Towel supplier", mapping)
    again = service.preview(write_xlsx(tmp_path / "odd2.xlsx", rows))
    assert again.profile_name == "Towel supplier"
    assert again.mapping.targets == ("sku", "title", "productStatus", "extended:Fabric")
    import_id = service.validate(again).import_id
    row = service.imports.rows(import_id)[0]
    assert row.errors == 0 and row.item["extendedAttributes"] == {"Fabric": "linen"}


def test_error_report_marks_bad_cells_and_lists_messages(
    tmp_path: Path, service: CatalogImportService
) -> None:
    path = write_xlsx(tmp_path / "report.xlsx", [HEADER, good_row("E1"), good_row("E2", msrp="$3")])
    import_id = validate_file(service, path)
    out = tmp_path / "problems.xlsx"
    assert service.export_error_report(import_id, out) == 1
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    assert sheet["A2"].value == 3  # the sheet row
    msrp = sheet.cell(row=2, column=HEADER.index("MSRP") + 2)
    assert msrp.value == "$3" and msrp.fill.start_color.rgb.endswith("FFC7CE")
    assert "currency symbol" in (msrp.comment.text if msrp.comment else "")
    assert (
        "MSRP: MSRP '$3' has a currency symbol" in sheet.cell(row=2, column=len(HEADER) + 2).value
    )


def test_template_round_trips_through_the_importer(
    tmp_path: Path, service: CatalogImportService
) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.append(["00077", "From the template", "pending", None, None, None, "012345678905"])
    book.save(path)
    preview = service.preview(path)
    assert preview.header_row == 1
    row = service.imports.rows(service.validate(preview).import_id)[0]
    assert row.errors == 0 and row.sku == "00077" and row.item["upc"] == "012345678905"


def test_large_imports_go_as_one_large_batch(
    tmp_path: Path, db: Database, service: CatalogImportService, sandbox: Any
) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", [HEADER, *[good_row(f"L{n}") for n in range(30)]])
    import_id = validate_file(service, path)
    with DscoClient(sandbox.base_url, sandbox.client_id, sandbox.client_secret) as dsco:
        summary = service.push(
            import_id,
            ImportMode.BOTH,
            deliver=direct_delivery(db, dsco),
            client=dsco,
            max_batch_bytes=1000,
            large_batch_min_batches=3,
            poll_s=0.1,
        )
    assert summary.counts.pushed("accepted") == 30
    kinds = [row.kind for row in OutboxRepository(db).list()]
    assert kinds == ["catalog.large_batch"]


def test_cli_check_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_xlsx(tmp_path / "cli.xlsx", [HEADER, good_row("C1"), good_row("C2", cost="$1")])
    assert main(["catalog", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Row 3, column E (Cost): error: Cost '$1' has a currency symbol" in out
    assert main(["catalog", "check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 2 and report["problems"][0]["row"] == 3
    missing = tmp_path / "gone.xlsx"
    assert main(["catalog", "check", str(missing), "--json"]) == 2
    assert "does not exist" in json.loads(capsys.readouterr().out)["error"]
    # A CSV's text encoding can be named; a wrong one is said plainly.
    polish = tmp_path / "pl.csv"
    polish.write_bytes("SKU,Title,Status\nP1,Żółć,active\n".encode("cp1250"))
    assert main(["catalog", "check", str(polish), "--encoding", "cp1250", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 1
    assert main(["catalog", "check", str(polish), "--encoding", "klingon"]) == 2
    assert "'klingon' is not a text encoding" in capsys.readouterr().err
    assert main(["catalog", "check", str(missing), "--json"]) == 2
    assert "does not exist" in json.loads(capsys.readouterr().out)["error"]


def test_partial_sheet_skips_skus_not_in_the_catalog_and_fails_blank_required_cells(
    tmp_path: Path, db: Database, service: CatalogImportService, client: DscoClient
) -> None:
    full = write_xlsx(tmp_path / "full.xlsx", [HEADER, good_row("K1")])
    service.push(
        validate_file(service, full),
        ImportMode.BOTH,
        deliver=direct_delivery(db, client),
        client=client,
        poll_s=0.1,
    )
    partial = write_xlsx(tmp_path / "cost.xlsx", [["sku", "cost"], ["K1", 6], ["K9", 4]])
    import_id = validate_file(service, partial)
    counts = service.summary(import_id).counts
    assert (counts.changed, counts.skipped, counts.invalid, counts.new) == (1, 1, 0, 0)
    skipped = service.imports.row(import_id, 3)
    assert skipped is not None and (skipped.diff, skipped.errors) == ("skipped", 0)
    assert skipped.issues == [
        {
            "field": "sku",
            "severity": "warning",
            "message": "K9 is not in your catalog, and this sheet has no Title and Product "
            "Status columns to add it: the row is skipped.",
            "column": 0,
        }
    ]
    for mode in (ImportMode.BOTH, ImportMode.ADD_NEW):
        rows = service.imports.rows(import_id, diffs=mode.diffs)
        assert [r.sku for r in rows] == (["K1"] if mode is ImportMode.BOTH else [])
    # A sheet that has the Title column but leaves it blank for a new SKU is a mistake.
    blank = write_xlsx(tmp_path / "blank.xlsx", [["sku", "title", "status"], ["K8", "", "active"]])
    row = service.imports.row(validate_file(service, blank), 2)
    assert row is not None and row.diff == "invalid"
    assert [i["message"] for i in row.issues] == [
        "Title is missing; it is required for a new item."
    ]


def test_cli_check_compares_with_the_stored_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dsco_desktop.store.items import ItemRepository

    data = tmp_path / "data"
    db = Database(data / "dsco-desktop.sqlite3")
    ItemRepository(db).upsert_many(
        [{"sku": "S1", "title": "Shirt", "productStatus": "active"}], local_state="synced"
    )
    db.close_all()
    path = write_xlsx(tmp_path / "cost.xlsx", [["sku", "cost"], ["S1", 3], ["S2", 4]])
    assert main(["catalog", "check", str(path), "--data-dir", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["catalog"].endswith("dsco-desktop.sqlite3")
    assert report["rows_with_errors"] == 0 and report["rows_with_warnings"] == 1
    assert [p["row"] for p in report["problems"]] == [3]
    # Without a stored catalog every SKU is judged as a new item.
    assert main(["catalog", "check", str(path), "--data-dir", str(tmp_path / "none")]) == 1
    out = capsys.readouterr().out
    assert "Not compared with a stored catalog" in out
    assert "Row 2: error: Title is missing; it is required for a new item." in out


def test_an_import_cut_short_by_a_crash_is_discarded_at_the_next_start(
    tmp_path: Path, db: Database
) -> None:
    from dsco_desktop.store.catalog_imports import row_values

    before_crash = CatalogImportService(db)
    killed = before_crash.imports.create(
        file_name="big.xlsx", file_path="/x/big.xlsx", sheet="Items", header_row=0,
        headers=["sku"], mapping=["sku"],
    )  # fmt: skip
    with db.transaction() as tx:  # the chunks stored before the kill
        before_crash.imports.add_rows(
            [row_values(killed, n, f"S{n}", None, [f"S{n}"], {}, [], 0, 0, "new", []) for n in
             range(2, 500)], conn=tx,
        )  # fmt: skip
    restarted = CatalogImportService(db)
    path = write_xlsx(tmp_path / "fresh.xlsx", [HEADER, good_row("F1")])
    # An import this run is reading right now stays.
    fresh = restarted.imports.create(
        file_name="fresh.xlsx", file_path=str(path), sheet="Sheet", header_row=0,
        headers=["sku"], mapping=["sku"],
    )  # fmt: skip
    assert restarted.discard_interrupted() == 1
    assert restarted.imports.get(killed) is None
    assert restarted.imports.get(fresh) is not None
    count = db.connection().execute("SELECT COUNT(*) FROM catalog_import_rows").fetchone()[0]
    assert count == 0
    assert restarted.discard_interrupted() == 0


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_checking_reports_progress_against_the_sheets_row_count(
    tmp_path: Path, service: CatalogImportService, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    import dsco_desktop.services.catalog_import as module

    monkeypatch.setattr(module, "CHUNK_ROWS", 10)
    rows = [HEADER, *(good_row(f"G{n}") for n in range(25))]
    if suffix == ".xlsx":
        path = write_xlsx(tmp_path / "progress.xlsx", [["Spring catalog"], *rows])
    else:
        path = tmp_path / "progress.csv"
        path.write_text("Spring catalog\n" + "\n".join(",".join(map(str, r)) for r in rows))
    seen: list[tuple[int, int, str]] = []
    service.validate(service.preview(path), progress=lambda d, t, text: seen.append((d, t, text)))
    assert seen == [
        (10, 25, "Checked 10 of 25 rows"),
        (20, 25, "Checked 20 of 25 rows"),
        (25, 25, "Checked 25 of 25 rows"),
        (25, 25, "Checked 25 rows"),
    ]
