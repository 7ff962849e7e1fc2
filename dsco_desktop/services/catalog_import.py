"""Catalog import: spreadsheet -> mapping -> every problem -> diff -> confirmed push -> verdicts.

`preview` opens a file, finds the header row and guesses the column mapping (a saved profile for
the same layout first). `validate` reads every row (streamed), validates it with the catalog
rules, compares it with the stored catalog and stores the import, a row at a time in chunks, so
the preview grid can page through it and the import survives a restart. `fix_cell` changes one
cell and re-validates that row (and the rows it was a duplicate of) at once.

Nothing is sent before `push`, which the user starts by confirming. Each batch (under DSCO's 5 MB
small-batch limit, or one large batch for very big files) is committed locally first (items
upserted, rows marked queued, an outbox row "catalog.batch" / "catalog.large_batch" enqueued)
in one transaction, then handed to the outbox sender through `deliver`. Once DSCO answered with
a requestId, `follow` reads the change log and stores each SKU's outcome: accepted, rejected
with DSCO's message, or still pending. Cancelling stops between batches; rows not yet queued
are marked cancelled, and what was sent is still followed later.

No Qt here: progress goes through a callback, cancellation through `should_stop`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsco_desktop.domain.catalog import (
    CATALOG_FIELDS,
    CellMemo,
    DiffState,
    DuplicateTracker,
    Issue,
    RowResult,
    Severity,
    cell_text,
    diff_item,
    diff_state,
    merged,
    validate_row,
)
from dsco_desktop.domain.fields import FieldDef
from dsco_desktop.dsco.limits import SMALL_BATCH_MAX_BYTES
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.batch_push import (
    Progress,
    ShouldStop,
    await_outbox,
    batch_outcome,
    direct_delivery,  # noqa: F401  (the wizard, CLI and tests take it from here)
    json_batches,
    never,
    no_progress,
    read_change_logs,
)
from dsco_desktop.spreadsheets import export
from dsco_desktop.spreadsheets.mapping import (
    EXTENDED_PREFIX,
    ColumnMapping,
    RowSplitter,
    auto_map,
    header_text,
    is_blank_row,
    layout_key,
    mapping_problems,
)
from dsco_desktop.spreadsheets.reader import (
    WorkbookInfo,
    column_letter,
    find_header_row,
    inspect,
    iter_rows,
    read_head,
    row_count,
)
from dsco_desktop.store._util import dumps, now_iso
from dsco_desktop.store.catalog_imports import (
    CatalogImportRepository,
    ImportCounts,
    ImportRecord,
    ImportRowRecord,
    row_values,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.items import ItemRepository
from dsco_desktop.store.mapping_profiles import MappingProfileRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxRow

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient

log = logging.getLogger(__name__)

PROFILE_KIND = "catalog"
PREVIEW_ROWS = 50
CHUNK_ROWS = 2000
# Above this many small batches, one large batch (JSON Lines upload) is used instead.
LARGE_BATCH_MIN_BATCHES = 10
OUTBOX_KIND = "catalog.batch"
OUTBOX_LARGE_KIND = "catalog.large_batch"


class ImportMode(StrEnum):
    """Which rows a push sends."""

    ADD_NEW = "add_new"
    UPDATE_EXISTING = "update_existing"
    BOTH = "both"

    @property
    def diffs(self) -> tuple[str, ...]:
        if self is ImportMode.ADD_NEW:
            return (DiffState.NEW.value,)
        if self is ImportMode.UPDATE_EXISTING:
            return (DiffState.CHANGED.value,)
        return (DiffState.NEW.value, DiffState.CHANGED.value)


@dataclass(frozen=True)
class SheetPreview:
    """What the wizard shows before validating: sheets, first rows, header row, mapping."""

    info: WorkbookInfo
    sheet: str
    rows: list[list[Any]]
    header_row: int
    headers: tuple[str, ...]
    mapping: ColumnMapping
    profile_name: str | None = None

    @property
    def notice(self) -> str | None:
        return self.info.notice

    def column_title(self, column: int) -> str:
        header = self.headers[column] if column < len(self.headers) else ""
        return header or f"Column {column_letter(column)}"


@dataclass(frozen=True)
class ImportSummary:
    """An import after validation or a push."""

    import_id: int
    file_name: str
    sheet: str | None
    state: str
    counts: ImportCounts
    message: str | None = None


@dataclass
class CheckedRow:
    """One row's problems, for `check_file`."""

    row: int
    sku: str | None
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CheckReport:
    """The per-row report of `check_file`."""

    file: str
    sheet: str
    header_row: int
    mapping: dict[str, str]
    rows: int = 0
    rows_with_errors: int = 0
    rows_with_warnings: int = 0
    problems: list[CheckedRow] = field(default_factory=list)
    notice: str | None = None
    catalog: str | None = None  # the stored catalog the rows were compared with

    def add(self, result: RowResult, mapping: ColumnMapping, title: Callable[[int], str]) -> None:
        """Count one checked row and list its problems by sheet column."""
        self.rows += 1
        if not result.issues:
            return
        if result.errors:
            self.rows_with_errors += 1
        else:
            self.rows_with_warnings += 1
        checked = CheckedRow(result.number, result.sku)
        for issue in result.issues:
            info = _issue_dict(issue, mapping)
            column = info["column"]
            checked.problems.append(
                {
                    "column": column_letter(column) if column is not None else None,
                    "header": title(column) if column is not None else None,
                    "field": issue.field,
                    "severity": info["severity"],
                    "message": issue.message,
                }
            )
        self.problems.append(checked)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "catalog": self.catalog,
            "mapping": self.mapping,
            "rows": self.rows,
            "rows_with_errors": self.rows_with_errors,
            "rows_with_warnings": self.rows_with_warnings,
            "notice": self.notice,
            "problems": [
                {"row": r.row, "sku": r.sku, "problems": r.problems} for r in self.problems
            ],
        }

    def as_text(self) -> str:
        lines = [
            f"{self.file}, sheet {self.sheet} (header on row {self.header_row}): "
            f"{self.rows} rows, {self.rows_with_errors} with errors, "
            f"{self.rows_with_warnings} with warnings only."
        ]
        if self.notice:
            lines.append(self.notice)
        lines.append(
            f"Compared with the catalog in {self.catalog}."
            if self.catalog
            else "Not compared with a stored catalog: every SKU is judged as a new item."
        )
        for checked in self.problems:
            for p in checked.problems:
                where = f", column {p['column']} ({p['header']})" if p["column"] else ""
                lines.append(f"Row {checked.row}{where}: {p['severity']}: {p['message']}")
        if not self.problems:
            lines.append("No problems found.")
        return "\n".join(lines)


# -- reading and mapping (no store) -------------------------------------------------------------


def preview_sheet(
    path: str | Path,
    sheet: str | None = None,
    header_row: int | None = None,
    remembered: Callable[[str], tuple[str, dict[str, str]] | None] | None = None,
    *,
    fields: Sequence[FieldDef] = CATALOG_FIELDS,
    encoding: str | None = None,
) -> SheetPreview:
    """Open a file and prepare its preview: first rows, header row, guessed mapping onto
    `fields` (the catalog's unless told; the inventory import passes its own). `encoding`:
    the text encoding the user chose for a CSV file (None: detected)."""
    info = inspect(path, encoding)
    name = sheet if sheet in info.sheets else info.sheets[0]
    rows = read_head(info, name, PREVIEW_ROWS)
    if header_row is None or not 0 <= header_row < len(rows):
        header_row = find_header_row(rows, fields)
    headers = tuple(header_text(c) for c in rows[header_row]) if rows else ()
    profile = remembered(layout_key(headers)) if remembered is not None else None
    mapping = auto_map(headers, fields, profile[1] if profile else None)
    return SheetPreview(
        info, name, rows, header_row, headers, mapping, profile[0] if profile else None
    )


def data_rows(info: WorkbookInfo, sheet: str, header_row: int) -> Iterator[tuple[int, list[Any]]]:
    """(sheet row number, cells) of every non-blank row below the header."""
    for index, row in enumerate(iter_rows(info, sheet)):
        if index <= header_row or is_blank_row(row):
            continue
        yield index + 1, row


def _issue_dict(issue: Issue, mapping: ColumnMapping) -> dict[str, Any]:
    if issue.field.startswith(EXTENDED_PREFIX):
        column = mapping.column_of(issue.field)
    else:
        column = mapping.column_of(issue.field, issue.position)
    return {
        "field": issue.field,
        "severity": issue.severity.value,
        "message": issue.message,
        "column": column,
    }


class SheetChecker:
    """The rules applied to the rows of one sheet, top to bottom: the mapping's split of a row
    into fields, the comparison with the stored catalog, the file-wide duplicate checks, and the
    memory of values already converted."""

    def __init__(
        self, mapping: ColumnMapping, catalog: Callable[[list[str]], Mapping[str, Any]] | None
    ) -> None:
        """`catalog` gives the stored items of some SKUs (None: no store to compare with)."""
        self.mapping = mapping
        self._catalog = catalog
        self._splitter = RowSplitter(mapping, CATALOG_FIELDS)
        self._duplicates = DuplicateTracker()
        self._memo = CellMemo()

    def check(
        self, chunk: Sequence[tuple[int, list[Any]]]
    ) -> list[tuple[list[Any], RowResult, dict[str, Any] | None]]:
        """(cells, result, stored item) of the next rows (sheet row number, cells)."""
        split = [(number, cells, *self._splitter.split(cells)) for number, cells in chunk]
        skus = [cell_text(values.get("sku")) for _, _, values, _ in split]
        looked_up = self._catalog is not None
        stored = self._catalog([s for s in skus if s]) if self._catalog is not None else {}
        out = []
        for (number, cells, values, extended), sku in zip(split, skus, strict=True):
            before = stored.get(sku) if sku else None
            result = validate_row(
                number,
                values,
                extended=extended,
                stored=before,
                looked_up=looked_up,
                memo=self._memo,
            )
            self._duplicates.check(result)
            out.append((cells, result, before))
        return out


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _require_usable(mapping: ColumnMapping) -> None:
    problems = mapping_problems(mapping, CATALOG_FIELDS)
    if problems:
        raise UserFacingError("The column mapping cannot be used: " + " ".join(problems))


def check_file(
    path: str | Path,
    sheet: str | None = None,
    *,
    catalog: Callable[[list[str]], Mapping[str, Any]] | None = None,
    catalog_name: str | None = None,
    encoding: str | None = None,
) -> CheckReport:
    """Validate a file with the automatic mapping: the per-row report. With `catalog` (the
    stored items of some SKUs, named `catalog_name`), rows are judged as the import would judge
    them: a partial-column sheet may update the SKUs the catalog has. `encoding`: a CSV file's
    text encoding (None: detected)."""
    preview = preview_sheet(path, sheet, encoding=encoding)
    mapping = preview.mapping
    _require_usable(mapping)
    report = CheckReport(
        file=preview.info.path.name,
        sheet=preview.sheet,
        header_row=preview.header_row + 1,
        mapping={preview.column_title(i): t for i, t in enumerate(mapping.targets) if t},
        notice=preview.notice,
        catalog=catalog_name if catalog is not None else None,
    )
    checker = SheetChecker(mapping, catalog)
    rows = data_rows(preview.info, preview.sheet, preview.header_row)
    for chunk in _batches(rows, CHUNK_ROWS):
        for _cells, result, _stored in checker.check(chunk):
            report.add(result, mapping, preview.column_title)
    return report


# -- the service --------------------------------------------------------------------------------


class CatalogImportService:
    """Catalog imports against one store; one instance per thread (it uses the thread's
    database connection through the repositories)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.imports = CatalogImportRepository(db)
        self.items = ItemRepository(db)
        self.profiles = MappingProfileRepository(db)
        self.outbox = OutboxRepository(db)
        self._created_at = now_iso()

    def discard_interrupted(self) -> int:
        """Delete imports whose validation a crash or kill cut short before this service was
        made (they are never shown, and their rows take space); returns how many."""
        count = self.imports.delete_reading(self._created_at)
        if count:
            log.info("Discarded %d catalog import(s) interrupted while being read", count)
        return count

    @property
    def db(self) -> Database:
        return self._db

    def column_titles(self, import_id: int) -> list[str]:
        """The sheet's column titles of an import (letters for untitled columns)."""
        record = self._import(import_id)
        return [h or f"Column {column_letter(i)}" for i, h in enumerate(record.headers)]

    # -- mapping ---------------------------------------------------------------------------

    def _remembered(self, key: str) -> tuple[str, dict[str, str]] | None:
        profile = self.profiles.for_layout(PROFILE_KIND, key)
        return None if profile is None else (profile.name, profile.choices)

    def preview(
        self,
        path: str | Path,
        sheet: str | None = None,
        header_row: int | None = None,
        *,
        encoding: str | None = None,
    ) -> SheetPreview:
        """`preview_sheet`, with the user's earlier choices for the same layout applied."""
        return preview_sheet(path, sheet, header_row, self._remembered, encoding=encoding)

    def save_profile(self, name: str, mapping: ColumnMapping) -> None:
        """Remember a mapping under a name (and for its layout)."""
        name = name.strip()
        if not name:
            raise UserFacingError("Give the mapping profile a name.")
        self.profiles.save(PROFILE_KIND, name, layout_key(mapping.headers), mapping.as_choices())

    def profile_names(self) -> list[str]:
        return [p.name for p in self.profiles.list(PROFILE_KIND)]

    def apply_profile(self, name: str, headers: Sequence[str]) -> ColumnMapping:
        profile = self.profiles.get(PROFILE_KIND, name)
        if profile is None:
            raise UserFacingError(f"There is no mapping profile named '{name}'.")
        return auto_map(headers, CATALOG_FIELDS, profile.choices)

    # -- validation ------------------------------------------------------------------------

    def validate(
        self,
        preview: SheetPreview,
        mapping: ColumnMapping | None = None,
        *,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
    ) -> ImportSummary:
        """Read every row, validate and compare it, and store the import; returns its counts.

        The mapping used is remembered for this layout ("Last used" profile), so the next file
        with the same columns maps itself.
        """
        mapping = mapping or preview.mapping
        _require_usable(mapping)
        info = preview.info
        import_id = self.imports.create(
            file_name=info.path.name,
            file_path=str(info.path),
            sheet=preview.sheet,
            header_row=preview.header_row,
            headers=list(mapping.headers),
            mapping=list(mapping.targets),
        )
        try:
            self._validate_rows(import_id, preview, mapping, progress, should_stop)
        except BaseException:
            self.imports.delete(import_id)
            raise
        self.imports.set_state(import_id, "validated")
        self.profiles.save(
            PROFILE_KIND,
            f"Last used: {info.path.name}",
            layout_key(mapping.headers),
            mapping.as_choices(),
        )
        return self.summary(import_id)

    def _validate_rows(
        self,
        import_id: int,
        preview: SheetPreview,
        mapping: ColumnMapping,
        progress: Progress,
        should_stop: ShouldStop,
    ) -> None:
        checker = SheetChecker(mapping, self.items.raw_many)
        done = 0
        height = row_count(preview.info, preview.sheet)
        total = max(0, height - preview.header_row - 1) if height is not None else 0
        rows = data_rows(preview.info, preview.sheet, preview.header_row)
        for chunk in _batches(rows, CHUNK_ROWS):
            self._store_chunk(import_id, chunk, checker)
            done += len(chunk)
            of = f" of {total:,}" if total >= done else ""
            progress(done, total if of else 0, f"Checked {done:,}{of} rows")
            if should_stop():
                raise UserFacingError("The import was cancelled; nothing was saved.")
        if done == 0:
            raise UserFacingError(
                f"Sheet '{preview.sheet}' of {preview.info.path.name} has a header row but no "
                "rows below it."
            )
        progress(done, done, f"Checked {done:,} rows")

    def _store_chunk(
        self, import_id: int, chunk: Sequence[tuple[int, list[Any]]], checker: SheetChecker
    ) -> None:
        """Check the next rows against the stored catalog and store them, in one transaction."""
        params = [
            self._row_params(import_id, cells, result, stored, checker.mapping)
            for cells, result, stored in checker.check(chunk)
        ]
        with self._db.transaction() as tx:
            self.imports.add_rows(params, conn=tx)

    def _row_params(
        self,
        import_id: int,
        cells: Sequence[Any],
        result: RowResult,
        stored: dict[str, Any] | None,
        mapping: ColumnMapping,
    ) -> tuple[Any, ...]:
        state, changed = diff_state(result, stored)
        issues = [_issue_dict(i, mapping) for i in result.issues] if result.issues else ()
        return row_values(
            import_id,
            result.number,
            result.sku,
            result.item.get("upc"),
            cells,
            result.item,
            issues,
            result.errors,
            result.warnings,
            state.value,
            changed,
        )

    def summary(self, import_id: int) -> ImportSummary:
        record = self._import(import_id)
        return ImportSummary(
            import_id,
            record.file_name,
            record.sheet,
            record.state,
            self.imports.counts(import_id),
            record.message,
        )

    def _import(self, import_id: int) -> ImportRecord:
        record = self.imports.get(import_id)
        if record is None:
            raise UserFacingError(f"Import {import_id} no longer exists.")
        return record

    def mapping_of(self, import_id: int) -> ColumnMapping:
        record = self._import(import_id)
        return ColumnMapping(tuple(record.headers), tuple(record.mapping))

    # -- inline fixes ----------------------------------------------------------------------

    def fix_cell(
        self, import_id: int, row_number: int, column: int, text: str
    ) -> list[ImportRowRecord]:
        """Set one cell and re-validate its row and every row it shares a SKU or UPC with.

        Returns the rows as they are now (the fixed row first). A row already sent cannot be
        edited.
        """
        mapping = self.mapping_of(import_id)
        row = self.imports.row(import_id, row_number)
        if row is None:
            raise UserFacingError(f"Row {row_number} is not part of this import.")
        if row.push_state not in ("not_sent", "cancelled"):
            raise UserFacingError(
                f"Row {row_number} was already sent to DSCO; fix it in a new import."
            )
        cells = list(row.cells)
        if column >= len(cells):
            cells.extend([None] * (column + 1 - len(cells)))
        cells[column] = text.strip() or None
        affected = {row_number}
        for key, value in (("sku", row.sku), ("upc", row.upc)):
            if value:
                affected.update(self.imports.rows_sharing(import_id, key, value))
        splitter = RowSplitter(mapping, CATALOG_FIELDS)
        # First the fixed row alone, so the duplicate checks below see its new SKU and UPC.
        first = self._revalidate(import_id, row_number, cells, splitter, mapping, duplicates=False)
        for key, value in (("sku", first.sku), ("upc", first.item.get("upc"))):
            if value:
                affected.update(self.imports.rows_sharing(import_id, key, value))
        for number in sorted(affected):
            current = self.imports.row(import_id, number)
            if current is not None:
                self._revalidate(import_id, number, current.cells, splitter, mapping)
        rows = self.imports.rows(import_id, row_numbers=sorted(affected), problems_first=False)
        rows.sort(key=lambda r: (r.row_number != row_number, r.row_number))
        return rows

    def _revalidate(
        self,
        import_id: int,
        number: int,
        cells: Sequence[Any],
        splitter: RowSplitter,
        mapping: ColumnMapping,
        *,
        duplicates: bool = True,
    ) -> RowResult:
        values, extended = splitter.split(cells)
        sku = cell_text(values.get("sku"))
        stored = self.items.raw_many([sku]).get(sku) if sku else None
        result = validate_row(number, values, extended=extended, stored=stored, looked_up=True)
        if duplicates:
            if result.sku:
                first = self.imports.rows_sharing(import_id, "sku", result.sku)
                if first and first[0] != number:
                    result.issues.append(
                        Issue("sku", Severity.ERROR, f"SKU {result.sku} is also on row {first[0]}.")
                    )
            upc = result.item.get("upc")
            if upc:
                first = self.imports.rows_sharing(import_id, "upc", upc)
                if first and first[0] != number:
                    result.issues.append(
                        Issue("upc", Severity.ERROR, f"UPC {upc} is also on row {first[0]}.")
                    )
        params = self._row_params(import_id, cells, result, stored, mapping)
        with self._db.transaction() as tx:
            self.imports.update_row(import_id, number, params, conn=tx)
        return result

    # -- pushing ---------------------------------------------------------------------------

    def push(
        self,
        import_id: int,
        mode: ImportMode,
        *,
        deliver: Callable[[], object],
        client: DscoClient | None = None,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
        max_batch_bytes: int = SMALL_BATCH_MAX_BYTES,
        large_batch_min_batches: int = LARGE_BATCH_MIN_BATCHES,
        outbox_wait_s: float = 120.0,
        follow_timeout_s: float = 300.0,
        poll_s: float = 1.0,
    ) -> ImportSummary:
        """Send the valid new/changed rows (per `mode`) in batches, then follow the results.

        `deliver` makes the outbox send what is due (the app wakes its sender thread; headless
        callers send directly). With a `client`, the change log is followed afterwards.
        """
        self._import(import_id)  # a clear message if the import was deleted meanwhile
        rows = self.imports.rows(
            import_id, diffs=mode.diffs, push_states=("not_sent",), problems_first=False
        )
        rows = [r for r in rows if r.errors == 0 and r.sku]
        if not rows and not self.imports.queued_outbox_ids(import_id):
            raise UserFacingError(
                "There is nothing to send: no valid row is new or changed for this choice."
            )
        self.imports.set_state(import_id, "pushing", mode=mode.value)
        stored = self.items.raw_many(r.sku for r in rows if r.sku)
        sendable: list[tuple[ImportRowRecord, dict[str, Any]]] = []
        unchanged: list[tuple[int, str, str | None, str | None]] = []
        for row in rows:
            before = stored.get(row.sku or "")
            result = RowResult(row.row_number, row.sku, row.item)
            state, _changed, payload = diff_item(result, before)
            if state in (DiffState.NEW, DiffState.CHANGED):
                sendable.append((row, payload))
            else:
                unchanged.append((row.row_number, "not_sent", "Already up to date.", None))
        if unchanged:
            self.imports.set_push_states(import_id, unchanged)
        batches = list(json_batches(sendable, max_batch_bytes))
        large = len(batches) >= large_batch_min_batches
        if large:
            batches = [sendable]
        total = len(sendable)
        done = 0
        stopped = False
        waiting = False
        # Batches queued by an earlier run that stopped (restart, DSCO not answering) first.
        for outbox_id in self.imports.queued_outbox_ids(import_id):
            if not self._await_outbox(import_id, outbox_id, deliver, should_stop, outbox_wait_s):
                waiting = True
                break
        for number, batch in enumerate(batches, start=1):
            if waiting:
                break
            if should_stop():
                stopped = True
                break
            outbox_id = self._queue_batch(import_id, number, batch, stored=stored, large=large)
            progress(done, total, f"Sending batch {number} of {len(batches)} to DSCO")
            if not self._await_outbox(import_id, outbox_id, deliver, should_stop, outbox_wait_s):
                waiting = True
                break
            done += len(batch)
            progress(done, total, f"Sent {done:,} of {total:,} SKUs")
        if stopped:
            cancelled = self.imports.cancel_unsent(import_id)
            self.imports.set_state(
                import_id,
                "following",
                message=f"Stopped by you: {cancelled:,} SKUs were not sent.",
            )
        elif waiting:
            self.imports.set_state(
                import_id,
                "pushing",
                message="DSCO has not taken a batch yet; the app keeps trying in the background. "
                "Check the results later.",
            )
            return self.summary(import_id)
        else:
            self.imports.set_state(import_id, "following")
        if client is not None and not stopped:
            return self.follow(
                import_id,
                client,
                progress=progress,
                should_stop=should_stop,
                timeout_s=follow_timeout_s,
                poll_s=poll_s,
            )
        return self.summary(import_id)

    def _queue_batch(
        self,
        import_id: int,
        number: int,
        batch: Sequence[tuple[ImportRowRecord, dict[str, Any]]],
        *,
        stored: dict[str, dict[str, Any]],
        large: bool,
    ) -> int:
        """Local first: the items, the rows' state and the outbox row, in one transaction."""
        payloads = [payload for _row, payload in batch]
        merged_items = [merged(stored.get(row.sku or ""), payload) for row, payload in batch]
        kind = OUTBOX_LARGE_KIND if large else OUTBOX_KIND
        # The first row number makes the key unique per batch, even across a resumed push.
        key = f"catalog-import:{import_id}:{number}:{batch[0][0].row_number}:{len(batch)}"
        with self._db.transaction() as tx:
            self.items.upsert_many(
                merged_items, local_state="modified", dsco_state="pending", conn=tx
            )
            outbox_id = self.outbox.enqueue(kind, {"items": payloads}, key, conn=tx)
            self.imports.mark_queued(
                import_id, [row.row_number for row, _ in batch], outbox_id, conn=tx
            )
        return outbox_id

    def _await_outbox(
        self,
        import_id: int,
        outbox_id: int,
        deliver: Callable[[], object],
        should_stop: ShouldStop,
        wait_s: float,
    ) -> bool:
        """Have the outbox send a row and record the answer; False if it is still waiting."""
        return await_outbox(
            self.outbox,
            outbox_id,
            deliver,
            record=lambda row: self._record_outbox(import_id, outbox_id, row),
            should_stop=should_stop,
            wait_s=wait_s,
        )

    def _record_outbox(self, import_id: int, outbox_id: int, row: OutboxRow | None) -> None:
        members = self.imports.rows_in_outbox(import_id, outbox_id)
        outcome = batch_outcome(row)
        updates: list[tuple[int, str, str | None, str | None]] = []
        verdicts: dict[str, tuple[str, str | None]] = {}
        for number, sku in members:
            message = outcome.message_for(sku)
            updates.append((number, outcome.state, message, outcome.request_id))
            if sku and outcome.refused:
                verdicts[sku] = (outcome.state, message)
        with self._db.transaction() as tx:
            self.imports.set_push_states(import_id, updates, conn=tx)
            if verdicts:
                self.items.set_dsco_state(verdicts, conn=tx)

    def follow(
        self,
        import_id: int,
        client: DscoClient,
        *,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
        timeout_s: float = 300.0,
        poll_s: float = 1.0,
        deliver: Callable[[], object] | None = None,
    ) -> ImportSummary:
        """Read DSCO's change log for every request of this import and store each SKU's fate."""
        if deliver is not None:
            for outbox_id in self.imports.queued_outbox_ids(import_id):
                self._await_outbox(import_id, outbox_id, deliver, should_stop, 5.0)
        requests = self.imports.open_requests(import_id)
        read_change_logs(
            client,
            "catalog",
            requests,
            lambda request_id, entries: self._record_log(import_id, request_id, entries),
            progress=progress,
            should_stop=should_stop,
            timeout_s=timeout_s,
            poll_s=poll_s,
        )
        counts = self.imports.counts(import_id)
        open_rows = sum(counts.pushed(s) for s in ("queued", "sent", "pending"))
        if open_rows == 0:
            record = self._import(import_id)
            message = record.message if record.message and "Stopped" in record.message else None
            self.imports.set_state(import_id, "done", message=message)
        else:
            self.imports.set_state(
                import_id,
                "following",
                message=f"{open_rows:,} SKUs are not confirmed by DSCO yet; check again later.",
            )
        progress(len(requests), len(requests), "Results read")
        return self.summary(import_id)

    def resume(
        self,
        import_id: int,
        client: DscoClient,
        *,
        deliver: Callable[[], object],
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
        timeout_s: float = 300.0,
        poll_s: float = 1.0,
    ) -> ImportSummary:
        """Carry an unfinished import on (after a restart, say): a push that was cut short
        sends the rows it had not sent yet, in the mode the user chose; then DSCO's verdicts
        are read. Nothing the user stopped is sent."""
        record = self._import(import_id)
        if record.state == "pushing":
            mode = ImportMode(record.mode)
            if self.imports.count_unsent(import_id, mode.diffs):
                return self.push(
                    import_id,
                    mode,
                    deliver=deliver,
                    client=client,
                    progress=progress,
                    should_stop=should_stop,
                    follow_timeout_s=timeout_s,
                    poll_s=poll_s,
                )
        return self.follow(
            import_id,
            client,
            progress=progress,
            should_stop=should_stop,
            timeout_s=timeout_s,
            poll_s=poll_s,
            deliver=deliver,
        )

    def _record_log(self, import_id: int, request_id: str, entries: Sequence[Any]) -> None:
        by_sku: dict[str, Any] = {}
        for entry in entries:
            key = entry.record_key
            if key:
                by_sku[str(key)] = entry
        updates: list[tuple[int, str, str | None, str | None]] = []
        verdicts: dict[str, tuple[str, str | None]] = {}
        for number, sku in self.imports.rows_of_request(import_id, request_id):
            entry = by_sku.get(sku or "")
            status = (getattr(entry, "status", None) or "").lower()
            if status == "success":
                state, message = "accepted", None
            elif status == "failure" and entry is not None:
                texts = [m.text for m in entry.results if m.text]
                state, message = "rejected", "; ".join(texts) or "DSCO rejected this item."
            else:
                state, message = "pending", "DSCO has not applied this item yet."
            updates.append((number, state, message, request_id))
            if sku:
                verdicts[sku] = (state, message)
        with self._db.transaction() as tx:
            self.imports.set_push_states(import_id, updates, conn=tx)
            self.items.set_dsco_state(verdicts, request_id=request_id, conn=tx)

    # -- exports ---------------------------------------------------------------------------

    def export_error_report(self, import_id: int, path: str | Path) -> int:
        """The rows with problems (or rejected by DSCO), bad cells marked; returns the count."""
        record = self._import(import_id)
        headers = [h or f"Column {column_letter(i)}" for i, h in enumerate(record.headers)]

        def report_rows() -> Iterator[export.ReportRow]:
            for row in self.imports.rows(import_id, problems_first=False):
                problems = [
                    export.CellProblem(i.get("column"), str(i["message"]), i["severity"] == "error")
                    for i in row.issues
                ]
                if row.push_state in ("rejected", "failed") and row.dsco_message:
                    problems.append(export.CellProblem(None, f"DSCO: {row.dsco_message}"))
                if problems:
                    yield export.ReportRow(row.row_number, row.cells, problems)

        return export.write_error_report(path, headers, report_rows())

    def export_catalog(
        self,
        path: str | Path,
        *,
        text: str | None = None,
        dsco_states: Sequence[str] | None = None,
    ) -> int:
        """The stored catalog (as filtered in the Catalog tab) to .xlsx or .csv."""
        items = self.items.search(text=text, dsco_states=dsco_states)
        headers = [
            "SKU",
            "Title",
            "Product Status",
            "UPC",
            "EAN",
            "Brand",
            "Cost",
            "MSRP",
            "MAP",
            "Category",
            "DSCO status",
            "DSCO message",
        ]
        rows: Iterable[list[Any]] = (
            [
                i.sku,
                i.title,
                i.product_status,
                i.upc,
                i.ean,
                i.brand,
                i.cost,
                i.msrp,
                i.map,
                _category_text(i.raw),
                i.dsco_state,
                i.dsco_message,
            ]
            for i in items
        )
        return export.write_table(path, headers, rows)


def _category_text(raw: dict[str, Any]) -> str | None:
    categories = raw.get("categories")
    if isinstance(categories, dict):
        for paths in categories.values():
            if isinstance(paths, list) and paths:
                return str(paths[0])
    value = raw.get("category")
    return str(value) if value else None


def write_template(path: str | Path) -> None:
    """The catalog template: DSCO's columns, a notes row, code columns formatted as text."""
    export.write_template(path, CATALOG_FIELDS, "Catalog")


def dumps_report(report: CheckReport) -> str:
    """The check report as one JSON document."""
    return dumps(report.as_json())
