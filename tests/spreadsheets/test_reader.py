"""Reading sheets as shop owners make them: odd layouts, encodings, damaged or locked files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dsco_desktop.domain.catalog import CATALOG_FIELDS
from dsco_desktop.domain.fields import FieldDef
from dsco_desktop.spreadsheets.mapping import auto_map
from dsco_desktop.spreadsheets.reader import (
    SpreadsheetError,
    column_letter,
    encoding_name,
    find_header_row,
    inspect,
    iter_rows,
    read_head,
)
from tests.spreadsheets.sheets import write_csv, write_encrypted_xlsx, write_xlsx


def test_xlsx_keeps_text_codes_and_finds_the_header_below_a_title(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "catalog.xlsx",
        [
            ["Spring catalog 2025"],
            [],
            ["Item SKU", "UPC", "MSRP", "Launch Date"],
            ["00123", "012345678905", 19.99, date(2025, 3, 1)],
        ],
        extra_sheets=["Notes"],
    )
    info = inspect(path)
    assert info.sheets == ("Items", "Notes")
    rows = read_head(info, "Items")
    assert find_header_row(rows, CATALOG_FIELDS) == 2
    assert rows[3][:3] == ["00123", "012345678905", 19.99]
    assert rows[3][3] == date(2025, 3, 1)


def test_csv_in_cp1252_is_read_with_its_accents_and_says_how(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        "SKU;Title;Colour\r\nA1;Café crème;Rosé\r\nA2;Señor jalapeño;Grün\r\n",
        encoding="cp1252",
    )
    info = inspect(path)
    assert info.encoding == "cp1252" and info.delimiter == ";"
    assert info.notice is not None and "Windows-1252" in info.notice and "export.csv" in info.notice
    rows = list(iter_rows(info))
    assert rows[1] == ["A1", "Café crème", "Rosé"]


def test_windows_1252_wins_when_the_telling_letters_come_after_the_sample(
    tmp_path: Path,
) -> None:
    # With only "é" in its first 64 KB, the detector's best guess for this file is mac_latin2,
    # which reads "é" as "ť"; and the "ñ" that cp1250 would read as "ń" comes later.
    head = "".join(f"SKU{n:07d},Organic cotton tee {n} café,active\r\n" for n in range(4000))
    path = write_csv(tmp_path / "late.csv", f"SKU,Title\r\n{head}Z1,Jalapeño\r\n", "cp1252")
    info = inspect(path)
    assert info.encoding == "cp1252"
    rows = list(iter_rows(info))
    assert rows[1][1] == "Organic cotton tee 0 café" and rows[-1] == ["Z1", "Jalapeño"]
    # Cyrillic in Windows-1251 is not taken for Western text.
    russian = write_csv(
        tmp_path / "ru.csv",
        "SKU,Title\r\n" + "".join(f"R{n},Футболка хлопковая {n}\r\n" for n in range(300)),
        "cp1251",
    )
    assert list(iter_rows(inspect(russian)))[1] == ["R0", "Футболка хлопковая 0"]


def test_a_chosen_text_encoding_is_used_instead_of_the_detected_one(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "pl.csv", "SKU,Title\nP1,Łódź Żółć gęś\nP2,Kraków\n", encoding="cp1250"
    )
    chosen = inspect(path, "cp1250")
    assert chosen.encoding == "cp1250" and chosen.chosen and chosen.notice is None
    assert list(iter_rows(chosen))[1] == ["P1", "Łódź Żółć gęś"]
    for bad in ("klingon", "rot13", "hex"):  # unknown, or a codec that is not for text
        with pytest.raises(SpreadsheetError, match=f"'{bad}' is not a text encoding"):
            inspect(path, bad)
    # A byte the chosen encoding has no character for names the line and what to do.
    broken = write_csv(tmp_path / "mixed.csv", "SKU\nA1\n", encoding="utf-8")
    broken.write_bytes(broken.read_bytes() + b"\x81\n")
    with pytest.raises(SpreadsheetError, match="line 3 cannot be read as Windows-1252"):
        list(iter_rows(inspect(broken, "cp1252")))
    assert encoding_name("utf-8-sig") == "UTF-8 with a byte order mark"


def test_utf8_tsv_is_tab_separated_and_keeps_zeros(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "items.tsv", "sku\tupc\n00123\t012345678905\n")
    info = inspect(path)
    assert info.notice is None
    assert list(iter_rows(info))[1] == ["00123", "012345678905"]


def test_damaged_workbook_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(SpreadsheetError) as caught:
        inspect(path)
    assert "broken.xlsx is damaged" in caught.value.message
    assert "save it again" in (caught.value.detail or "")


def test_password_protected_workbook_says_so(tmp_path: Path) -> None:
    path = write_encrypted_xlsx(tmp_path / "locked.xlsx")
    with pytest.raises(SpreadsheetError) as caught:
        inspect(path)
    assert "locked.xlsx is protected with a password" in caught.value.message


def test_empty_sheet_and_empty_csv_are_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", [["SKU"], ["A"]], extra_sheets=["Blank"])
    with pytest.raises(SpreadsheetError, match=r"Sheet 'Blank' in book\.xlsx is empty"):
        list(iter_rows(inspect(path), "Blank"))
    with pytest.raises(SpreadsheetError, match=r"empty\.csv is empty"):
        inspect(write_csv(tmp_path / "empty.csv", "\n\n"))


def test_unsupported_file_type_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "catalog.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(SpreadsheetError, match=r"catalog\.pdf is not a spreadsheet"):
        inspect(path)


def test_common_header_names_map_to_dsco_fields() -> None:
    headers = [
        "Item SKU",
        "Product Name",
        "MSRP",
        "Colour",
        "Image 1",
        "Image 2",
        "Status",
        "Wholesale Price",
        "Notes for buyer",
    ]
    mapping = auto_map(headers, CATALOG_FIELDS)
    assert mapping.targets == (
        "sku",
        "title",
        "msrp",
        "colorPrimaryDescription",
        "images",
        "images",
        "productStatus",
        "cost",
        "",
    )


def test_mapping_is_generic_and_remembered_choices_win() -> None:
    fields = (
        FieldDef("sku", "SKU", synonyms=("Item",)),
        FieldDef("warehouse", "Warehouse", synonyms=("Location",)),
        FieldDef("quantity", "Quantity", "integer", synonyms=("Qty", "On Hand")),
    )
    mapping = auto_map(["Item", "Location", "Qty", "Bin"], fields)
    assert mapping.targets == ("sku", "warehouse", "quantity", "")
    remembered = auto_map(
        ["Item", "Location", "Qty", "Bin"], fields, {"bin": "warehouse", "location": ""}
    )
    assert remembered.targets == ("sku", "", "quantity", "warehouse")


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701)] == ["A", "Z", "AA", "AB", "ZZ"]


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from dsco_desktop.spreadsheets import reader

    parsed: list[str] = []
    real = reader._parse_sheet

    def counting(info: reader.WorkbookInfo, name: str) -> object:
        parsed.append(name)
        return real(info, name)

    monkeypatch.setattr(reader, "_parse_sheet", counting)
    monkeypatch.setattr(reader, "_sheet_cache", None)
    return parsed


def test_the_preview_parse_is_reused_by_the_full_read_then_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsco_desktop.spreadsheets import reader

    parsed = _count_parses(monkeypatch)
    rows = [["Item SKU", "UPC"], *([f"SKU{n}", f"{n:012d}"] for n in range(60))]
    info = inspect(write_xlsx(tmp_path / "catalog.xlsx", rows))
    assert read_head(info, "Items", 5) == rows[:5]
    assert list(iter_rows(info, "Items")) == rows
    assert parsed == ["Items"]
    # Read to the end: the sheet is not kept, the next reading parses again.
    assert reader._sheet_cache is None
    assert list(iter_rows(info, "Items")) == rows
    assert parsed == ["Items", "Items"]


def test_a_changed_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    parsed = _count_parses(monkeypatch)
    path = write_xlsx(tmp_path / "catalog.xlsx", [["Item SKU"], ["A1"]])
    info = inspect(path)
    assert read_head(info, "Items") == [["Item SKU"], ["A1"]]
    write_xlsx(path, [["Item SKU"], ["B2"], ["C3"]])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert list(iter_rows(info, "Items")) == [["Item SKU"], ["B2"], ["C3"]]
    assert len(parsed) == 2
