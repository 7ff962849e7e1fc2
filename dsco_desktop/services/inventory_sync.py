"""The inventory editor's use cases: staged edits, review, import/export, and pushes to DSCO.

Editing (`InventoryEditor`): every edit (inline, bulk, import) is staged in the store as a
pending change and written to the SKU's history, and comes back as a `StagedChange` holding the
staged state before and after, which is all undo and redo need. Nothing goes to DSCO until a
push.

Pushing (`InventorySync`): first the order stream is pulled up to now, so allocations count
every order DSCO has taken; if that pull fails the push stops unless the user accepts the risk
(DSCO may have orders not pulled yet). Then the available quantity of every SKU to send (all
its warehouses, their sum as quantityAvailable) goes through the outbox as "inventory.batch"
rows, each batch under DSCO's 5 MB small-batch limit, committed locally first together with
the staged values becoming the committed ones. DSCO's requestId of each batch is followed in
the inventory change log, and each level records its outcome: accepted (with DSCO's quantity
and status and when), rejected with DSCO's message, or accepted but not applied yet.
Delisting (available down to 0, or discontinued) is only sent once the user confirmed it.

No Qt here: progress through a callback, cancellation through `should_stop`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsco_desktop.domain.catalog import Issue, cell_text
from dsco_desktop.domain.inventory import (
    DISCONTINUED,
    BulkOperation,
    InventoryRowResult,
    LevelValues,
    apply_bulk,
    bulk_value_problem,
    distribute_allocation,
    import_fields,
    import_mapping_problems,
    is_delisting,
    item_payload,
    validate_inventory_row,
)
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.dsco.limits import SMALL_BATCH_MAX_BYTES
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.batch_push import (
    Progress,
    ShouldStop,
    await_outbox,
    batch_outcome,
    direct_delivery,  # noqa: F401  (the inventory tab's tests and benchmarks take it from here)
    json_batches,
    never,
    no_progress,
    read_change_logs,
)
from dsco_desktop.services.catalog_import import SheetPreview, data_rows, preview_sheet
from dsco_desktop.spreadsheets import export
from dsco_desktop.spreadsheets.mapping import (
    ColumnMapping,
    RowSplitter,
    layout_key,
    mapping_problems,
)
from dsco_desktop.spreadsheets.reader import (
    column_letter,
)
from dsco_desktop.store._util import normalize_timestamp, now_iso
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import (
    HistoryEntry,
    HistoryRecord,
    InventoryEditorRepository,
    InventoryFilter,
    InventoryRepository,
    InventoryRow,
    Key,
)
from dsco_desktop.store.mapping_profiles import MappingProfileRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxRow

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient

log = logging.getLogger(__name__)

OUTBOX_KIND = "inventory.batch"
PROFILE_KIND = "inventory"
# "Small" batches: well under DSCO's 5 MB, and few enough records that one change log read
# (and one retry) stays cheap.
MAX_BATCH_ITEMS = 5000
PREVIEW_ROWS = 50


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# -- staging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagedChange:
    """One user action on the staged changes, reversible: the staged state of each level
    before and after (None = nothing staged) and the levels it created."""

    description: str
    before: Mapping[Key, LevelValues | None]
    after: Mapping[Key, LevelValues | None]
    created: tuple[Key, ...] = ()

    @property
    def size(self) -> int:
        return len(self.after)


@dataclass(frozen=True)
class ReviewLine:
    """One staged level as the review panel lists it."""

    sku: str
    warehouse_code: str
    before: LevelValues
    after: LevelValues
    available_before: int
    available_after: int
    delisting: bool


@dataclass(frozen=True)
class ReviewSummary:
    """What a push would send from the staged changes."""

    lines: tuple[ReviewLine, ...]
    quantity_changes: int
    buffer_changes: int
    discontinued: int
    reactivated: int
    delistings: int
    skus: int

    @property
    def text(self) -> str:
        if not self.lines:
            return "No staged changes."
        parts = []
        if self.quantity_changes:
            parts.append(_plural(self.quantity_changes, "quantity change"))
        if self.buffer_changes:
            parts.append(_plural(self.buffer_changes, "buffer change"))
        if self.discontinued:
            parts.append(f"{self.discontinued:,} discontinued")
        if self.reactivated:
            parts.append(f"{self.reactivated:,} back on sale")
        text = ", ".join(parts) or _plural(len(self.lines), "change")
        text += f" on {_plural(self.skus, 'SKU')}"
        if self.delistings:
            text += f"; {_plural(self.delistings, 'level')} will be delisted"
        return text + "."


def _available(values: LevelValues, allocated: int) -> int:
    from dsco_desktop.domain.inventory import available

    return available(values.quantity, allocated, values.buffer, values.status)


class InventoryEditor:
    """Staging, undo/redo, review, history, import and export; one instance per thread."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.repo = InventoryEditorRepository(db)
        self.levels = InventoryRepository(db)
        self.profiles = MappingProfileRepository(db)

    # -- staging -----------------------------------------------------------------------------

    def stage(
        self,
        values: Mapping[Key, LevelValues],
        *,
        source: str = "edit",
        description: str = "Edit",
        create: bool = False,
    ) -> StagedChange:
        """Stage new values for these levels (with `create`, missing levels are added)."""
        for key, v in values.items():
            if v.quantity < 0 or v.buffer < 0:
                raise UserFacingError(
                    f"{key[0]} in {key[1]}: quantities cannot be below 0 (got {v.quantity})."
                )
        with self._db.transaction() as tx:
            created = tuple(self.repo.ensure_levels(values, conn=tx)) if create else ()
            current = {row.key: row for row in self.repo.rows(keys=values)}
            missing = [k for k in values if k not in current]
            if missing:
                raise UserFacingError(
                    f"{missing[0][0]} has no stock record in warehouse {missing[0][1]}."
                )
            before: dict[Key, LevelValues | None] = {}
            after: dict[Key, LevelValues | None] = {}
            history: list[HistoryRecord] = []
            for key, new in values.items():
                row = current[key]
                if new == row.values:
                    continue
                before[key] = row.values if row.pending else None
                after[key] = None if new == row.base_values else new
                history.extend(_history(key, row.values, new, source))
            self.repo.set_pending(after, source=source, conn=tx)
            self.repo.add_history(history, conn=tx)
        return StagedChange(description, before, after, created)

    def stage_bulk(
        self, keys: Sequence[Key], op: BulkOperation, value: float | None = None
    ) -> StagedChange:
        """Apply one bulk operation to every selected level."""
        problem = bulk_value_problem(op, value)
        if problem:
            raise UserFacingError(problem)
        rows = self.repo.rows(keys=keys)
        new = {row.key: apply_bulk(op, value or 0.0, row.values) for row in rows}
        label = op.label + ("" if not op.needs_value else f" {value:g}")
        return self.stage(new, source="bulk", description=f"{label} on {_plural(len(rows), 'row')}")

    def undo(self, change: StagedChange) -> None:
        """Put the staged state back as it was before `change`."""
        self._restore(change.before, change.after, source="undo")
        if change.created:
            with self._db.transaction() as tx:
                self.repo.remove_unused(change.created, conn=tx)

    def redo(self, change: StagedChange) -> None:
        """Apply `change` again after an undo."""
        if change.created:
            with self._db.transaction() as tx:
                self.repo.ensure_levels(change.created, conn=tx)
        self._restore(change.after, change.before, source="redo")

    def _restore(
        self,
        target: Mapping[Key, LevelValues | None],
        other: Mapping[Key, LevelValues | None],
        *,
        source: str,
    ) -> None:
        with self._db.transaction() as tx:
            current = {row.key: row for row in self.repo.rows(keys=target)}
            history: list[HistoryRecord] = []
            for key, state in target.items():
                row = current.get(key)
                if row is None:
                    continue
                wanted = state if state is not None else row.base_values
                history.extend(_history(key, row.values, wanted, source))
            self.repo.set_pending(target, source=source, conn=tx)
            self.repo.add_history(history, conn=tx)

    def discard_all(self) -> int:
        """Drop every staged change (recorded in the history)."""
        rows = self.repo.rows(InventoryFilter(pending=True))
        with self._db.transaction() as tx:
            history = [
                h for row in rows for h in _history(row.key, row.values, row.base_values, "discard")
            ]
            self.repo.add_history(history, conn=tx)
            return self.repo.discard_all_pending(conn=tx)

    # -- review and history ------------------------------------------------------------------

    def review(self) -> ReviewSummary:
        """The staged changes as a diff against the committed values."""
        lines: list[ReviewLine] = []
        skus: set[str] = set()
        qty = buf = disc = react = delist = 0
        for row in self.repo.rows(InventoryFilter(pending=True)):
            before, after = row.base_values, row.values
            avail_before = _available(before, row.allocated)
            delisting = is_delisting(
                row.sent_available if row.sent_available is not None else avail_before,
                row.available,
                after.status,
            ) and not (before.status == DISCONTINUED and after.status == DISCONTINUED)
            lines.append(
                ReviewLine(
                    row.sku,
                    row.warehouse_code,
                    before,
                    after,
                    avail_before,
                    row.available,
                    delisting,
                )
            )
            skus.add(row.sku)
            qty += before.quantity != after.quantity
            buf += before.buffer != after.buffer
            disc += after.status == DISCONTINUED and before.status != DISCONTINUED
            react += before.status == DISCONTINUED and after.status != DISCONTINUED
            delist += delisting
        return ReviewSummary(tuple(lines), qty, buf, disc, react, delist, len(skus))

    def history(self, sku: str) -> list[HistoryEntry]:
        return self.repo.history(sku)

    # -- allocations -------------------------------------------------------------------------

    def refresh_allocations(self) -> int:
        """Recompute each level's allocation from the open orders; returns levels changed."""
        units = self.repo.open_order_units()
        levels = self.repo.levels_for_allocation()
        changes: dict[Key, int] = {}
        for sku, by_wh in levels.items():
            explicit, unassigned = units.get(sku, ({}, 0))
            shares = distribute_allocation(
                {code: (q, b) for code, (q, b, _a) in by_wh.items()}, explicit, unassigned
            )
            for code, (_q, _b, allocated) in by_wh.items():
                if shares.get(code, 0) != allocated:
                    changes[(sku, code)] = shares.get(code, 0)
        if changes:
            with self._db.transaction() as tx:
                self.repo.set_allocated(changes, conn=tx)
        return len(changes)

    # -- import ------------------------------------------------------------------------------

    def preview_import(
        self,
        path: str | Path,
        warehouses: Sequence[str],
        sheet: str | None = None,
        header_row: int | None = None,
        *,
        encoding: str | None = None,
    ) -> SheetPreview:
        """Open a sheet: its first rows, the header row and the guessed mapping (the catalog
        import's reader and mapper, with the inventory's fields)."""

        def remembered(key: str) -> tuple[str, dict[str, str]] | None:
            profile = self.profiles.for_layout(PROFILE_KIND, key)
            return None if profile is None else (profile.name, profile.choices)

        return preview_sheet(
            path,
            sheet,
            header_row,
            remembered,
            fields=import_fields(warehouses),
            encoding=encoding,
        )

    def validate_import(
        self,
        preview: SheetPreview,
        warehouses: Sequence[str],
        mapping: ColumnMapping | None = None,
        *,
        default_warehouse: str = "",
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
    ) -> InventoryImport:
        """Read and check every row; nothing is staged until `stage_import`."""
        mapping = mapping or preview.mapping
        fields = import_fields(warehouses)
        problems = mapping_problems(mapping, fields) + import_mapping_problems(
            mapping.mapped_fields
        )
        if problems:
            raise UserFacingError("The column mapping cannot be used: " + " ".join(problems))
        splitter = RowSplitter(mapping, fields)
        result = InventoryImport(preview, mapping)
        seen: dict[Key, int] = {}
        for number, cells in data_rows(preview.info, preview.sheet, preview.header_row):
            values, _extended = splitter.split(cells)
            row = validate_inventory_row(
                number, values, known_warehouses=warehouses, default_warehouse=default_warehouse
            )
            for level in list(row.levels):
                key = (level.sku, level.warehouse_code)
                if key in seen:
                    row.issues.append(
                        Issue(
                            "sku",
                            _error(),
                            f"{level.sku} in {level.warehouse_code} is also on row {seen[key]}.",
                        )
                    )
                    row.levels = []
                    break
                seen[key] = number
            result.add(row, cells)
            if result.rows % 2000 == 0:
                progress(result.rows, 0, f"Checked {result.rows:,} rows")
                if should_stop():
                    raise UserFacingError("The import was stopped; nothing was staged.")
        if result.rows == 0:
            raise UserFacingError(
                f"Sheet '{preview.sheet}' of {preview.info.path.name} has no rows below the header."
            )
        self.profiles.save(
            PROFILE_KIND,
            f"Last used: {preview.info.path.name}",
            layout_key(mapping.headers),
            mapping.as_choices(),
        )
        current = {row.key: row for row in self.repo.rows(keys=result.keys())}
        result.compare(current)
        progress(result.rows, result.rows, f"Checked {result.rows:,} rows")
        return result

    def stage_import(self, checked: InventoryImport) -> StagedChange:
        """Stage the valid rows of a checked import as one undoable change."""
        if checked.rows_with_errors and not checked.levels:
            raise UserFacingError("Every row of this sheet has an error; nothing can be staged.")
        current = {row.key: row for row in self.repo.rows(keys=checked.keys())}
        values: dict[Key, LevelValues] = {}
        for level in checked.levels:
            key = (level.sku, level.warehouse_code)
            row = current.get(key)
            base = row.values if row is not None else LevelValues(0)
            values[key] = LevelValues(
                base.quantity if level.quantity is None else level.quantity,
                base.buffer if level.buffer is None else level.buffer,
                base.status if level.status is None else level.status,
            )
        return self.stage(
            values,
            source="import",
            description=f"Import of {checked.preview.info.path.name}",
            create=True,
        )

    # -- export ------------------------------------------------------------------------------

    EXPORT_HEADERS = (
        "SKU",
        "Warehouse",
        "On hand",
        "Allocated",
        "Safety buffer",
        "Available",
        "Status",
        "DSCO status",
        "DSCO quantity",
        "Last confirmed by DSCO",
        "Staged change",
        "Last push",
    )

    def export_table(self, path: str | Path, flt: InventoryFilter | None = None) -> int:
        """The table (as filtered) to .xlsx or .csv; re-importable as it is."""
        rows: Iterable[list[Any]] = (
            [
                r.sku,
                r.warehouse_code,
                r.quantity,
                r.allocated,
                r.buffer,
                r.available,
                r.status or "active",
                r.dsco_status,
                r.dsco_quantity,
                r.last_confirmed_at,
                "yes" if r.pending else "",
                r.push_message or r.push_state,
            ]
            for r in self.repo.rows(flt or InventoryFilter())
        )
        return export.write_table(path, self.EXPORT_HEADERS, rows)


def _error() -> Any:
    from dsco_desktop.domain.catalog import Severity

    return Severity.ERROR


def _history(key: Key, before: LevelValues, after: LevelValues, source: str) -> list[HistoryRecord]:
    sku, code = key
    out: list[HistoryRecord] = []
    if before.quantity != after.quantity:
        out.append((sku, code, source, "on hand", before.quantity, after.quantity, None))
    if before.buffer != after.buffer:
        out.append((sku, code, source, "buffer", before.buffer, after.buffer, None))
    if before.status != after.status:
        out.append(
            (sku, code, source, "status", before.status or "active", after.status or "active", None)
        )
    return out


@dataclass
class ImportRowProblem:
    """A checked sheet row with problems, for the preview."""

    number: int
    sku: str | None
    cells: list[Any]
    issues: list[Issue]
    columns: dict[str, int | None]

    @property
    def has_error(self) -> bool:
        return any(i.is_error for i in self.issues)

    def text(self, mapping: ColumnMapping) -> str:
        parts = []
        for issue in self.issues:
            column = mapping.column_of(issue.field)
            where = f"column {column_letter(column)}: " if column is not None else ""
            parts.append(f"{where}{issue.message}")
        return " ".join(parts)


@dataclass
class InventoryImport:
    """A checked inventory sheet: the levels it sets and the rows with problems."""

    preview: SheetPreview
    mapping: ColumnMapping
    rows: int = 0
    rows_with_errors: int = 0
    rows_with_warnings: int = 0
    levels: list[Any] = field(default_factory=list)
    problems: list[ImportRowProblem] = field(default_factory=list)
    changes: int = 0
    new_levels: int = 0
    unchanged: int = 0

    def add(self, row: InventoryRowResult, cells: Sequence[Any]) -> None:
        self.rows += 1
        if row.errors:
            self.rows_with_errors += 1
        elif row.warnings:
            self.rows_with_warnings += 1
        self.levels.extend(row.levels)
        if row.issues:
            self.problems.append(
                ImportRowProblem(
                    row.number,
                    row.sku,
                    [cell_text(c) for c in cells],
                    list(row.issues),
                    {i.field: self.mapping.column_of(i.field) for i in row.issues},
                )
            )

    def keys(self) -> list[Key]:
        return [(lv.sku, lv.warehouse_code) for lv in self.levels]

    def compare(self, current: Mapping[Key, InventoryRow]) -> None:
        for level in self.levels:
            row = current.get((level.sku, level.warehouse_code))
            if row is None:
                self.new_levels += 1
                continue
            same = (
                (level.quantity is None or level.quantity == row.quantity)
                and (level.buffer is None or level.buffer == row.buffer)
                and (level.status is None or level.status == row.status)
            )
            if same:
                self.unchanged += 1
            else:
                self.changes += 1

    @property
    def summary(self) -> str:
        text = (
            f"{_plural(self.rows, 'row')} read: {_plural(self.changes, 'change')}, "
            f"{_plural(self.new_levels, 'new SKU/warehouse', 'new SKU/warehouses')}, "
            f"{self.unchanged:,} unchanged"
        )
        if self.rows_with_errors:
            text += f"; {_plural(self.rows_with_errors, 'row')} with errors will be skipped"
        if self.rows_with_warnings:
            text += f"; {_plural(self.rows_with_warnings, 'row')} with warnings"
        return text + "."


# -- pushing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPull:
    """How pulling the order stream before a push went."""

    new_orders: int = 0
    updated_orders: int = 0
    error: str | None = None
    complete: bool = True  # False: DSCO may hold orders this app has not pulled

    @property
    def warning(self) -> str | None:
        if self.error:
            return (
                f"The order stream could not be read ({self.error}). DSCO may have orders this "
                "app has not pulled yet; sending quantities now can oversell them."
            )
        if not self.complete:
            return (
                "Orders from before the order stream was created are not all pulled yet; "
                "sending quantities now can oversell them."
            )
        return None


PullOrders = Callable[[], OrderPull]


def stream_pull(db: Database, client: DscoClient, **options: Any) -> PullOrders:
    """A `PullOrders` reading the order stream with the order inbox's own poller (`options`
    go to `OrderStreamService`)."""
    from dsco_desktop.services.order_stream import OrderStreamService

    service = OrderStreamService(db, client, **options)

    def pull() -> OrderPull:
        try:
            report = service.poll()
        except (DscoError, UserFacingError) as exc:
            return OrderPull(error=str(exc), complete=False)
        return OrderPull(
            new_orders=len(report.inserted),
            updated_orders=len(report.updated),
            complete=service.backfilled,
        )

    return pull


class DelistingNotConfirmedError(UserFacingError):
    """The push would delist items and the user has not confirmed it."""

    def __init__(self, skus: Sequence[str]) -> None:
        shown = ", ".join(skus[:5]) + (f" and {len(skus) - 5:,} more" if len(skus) > 5 else "")
        super().__init__(
            f"This push would delist {_plural(len(skus), 'SKU')} ({shown}): confirm it first."
        )
        self.skus = tuple(skus)


class UnpulledOrdersError(UserFacingError):
    """Orders could not be pulled before a push, and the user has not accepted the risk."""


@dataclass(frozen=True)
class PushPlan:
    """What a push would send, shown for confirmation."""

    skus: int
    levels: int
    delist_skus: tuple[str, ...]
    pull: OrderPull
    allocations_changed: int

    @property
    def text(self) -> str:
        if not self.skus:
            return "Nothing to send: DSCO already has every available quantity."
        text = (
            f"Send the available quantities of {_plural(self.skus, 'SKU')} "
            f"({_plural(self.levels, 'warehouse level')}) to DSCO."
        )
        if self.pull.new_orders:
            text += (
                f" {_plural(self.pull.new_orders, 'new order')} pulled first; their units are "
                "taken off what is available."
            )
        if self.delist_skus:
            text += f" {_plural(len(self.delist_skus), 'SKU')} will be delisted."
        return text


@dataclass
class PushReport:
    """What a push did, per SKU/warehouse."""

    pull: OrderPull = field(default_factory=OrderPull)
    skus: int = 0
    batches: int = 0
    accepted: int = 0
    rejected: int = 0
    pending: int = 0
    failed: int = 0
    held_back: tuple[str, ...] = ()
    request_ids: list[str] = field(default_factory=list)
    messages: dict[Key, str] = field(default_factory=dict)
    stopped: bool = False

    @property
    def text(self) -> str:
        if not self.skus:
            text = "Nothing to send: DSCO already has every available quantity."
        else:
            parts = [f"{self.accepted:,} accepted by DSCO"]
            if self.rejected:
                parts.append(f"{self.rejected:,} rejected")
            if self.failed:
                parts.append(f"{self.failed:,} not delivered")
            if self.pending:
                parts.append(f"{self.pending:,} accepted but not applied yet")
            text = f"Sent {_plural(self.skus, 'SKU')}: " + ", ".join(parts) + " (warehouse levels)."
        if self.pull.new_orders:
            text += f" {_plural(self.pull.new_orders, 'new order')} pulled first."
        if self.held_back:
            text += (
                f" {_plural(len(self.held_back), 'delisting')} wait for your confirmation "
                "(push from the Inventory tab)."
            )
        if self.stopped:
            text += " Stopped before everything was sent."
        return text


class InventorySync:
    """Pushes available quantities to DSCO and records what DSCO made of them."""

    def __init__(
        self,
        db: Database,
        client: DscoClient,
        *,
        deliver: Callable[[], object],
        pull_orders: PullOrders | None = None,
    ) -> None:
        """`deliver` makes the outbox send what is due (the app wakes its sender thread;
        headless callers send directly); `pull_orders` defaults to the order stream."""
        self._db = db
        self._client = client
        self._deliver = deliver
        self._pull = pull_orders or stream_pull(db, client)
        self.editor = InventoryEditor(db)
        self.repo = self.editor.repo
        self.outbox = OutboxRepository(db)

    # -- planning ----------------------------------------------------------------------------

    def _payloads(self, skus: Sequence[str]) -> list[tuple[str, dict[str, Any], bool]]:
        """(sku, ItemInventory, delisting?) per SKU, from the staged values."""
        by_sku: dict[str, list[InventoryRow]] = {}
        for row in self.repo.rows(skus=skus):
            by_sku.setdefault(row.sku, []).append(row)
        out = []
        for sku in skus:
            rows = by_sku.get(sku)
            if not rows:
                continue
            status = DISCONTINUED if any(r.status == DISCONTINUED for r in rows) else ""
            payload = item_payload(sku, [(r.warehouse_code, r.available) for r in rows], status)
            before = [
                r.sent_available if r.sent_available is not None else r.dsco_quantity for r in rows
            ]
            known = [b for b in before if b is not None]
            # Only a staged change needs the user's confirmation to delist; a SKU sold out by
            # new orders must reach DSCO at once, or it oversells.
            staged = any(r.pending for r in rows)
            if status == DISCONTINUED:
                was_discontinued = any(r.dsco_status == DISCONTINUED for r in rows) or all(
                    r.base_status == DISCONTINUED and not r.pending for r in rows
                )
                delisting = staged and not was_discontinued
            else:
                previous = sum(known) if known else None
                delisting = staged and is_delisting(previous, payload["quantityAvailable"], "")
            out.append((sku, payload, delisting))
        return out

    def _pull_first(self, allow_unpulled: bool) -> tuple[OrderPull, int]:
        pull = self._pull()
        if pull.warning and not allow_unpulled:
            raise UnpulledOrdersError(pull.warning)
        return pull, self.editor.refresh_allocations()

    def plan(self, *, all_changed: bool = True) -> PushPlan:
        """Pull orders up to now, update allocations, and say what a push would send."""
        pull, changed = self._pull_first(allow_unpulled=True)
        skus = self.repo.skus_to_push(all_changed=all_changed)
        payloads = self._payloads(skus)
        return PushPlan(
            skus=len(payloads),
            levels=sum(len(p["warehouses"]) for _, p, _ in payloads),
            delist_skus=tuple(s for s, _, d in payloads if d),
            pull=pull,
            allocations_changed=changed,
        )

    # -- pushing -----------------------------------------------------------------------------

    def push(
        self,
        *,
        all_changed: bool = True,
        confirm_delisting: bool = False,
        hold_back_delistings: bool = False,
        allow_unpulled: bool = False,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
        max_batch_bytes: int = SMALL_BATCH_MAX_BYTES,
        max_batch_items: int = MAX_BATCH_ITEMS,
        outbox_wait_s: float = 120.0,
        follow_timeout_s: float = 300.0,
        poll_s: float = 0.5,
        follow: bool = True,
    ) -> PushReport:
        """Pull orders, then send every SKU to push (staged, or with `all_changed` also those
        whose available quantity DSCO does not have), then follow DSCO's change log.

        Delistings need `confirm_delisting`; with `hold_back_delistings` (scheduled sync) they
        are left staged instead of stopping the push.
        """
        progress(0, 0, "Pulling new orders from DSCO first")
        pull, _ = self._pull_first(allow_unpulled)
        report = PushReport(pull=pull)
        payloads = self._payloads(self.repo.skus_to_push(all_changed=all_changed))
        delisting = [s for s, _, d in payloads if d]
        if delisting and not confirm_delisting:
            if not hold_back_delistings:
                raise DelistingNotConfirmedError(delisting)
            held = set(delisting)
            payloads = [p for p in payloads if p[0] not in held]
            report.held_back = tuple(delisting)
        items = [(sku, payload) for sku, payload, _ in payloads]
        report.skus = len(items)
        batches = list(json_batches(items, max_batch_bytes - 1024, max_batch_items))
        push_id = uuid.uuid4().hex[:12]
        done = 0
        outbox_ids: list[int] = []
        for number, batch in enumerate(batches, start=1):
            if should_stop():
                report.stopped = True
                break
            outbox_id = self._queue(batch, f"inventory:{push_id}:{number}")
            outbox_ids.append(outbox_id)
            report.batches += 1
            progress(done, len(items), f"Sending batch {number} of {len(batches)} to DSCO")
            if not self._await_outbox(outbox_id, should_stop, outbox_wait_s):
                report.stopped = True
                break
            done += len(batch)
            progress(done, len(items), f"Sent {done:,} of {len(items):,} SKUs")
        if follow and not report.stopped:
            self.follow(
                progress=progress,
                should_stop=should_stop,
                timeout_s=follow_timeout_s,
                poll_s=poll_s,
            )
        self._tally(report, outbox_ids)
        return report

    def _queue(self, batch: Sequence[tuple[str, dict[str, Any]]], key: str) -> int:
        """Local first: staged values committed, levels marked, outbox row, one transaction."""
        skus = [sku for sku, _ in batch]
        sent = {
            (sku, wh["code"]): int(wh["quantity"]) for sku, p in batch for wh in p["warehouses"]
        }
        with self._db.transaction() as tx:
            committed = self.repo.commit_staged(skus, conn=tx)
            outbox_id = self.outbox.enqueue(
                OUTBOX_KIND, {"items": [p for _, p in batch]}, key, conn=tx
            )
            self.repo.mark_queued(sent, outbox_id, conn=tx)
            history: list[HistoryRecord] = []
            for k, before, after in committed:
                history.extend(_history(k, before, after, "push"))
            history.extend(
                (sku, code, "push", "available sent", None, qty, None)
                for (sku, code), qty in sent.items()
            )
            self.repo.add_history(history, conn=tx)
        return outbox_id

    def _await_outbox(self, outbox_id: int, should_stop: ShouldStop, wait_s: float) -> bool:
        """Have the outbox send a row and record the answer; False if it is still waiting."""
        return await_outbox(
            self.outbox,
            outbox_id,
            self._deliver,
            record=lambda row: self._record_outbox(outbox_id, row),
            should_stop=should_stop,
            wait_s=wait_s,
        )

    def _record_outbox(self, outbox_id: int, row: OutboxRow | None) -> None:
        outcome = batch_outcome(row)
        updates: list[tuple[Key, str, str | None, str | None]] = [
            (key, outcome.state, outcome.message_for(key[0]), outcome.request_id)
            for key in self.repo.keys_in_outbox(outbox_id)
        ]
        history: list[HistoryRecord] = [
            (k[0], k[1], "dsco", "push", None, state, msg)
            for k, state, msg, _ in updates
            if state in ("rejected", "failed")
        ]
        with self._db.transaction() as tx:
            self.repo.set_push_states(updates, conn=tx)
            self.repo.add_history(history, conn=tx)

    def follow(
        self,
        *,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
        timeout_s: float = 300.0,
        poll_s: float = 0.5,
    ) -> int:
        """Read DSCO's change log for every open request; returns how many were read."""
        for outbox_id in self.repo.queued_outbox_ids():
            self._await_outbox(outbox_id, should_stop, 2.0)
        requests = self.repo.open_requests()
        read_change_logs(
            self._client,
            "inventory",
            requests,
            self._record_log,
            progress=progress,
            should_stop=should_stop,
            timeout_s=timeout_s,
            poll_s=poll_s,
        )
        return len(requests)

    def _record_log(self, request_id: str, entries: Sequence[Any]) -> None:
        by_sku = {str(e.record_key): e for e in entries if e.record_key}
        updates: list[tuple[Key, str, str | None, str | None]] = []
        confirmed: list[tuple[Key, int, str, str]] = []
        history: list[HistoryRecord] = []
        for key, sent, dsco_before in self.repo.keys_of_request(request_id):
            entry = by_sku.get(key[0])
            status = (getattr(entry, "status", None) or "").lower()
            if status == "success" and entry is not None:
                record = entry.record
                at = normalize_timestamp(entry.date_processed) or now_iso()
                item_status = str(record.get("status") or "")
                quantity = next(
                    (
                        int(w.get("quantity") or 0)
                        for w in record.get("warehouses") or []
                        if isinstance(w, Mapping) and w.get("code") == key[1]
                    ),
                    int(sent or 0),
                )
                confirmed.append((key, quantity, item_status, at))
                history.append(
                    (
                        key[0],
                        key[1],
                        "dsco",
                        "DSCO quantity",
                        dsco_before,
                        quantity,
                        f"confirmed by DSCO ({item_status})",
                    )
                )
            elif status == "failure" and entry is not None:
                text = entry.message_text or "DSCO rejected this item."
                updates.append((key, "rejected", text, request_id))
                history.append((key[0], key[1], "dsco", "push", None, "rejected", text))
            else:
                updates.append(
                    (key, "pending", "Accepted by DSCO but not applied yet.", request_id)
                )
        with self._db.transaction() as tx:
            self.repo.set_push_states(updates, conn=tx)
            self.repo.confirm_levels(confirmed, conn=tx)
            self.repo.add_history(history, conn=tx)

    def _tally(self, report: PushReport, outbox_ids: Sequence[int]) -> None:
        for outbox_id in outbox_ids:
            for key, state, message, request_id in self.repo.outcomes_in_outbox(outbox_id):
                if state == "accepted":
                    report.accepted += 1
                elif state == "rejected":
                    report.rejected += 1
                    report.messages[key] = message or "Rejected by DSCO."
                elif state == "failed":
                    report.failed += 1
                    report.messages[key] = message or "Not delivered."
                else:
                    report.pending += 1
                if request_id and request_id not in report.request_ids:
                    report.request_ids.append(request_id)

    # -- reading from DSCO -------------------------------------------------------------------

    def refresh_from_dsco(
        self,
        skus: Sequence[str],
        *,
        progress: Progress = no_progress,
        should_stop: ShouldStop = never,
    ) -> int:
        """Read DSCO's inventory of these SKUs (one call each) and record what it says; a SKU
        new to the app starts with DSCO's quantities. Returns how many levels were read."""
        read = 0
        chunk: list[Any] = []
        for index, sku in enumerate(skus, start=1):
            if should_stop():
                break
            item = self._client.get_inventory(itemKey="sku", value=sku)
            if item is not None:
                chunk.append(item)
            if len(chunk) >= 200 or index == len(skus):
                read += self._record_dsco(chunk)
                chunk = []
            progress(index, len(skus), f"Read {index:,} of {len(skus):,} SKUs from DSCO")
        if chunk:
            read += self._record_dsco(chunk)
        self.editor.refresh_allocations()
        return read

    def _record_dsco(self, items: Sequence[Any]) -> int:
        with self._db.transaction() as tx:
            return self.editor.levels.confirm_from_dsco(items, conn=tx)
