"""Bad spreadsheets never crash the catalog check: a report that names rows and columns, or a
message that names the file.

Hypothesis writes random and truncated files, CSVs in odd encodings, and xlsx workbooks with
formulas, merged cells, huge cells and cells of the wrong type, then runs them through the
same path the import wizard and `dsco-desktop catalog check` use (`check_file`: read, find
the header, map the columns, validate every row). Allowed outcomes: a `CheckReport` whose
every problem names its row (and its column when it has one), or a `UserFacingError` whose
message names the file or the column mapping. Anything else is a crash a user would see.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsco_desktop.domain.catalog import CATALOG_FIELDS
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.catalog_import import CheckReport, check_file
from dsco_desktop.spreadsheets.mapping import auto_map, mapping_problems

PROPS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
HEADERS = ["SKU", "Title", "Product Status", "UPC", "Cost", "Quantity", "Brand", "Color", "Weight"]
CELL_TEXT = st.text(max_size=30) | st.sampled_from(
    ["=1/0", "=SUM(A1:A3)", "#N/A", "#REF!", "0012345", "1e309", "-0", "NaN", "true", " "]
)
CELLS = st.one_of(
    st.none(),
    CELL_TEXT,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.just("x" * 40000),  # a huge cell, past Excel's 32,767 limit for the cell's text
)
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _outcome(path: Path) -> str:
    """Run the check; assert the outcome is one a user can act on; say which it was."""
    try:
        report = check_file(path)
    except UserFacingError as exc:
        text = str(exc)
        assert path.name in text or "column mapping" in text or "column" in text, text
        return "refused"
    assert isinstance(report, CheckReport)
    for checked in report.problems:
        assert checked.row >= 1
        for problem in checked.problems:
            assert problem["message"]
            if problem["column"] is not None:
                assert re.fullmatch(r"[A-Z]+", problem["column"]), problem
    assert report.as_text()  # the CLI prints it
    return "report"


def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sheet-props-"))


@PROPS
@given(
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"]),
    data=st.binary(max_size=3000),
)
def test_random_bytes_are_refused_with_the_file_named(suffix: str, data: bytes) -> None:
    path = _workdir() / f"upload{suffix}"
    path.write_bytes(data)
    _outcome(path)


@PROPS
@given(
    headers=st.lists(st.sampled_from(HEADERS) | st.text(max_size=12), min_size=1, max_size=8),
    rows=st.lists(st.lists(CELL_TEXT, max_size=9), max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "mac_roman"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_csv_in_any_encoding_gives_a_report_or_a_named_refusal(
    headers: list[str], rows: list[list[str]], encoding: str, delimiter: str
) -> None:
    lines = [delimiter.join(_quote(c, delimiter) for c in line) for line in [headers, *rows]]
    text = "\r\n".join(lines)
    path = _workdir() / "catalog.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _outcome(path)


@PROPS
@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=9), min_size=0, max_size=10),
    merges=st.lists(
        st.tuples(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2), st.integers(0, 2)),
        max_size=3,
    ),
    header_offset=st.integers(0, 3),
    cut=st.none() | st.floats(0.05, 0.95),
)
def test_odd_workbooks_give_a_report_or_a_named_refusal(
    rows: list[list[Any]],
    merges: list[tuple[int, int, int, int]],
    header_offset: int,
    cut: float | None,
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for _ in range(header_offset):
        sheet.append(["Supplier catalog export"])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])
    for top, left, down, right in merges:
        last_row, last_col = top + down, left + right
        if (down or right) and not any(
            r.min_row <= last_row and top <= r.max_row and r.min_col <= last_col
            and left <= r.max_col
            for r in sheet.merged_cells.ranges
        ):  # fmt: skip
            sheet.merge_cells(
                start_row=top, start_column=left, end_row=last_row, end_column=last_col
            )
    path = _workdir() / "catalog.xlsx"
    workbook.save(path)
    if cut is not None:  # a download that stopped part way
        data = path.read_bytes()
        path.write_bytes(data[: max(1, int(len(data) * cut))])
    outcome = _outcome(path)
    if cut is not None:
        assert outcome == "refused"


@PROPS
@given(st.lists(st.text(max_size=40) | st.none() | st.integers(), max_size=30))
def test_the_column_mapper_takes_any_header_row(headers: list[Any]) -> None:
    texts = [str(h) if h is not None else "" for h in headers]
    mapping = auto_map(texts, CATALOG_FIELDS)
    assert len(mapping.targets) == len(texts)
    # A target is used once at most, unless the field repeats by design (numbered fields).
    problems = mapping_problems(mapping, CATALOG_FIELDS)
    assert all(isinstance(p, str) and p for p in problems)


def _quote(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell
