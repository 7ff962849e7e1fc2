"""Writing spreadsheets with openpyxl (and csv): exports, error reports, import templates.

- `write_table`: plain rows to .xlsx or .csv (UTF-8 with a BOM, which Excel opens correctly).
- `write_error_report`: the original rows of an import, each bad cell filled red (warnings
  amber) with the message as a cell comment, plus a "Problems" column spelling them all out.
- `write_template`: a workbook with a notes row above the header row (the importer finds the
  header below it), identifier columns pre-formatted as Text so leading zeros survive typing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsco_desktop.domain.fields import FieldDef
from dsco_desktop.spreadsheets.reader import SpreadsheetError, column_letter

ERROR_COLOR = "FFC7CE"
WARNING_COLOR = "FFEB9C"
NOTE_COLOR = "666666"
EXPORT_SUFFIXES = (".xlsx", ".csv")


@dataclass(frozen=True)
class CellProblem:
    """One problem to mark in an error report: its column (None = the row as a whole)."""

    column: int | None
    message: str
    is_error: bool = True


@dataclass(frozen=True)
class ReportRow:
    """An original row of an import, with its sheet row number and its problems."""

    number: int
    cells: Sequence[Any]
    problems: Sequence[CellProblem]


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise SpreadsheetError(f"Cannot save {path.name}: choose a .xlsx or .csv file name.")
    return suffix


def _saving_failed(path: Path, exc: OSError) -> SpreadsheetError:
    return SpreadsheetError(
        f"{path.name} could not be saved: {exc.strerror or exc}.",
        detail="If the file is open in Excel, close it and try again.",
    )


def _xlsx_value(value: Any) -> Any:
    # openpyxl refuses nested values; lists and dicts are written as text.
    if isinstance(value, list | tuple | dict):
        return str(value)
    return value


def write_table(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows to .xlsx or .csv; returns the number of data rows."""
    path = Path(path)
    suffix = _suffix(path)
    count = 0
    try:
        if suffix == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(headers)
                for row in rows:
                    writer.writerow(["" if v is None else v for v in row])
                    count += 1
            return count
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Export")
        sheet.append([_header_cell(sheet, h) for h in headers])
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
            count += 1
        workbook.save(path)
    except OSError as exc:
        raise _saving_failed(path, exc) from exc
    return count


def _header_cell(sheet: Any, text: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    return cell


def write_error_report(path: str | Path, headers: Sequence[str], rows: Iterable[ReportRow]) -> int:
    """The rows with problems marked: red/amber cells with comments and a Problems column.

    Returns how many rows were written. CSV reports carry the Row and Problems columns only
    (CSV has no colours).
    """
    path = Path(path)
    suffix = _suffix(path)
    count = 0
    all_headers = ["Row", *headers, "Problems"]

    def problems_text(row: ReportRow) -> str:
        parts = []
        for p in row.problems:
            where = (
                f"{headers[p.column] or column_letter(p.column)}: "
                if p.column is not None and p.column < len(headers)
                else ""
            )
            parts.append(("" if p.is_error else "Warning: ") + where + p.message)
        return "\n".join(parts)

    try:
        if suffix == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(all_headers)
                for row in rows:
                    cells = list(row.cells) + [""] * (len(headers) - len(row.cells))
                    writer.writerow([row.number, *cells, problems_text(row)])
                    count += 1
            return count
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.styles import Alignment, PatternFill

        error_fill = PatternFill("solid", start_color=ERROR_COLOR, end_color=ERROR_COLOR)
        warning_fill = PatternFill("solid", start_color=WARNING_COLOR, end_color=WARNING_COLOR)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Problems")
        sheet.freeze_panes = "B2"
        sheet.append([_header_cell(sheet, h) for h in all_headers])
        for row in rows:
            marks: dict[int, list[CellProblem]] = {}
            for problem in row.problems:
                if problem.column is not None:
                    marks.setdefault(problem.column, []).append(problem)
            out: list[Any] = [row.number]
            width = max(len(headers), len(row.cells))
            for column in range(width):
                value = _xlsx_value(row.cells[column]) if column < len(row.cells) else None
                found = marks.get(column)
                if not found:
                    out.append(value)
                    continue
                cell = WriteOnlyCell(sheet, value=value)
                cell.fill = error_fill if any(p.is_error for p in found) else warning_fill
                cell.comment = Comment("\n".join(p.message for p in found), "DSCO Desktop")
                out.append(cell)
            note = WriteOnlyCell(sheet, value=problems_text(row))
            note.alignment = Alignment(wrap_text=True, vertical="top")
            out.append(note)
            sheet.append(out)
            count += 1
        workbook.save(path)
    except OSError as exc:
        raise _saving_failed(path, exc) from exc
    return count


def write_template(path: str | Path, fields: Sequence[FieldDef], title: str) -> None:
    """An .xlsx to fill in: a notes row, then the header row, text-formatted code columns."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SpreadsheetError(f"Cannot save {path.name}: the template is an .xlsx workbook.")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    for column, fd in enumerate(fields, start=1):
        letter = column_letter(column - 1)
        note = sheet.cell(row=1, column=column, value=fd.note or _default_note(fd))
        note.font = Font(italic=True, color=NOTE_COLOR)
        note.alignment = Alignment(wrap_text=True, vertical="top")
        header = sheet.cell(row=2, column=column, value=fd.label)
        header.font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(14, min(40, len(fd.label) + 6))
        if fd.text_from_numbers:
            # Typed codes stay text: 00123 and 012345678905 keep their zeros.
            for row in range(3, 1003):
                sheet.cell(row=row, column=column).number_format = "@"
    sheet.row_dimensions[1].height = 75
    sheet.freeze_panes = "A3"
    try:
        workbook.save(path)
    except OSError as exc:
        raise _saving_failed(path, exc) from exc


def _default_note(fd: FieldDef) -> str:
    if fd.choices:
        return "One of: " + ", ".join(fd.choices) + "."
    hints = {
        "money": "A plain number with at most 2 decimals.",
        "number": "A number.",
        "integer": "A whole number.",
        "boolean": "yes or no.",
        "url": "An https:// address.",
        "date": "A date, e.g. 2025-03-31.",
    }
    return hints.get(fd.kind, "Optional.")
