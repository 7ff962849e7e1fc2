"""Reading spreadsheets: xlsx/xlsm (and xls/ods) with python-calamine, csv/tsv with the stdlib.

Rows come out one at a time as lists of raw cell values: str, float/int, bool, date/datetime
(cached values of formulas, as the file stored them). Text cells stay text, so "00123" keeps its
zeros; cells Excel stored as numbers arrive as floats and the field rules decide what to do.
CSV files have their encoding detected (UTF-8 first, then charset-normalizer, preferring
Windows-1252 among the look-alike single-byte encodings since that is what Excel writes on
Western Windows) and their delimiter sniffed.

Every failure a user can cause (a damaged file, a password, an empty sheet, an unreadable
encoding) raises `SpreadsheetError` naming the file, and the line when there is one.
The reader is generic: it knows nothing about catalogs; `find_header_row` takes the fields.
"""

from __future__ import annotations

import codecs
import csv
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine

from dsco_desktop.domain.fields import FieldDef, header_key, numbered_key
from dsco_desktop.errors import UserFacingError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SUPPORTED_SUFFIXES = WORKBOOK_SUFFIXES + TEXT_SUFFIXES
CSV_SHEET = "CSV"
SNIFF_BYTES = 64 * 1024
HEADER_SEARCH_ROWS = 30

# charset-normalizer cannot tell these apart on short Western text; Excel writes cp1252.
_WESTERN_SINGLE_BYTE = {
    "cp1252",
    "cp1250",
    "cp1257",
    "latin_1",
    "iso8859_1",
    "iso8859_2",
    "iso8859_10",
    "iso8859_15",
    "mac_roman",
    "mac_latin2",
}


class SpreadsheetError(UserFacingError):
    """A spreadsheet cannot be read; the message names the file (and line or sheet)."""


@dataclass(frozen=True)
class WorkbookInfo:
    """What a file holds: its sheets (one, "CSV", for text files) and how it was decoded."""

    path: Path
    sheets: tuple[str, ...]
    is_text: bool
    encoding: str | None = None
    delimiter: str | None = None
    chosen: bool = False  # the encoding was the user's choice, not detected

    @property
    def notice(self) -> str | None:
        """A line worth telling the user about how the file was read, if any."""
        if self.chosen or not self.encoding:
            return None
        if self.encoding not in ("utf_8", "utf_8_sig", "ascii"):
            return (
                f"{self.path.name} is not UTF-8; it was read as {encoding_name(self.encoding)}. "
                "Check accented letters in the preview, and choose another text encoding if "
                "they look wrong."
            )
        return None


# Text encodings a user can choose for a CSV file (codec, name shown).
TEXT_ENCODINGS: tuple[tuple[str, str], ...] = (
    ("utf_8", "UTF-8"),
    ("cp1252", "Windows-1252 (Western European)"),
    ("cp1250", "Windows-1250 (Central European)"),
    ("latin_1", "ISO-8859-1 (Latin-1)"),
    ("iso8859_15", "ISO-8859-15 (Latin-9)"),
    ("mac_roman", "Mac Roman"),
    ("utf_16", "UTF-16"),
)


# By Python's own codec name, so that aliases ("utf-8", "latin1", "windows-1252") match.
_ENCODING_NAMES = {
    codecs.lookup(codec).name: name
    for codec, name in (*TEXT_ENCODINGS, ("utf_8_sig", "UTF-8 with a byte order mark"))
}


def encoding_name(codec: str) -> str:
    """A codec as people know it ("cp1252" -> "Windows-1252 (Western European)")."""
    try:
        return _ENCODING_NAMES.get(codecs.lookup(codec).name, codec)
    except LookupError:
        return codec


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SpreadsheetError(
            f"{path.name} is not a spreadsheet DSCO Desktop can read.",
            detail="Use an Excel workbook (.xlsx, .xlsm) or a CSV/TSV text file.",
        )
    if not path.exists():
        raise SpreadsheetError(f"{path} does not exist (was it moved or renamed?).")
    return suffix


def _calamine_error(path: Path, exc: Exception) -> SpreadsheetError:
    if isinstance(exc, python_calamine.PasswordError):
        return SpreadsheetError(
            f"{path.name} is protected with a password, so it cannot be read.",
            detail="Open it in Excel, remove the password (File > Info > Protect Workbook > "
            "Encrypt with Password, clear it), save, and import it again.",
        )
    if isinstance(exc, OSError):
        return SpreadsheetError(f"{path.name} cannot be opened: {exc.strerror or exc}.")
    return SpreadsheetError(
        f"{path.name} is damaged or is not really an Excel workbook, so it cannot be read.",
        detail=f"Open it in Excel and save it again as .xlsx, or save it as CSV. ({exc})",
    )


def _open_workbook(path: Path) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own classes plus ValueError/OSError
        raise _calamine_error(path, exc) from exc


def detect_encoding(sample: bytes) -> str:
    """The text encoding of a CSV sample (a codec name Python knows)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf_8_sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf_16"
    try:
        # A sample may end in the middle of a multi-byte character.
        sample.decode("utf-8") if len(sample) < SNIFF_BYTES else sample[:-4].decode("utf-8")
        return "utf_8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return "cp1252"
    # A few accented letters leave the detector guessing among Western single-byte encodings
    # (cp1250, mac_latin2, ...) that read them differently. Windows-1252 is what Excel writes
    # in the West: it wins whenever it reads the sample as letters and common marks, or is a
    # candidate anyway. Cyrillic, Greek or Hebrew text keeps the detector's answer.
    names = {m.encoding for m in matches} | set(best.could_be_from_charset)
    if best.encoding in _WESTERN_SINGLE_BYTE and (
        "cp1252" in names or _reads_as_western_text(sample)
    ):
        return "cp1252"
    return str(best.encoding)


# Besides accented letters, what Western product text holds beyond ASCII.
_WESTERN_MARKS = frozenset("\u00a0’‘“”„–—…•·€£¥¢™®©°×½¼¾µ¡")


def _reads_as_western_text(sample: bytes) -> bool:
    """Whether Windows-1252 reads the sample as letters and common marks only (text in other
    single-byte encodings, read as 1252, shows symbols such as ¯ ³ ¹ ¿)."""
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(c.isalpha() or c in _WESTERN_MARKS for c in text if c > "\x7f")


def _sniff_delimiter(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    lines = text.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if lines and "\t" in lines[0] and "," not in lines[0] else ","


def inspect(path: str | Path, encoding: str | None = None) -> WorkbookInfo:
    """Open a file far enough to list its sheets (or sniff its encoding and delimiter).

    `encoding` reads a text file with the codec the user chose instead of a detected one."""
    path = Path(path)
    suffix = _check_suffix(path)
    if suffix in TEXT_SUFFIXES:
        try:
            with path.open("rb") as handle:
                sample = handle.read(SNIFF_BYTES)
        except OSError as exc:
            raise SpreadsheetError(f"{path.name} cannot be opened: {exc.strerror}.") from exc
        if not sample.strip():
            raise SpreadsheetError(f"{path.name} is empty: there are no rows to import.")
        chosen = encoding is not None
        if encoding is None:
            encoding = detect_encoding(sample)
        try:
            text = sample.decode(encoding, errors="replace")
        except LookupError as exc:  # no such codec, or one that is not for text (rot13, hex)
            raise SpreadsheetError(f"'{encoding}' is not a text encoding.") from exc
        return WorkbookInfo(
            path, (CSV_SHEET,), True, encoding, _sniff_delimiter(text, suffix), chosen
        )
    workbook = _open_workbook(path)
    try:
        sheets = tuple(
            m.name
            for m in workbook.sheets_metadata
            if str(m.typ).endswith("WorkSheet") and str(m.visible).endswith("Visible")
        ) or tuple(workbook.sheet_names)
    finally:
        workbook.close()
    if not sheets:
        raise SpreadsheetError(f"{path.name} has no worksheets.")
    return WorkbookInfo(path, sheets, False)


def iter_rows(info: WorkbookInfo, sheet: str | None = None) -> Iterator[list[Any]]:
    """Every row of a sheet, top to bottom (1st yielded = row 1), as raw cell values.

    Raises `SpreadsheetError` when the sheet is missing or empty, or when a CSV line cannot
    be decoded (naming the line).
    """
    if info.is_text:
        yield from _iter_csv(info)
        return
    key, data = _sheet(info, sheet)
    start_row = data.start[0] if data.start else 0
    # calamine starts at the first used row; blank rows above it still count for numbering.
    for _ in range(start_row):
        yield []
    yield from data.iter_rows()
    # Read to the end (a validation, not a preview): the next reader starts afresh.
    _forget_sheet(key)


def _sheet(
    info: WorkbookInfo, sheet: str | None
) -> tuple[_SheetKey | None, python_calamine.CalamineSheet]:
    """A workbook sheet's cells: the one kept from the last reading, or parsed (and kept)."""
    name = sheet or info.sheets[0]
    key = _sheet_key(info.path, name)
    data = _cached_sheet(key)
    if data is None:
        data = _parse_sheet(info, name)
        if key is not None:
            _remember_sheet(key, data)
    return key, data


def row_count(info: WorkbookInfo, sheet: str | None = None) -> int | None:
    """How many rows a sheet has (blank ones included), for a progress bar; None if unknown.

    A workbook's sheet is parsed (and kept for the `iter_rows` that follows); a text file's
    lines are counted, which a quoted cell spanning lines makes a little too many."""
    if info.is_text:
        if codecs.lookup(info.encoding or "utf_8").name.startswith("utf-16"):
            return None  # a newline is two bytes there
        lines, last = 0, b"\n"
        try:
            with info.path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    lines += block.count(b"\n")
                    last = block[-1:]
        except OSError:
            return None
        return lines + (last != b"\n")
    _key, data = _sheet(info, sheet)
    start_row = data.start[0] if data.start else 0
    return int(start_row + data.height)


# The preview reads the head of a sheet and the validation then reads all of it: calamine parses
# the whole sheet either way, so the last parsed sheet is kept for the next `iter_rows` of the
# same unchanged file, and dropped once a reading has gone to the end.
_SheetKey = tuple[str, int, int, str]
_sheet_cache_lock = threading.Lock()
_sheet_cache: tuple[_SheetKey, python_calamine.CalamineSheet] | None = None


def _sheet_key(path: Path, name: str) -> _SheetKey | None:
    try:
        stat = path.stat()
        return (str(path.resolve()), stat.st_mtime_ns, stat.st_size, name)
    except OSError:
        return None


def _cached_sheet(key: _SheetKey | None) -> python_calamine.CalamineSheet | None:
    if key is None:
        return None
    with _sheet_cache_lock:
        if _sheet_cache is not None and _sheet_cache[0] == key:
            return _sheet_cache[1]
    return None


def _remember_sheet(key: _SheetKey, data: python_calamine.CalamineSheet) -> None:
    global _sheet_cache  # noqa: PLW0603 - the one-entry cache
    with _sheet_cache_lock:
        _sheet_cache = (key, data)


def _forget_sheet(key: _SheetKey | None) -> None:
    global _sheet_cache  # noqa: PLW0603 - the one-entry cache
    with _sheet_cache_lock:
        if _sheet_cache is not None and _sheet_cache[0] == key:
            _sheet_cache = None


def _parse_sheet(info: WorkbookInfo, name: str) -> python_calamine.CalamineSheet:
    """The sheet's cells, parsed; they stay readable after the workbook is closed."""
    workbook = _open_workbook(info.path)
    try:
        try:
            data = workbook.get_sheet_by_name(name)
        except Exception as exc:
            raise SpreadsheetError(f"{info.path.name} has no sheet named '{name}'.") from exc
    finally:
        workbook.close()
    if data.height == 0:
        raise SpreadsheetError(
            f"Sheet '{name}' in {info.path.name} is empty: there are no rows to import."
        )
    return data


def _iter_csv(info: WorkbookInfo) -> Iterator[list[Any]]:
    encoding = info.encoding or "utf_8"
    line = 0
    try:
        with info.path.open("r", encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=info.delimiter or ",")
            seen_any = False
            for row in reader:
                line = reader.line_num
                seen_any = seen_any or any(cell.strip() for cell in row)
                yield row
            if not seen_any:
                raise SpreadsheetError(f"{info.path.name} is empty: there are no rows to import.")
    except UnicodeDecodeError as exc:
        # Text is decoded a block at a time, ahead of the CSV reader: find the line itself.
        bad = _first_undecodable_line(info.path, encoding) or line + 1
        raise SpreadsheetError(
            f"{info.path.name} line {bad} cannot be read as {encoding_name(encoding)}: "
            "choose another text encoding, or the file mixes encodings.",
            detail="Open it in Excel or a text editor and save it as 'CSV UTF-8'.",
        ) from exc
    except csv.Error as exc:
        raise SpreadsheetError(
            f"{info.path.name} line {line + 1} is not valid CSV: {exc}."
        ) from exc
    except OSError as exc:
        raise SpreadsheetError(f"{info.path.name} cannot be read: {exc.strerror}.") from exc


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The number of the first line of a file that `encoding` cannot decode, if any."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None


def read_head(info: WorkbookInfo, sheet: str | None = None, limit: int = 50) -> list[list[Any]]:
    """The first `limit` rows of a sheet (for choosing the header row and the preview)."""
    rows: list[list[Any]] = []
    for row in iter_rows(info, sheet):
        rows.append(list(row))
        if len(rows) >= limit:
            break
    return rows


def find_header_row(rows: Sequence[Sequence[Any]], fields: Sequence[FieldDef]) -> int:
    """The index of the row that looks most like the header for these fields.

    Each row of the first `HEADER_SEARCH_ROWS` scores one point per cell naming a field (by
    name, label or synonym); the best wins, the earliest on a tie. Without any match, the
    first non-empty row is the header.
    """
    keys: set[str] = set()
    numbered: set[str] = set()
    for fd in fields:
        keys |= fd.header_keys()
        if fd.multiple:
            numbered |= fd.header_keys()
    best, best_score = -1, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = 0
        for cell in row:
            if not isinstance(cell, str):
                continue
            key = header_key(cell)
            if key in keys or (numbered and numbered_key(cell) in numbered):
                score += 1
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    for index, row in enumerate(rows):
        if any(str(c).strip() for c in row if c is not None):
            return index
    return 0


def column_letter(index: int) -> str:
    """Excel's name for a 0-based column index: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
