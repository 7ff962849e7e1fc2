"""Shipping use cases: the form's data, sending a shipment, confirming it, batch shipments.

A shipment goes: checked plan -> one transaction that records the shipment and queues an
"order.shipment" outbox row (the synchronous `singleShipment` call, so DSCO's validation
messages come back at once) -> the outbox sender calls DSCO -> `settle` reads the outbox row:
rejected rows carry DSCO's messages to the form, sent rows are confirmed by re-reading the
order (every tracking number present, lifecycle past "created"), and the re-read order is
stored, which moves the order's lines, its lifecycle and the inventory's allocated quantities.
DSCO saying yes while the order does not show the packages is its own state,
"accepted but not applied", re-checked later by `reconcile`.

Batch shipments come from a spreadsheet (one row per PO and line): every row is checked
against the local orders and the same rules as the form, every problem reported on its row,
and the good rows grouped per PO and tracking number into shipments.
No Qt here: the UI runs these on its job helper, the command line runs them directly.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsco_desktop.domain.fields import FieldDef
from dsco_desktop.domain.shipping import (
    LineState,
    PackagePlan,
    Preselection,
    Problem,
    check_plan,
    check_service_level,
    line_states,
    plan_payload,
    preselect,
)
from dsco_desktop.domain.tracking import check_tracking, normalize_tracking
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.services.problems import ProblemsError
from dsco_desktop.spreadsheets.mapping import RowSplitter, auto_map, header_text, is_blank_row
from dsco_desktop.spreadsheets.reader import (
    HEADER_SEARCH_ROWS,
    find_header_row,
    inspect,
    iter_rows,
    read_head,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRecord, OrderRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxState
from dsco_desktop.store.shipments import (
    NewPackage,
    PackageLine,
    ShipmentRecord,
    ShipmentRepository,
    ShipmentState,
)

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient

log = logging.getLogger(__name__)

OUTBOX_KIND = "order.shipment"

# Lifecycles an order leaves once a shipment is applied to it.
_NOT_YET_MOVED = frozenset({"received", "created"})


class PlanRejectedError(ProblemsError):
    """The plan has problems; nothing was recorded or sent."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("The shipment", problems)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ShipmentForm:
    """What the form shows for one order."""

    order: OrderRecord
    lines: tuple[LineState, ...]
    preselection: Preselection
    existing_tracking: tuple[str, ...]
    warehouses: tuple[str, ...]
    default_warehouse: str | None

    @property
    def shippable(self) -> bool:
        return any(line.remaining > 0 for line in self.lines)


@dataclass(frozen=True)
class Outcome:
    """Where a shipment stands after `settle`: its record and the sentence to show."""

    shipment: ShipmentRecord
    message: str

    @property
    def state(self) -> ShipmentState:
        return self.shipment.state


def _raw_line(line: Any) -> dict[str, Any]:
    """A stored order line as DSCO's lineItems dict (raw, with the columns as a fallback)."""
    raw = dict(line.raw or {})
    raw.setdefault("lineNumber", line.line_number)
    raw.setdefault("sku", line.sku)
    raw.setdefault("title", line.title)
    raw.setdefault("quantity", line.quantity)
    raw.setdefault("shippedQuantity", line.shipped_quantity)
    raw.setdefault("cancelledQuantity", line.cancelled_quantity)
    raw.setdefault("dscoItemId", line.dsco_item_id)
    raw.setdefault("status", line.status)
    return raw


class ShippingService:
    """Shipping on one database; the DSCO client is passed to the calls that need it."""

    def __init__(self, db: Database, *, default_warehouse: str | None = None) -> None:
        self._db = db
        self._orders = OrderRepository(db)
        self._shipments = ShipmentRepository(db)
        self._outbox = OutboxRepository(db)
        self._default_warehouse = default_warehouse or None

    @property
    def shipments(self) -> ShipmentRepository:
        return self._shipments

    # -- the form -------------------------------------------------------------------------------

    def lines_of(self, order: OrderRecord) -> list[LineState]:
        """The order's lines with what DSCO and the local, unconfirmed shipments say."""
        pending = self._shipments.pending_quantities(order.dsco_order_id)
        return line_states([_raw_line(line) for line in order.lines], pending)

    def form(self, dsco_order_id: str) -> ShipmentForm:
        """Everything the form needs for one order; UserFacingError if it is not stored."""
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(
                f"Order {dsco_order_id} is not on this computer yet; refresh the orders first."
            )
        raw = order.raw
        choice = preselect(
            carrier=order.ship_carrier,
            method=order.ship_method,
            code=order.shipping_service_level_code,
            requested_carrier=raw.get("requestedShipCarrier"),
            requested_method=raw.get("requestedShipMethod"),
            requested_code=raw.get("requestedShippingServiceLevelCode"),
        )
        existing = [p.tracking_number for p in order.packages if p.tracking_number]
        warehouses = self._warehouses(order)
        default = (
            raw.get("shipWarehouseCode")
            or raw.get("requestedWarehouseCode")
            or self._default_warehouse
            or (warehouses[0] if warehouses else None)
        )
        return ShipmentForm(
            order=order,
            lines=tuple(self.lines_of(order)),
            preselection=choice,
            existing_tracking=tuple(existing),
            warehouses=tuple(warehouses),
            default_warehouse=default,
        )

    def _warehouses(self, order: OrderRecord) -> list[str]:
        codes: list[str] = []
        raw = order.raw
        for value in (raw.get("shipWarehouseCode"), raw.get("requestedWarehouseCode")):
            if value and value not in codes:
                codes.append(str(value))
        for line in order.lines:
            code = (line.raw or {}).get("warehouseCode")
            if code and code not in codes:
                codes.append(str(code))
        for code in self._shipments.warehouse_codes():
            if code not in codes:
                codes.append(code)
        if self._default_warehouse and self._default_warehouse not in codes:
            codes.append(self._default_warehouse)
        return codes

    def find_order(self, text: str) -> str:
        """The dscoOrderId a PO number (or order id) names; UserFacingError when none or many."""
        if not text.strip():
            raise UserFacingError("Type a PO number or a DSCO order id.")
        found = self._shipments.order_ids_for(text)
        if not found:
            raise UserFacingError(
                f"No order {text.strip()} on this computer. Check the number, or wait for the "
                "order stream to bring it in."
            )
        if len(found) > 1:
            raise UserFacingError(
                f"{len(found)} orders match {text.strip()}; use the DSCO order id "
                f"({', '.join(found[:5])})."
            )
        return found[0]

    def check(
        self, order: OrderRecord, packages: Sequence[PackagePlan], *, today: date | None = None
    ) -> list[Problem]:
        """Every problem of a plan for this order (the form shows them inline)."""
        lines = self.lines_of(order)
        existing = [p.tracking_number or "" for p in order.packages]
        problems = check_plan(lines, packages, existing_tracking=existing, today=today)
        numbers = [normalize_tracking(p.tracking_number) for p in packages]
        in_use = self._shipments.tracking_in_use([n for n in numbers if n])
        for index, number in enumerate(numbers):
            if number in in_use and number not in {normalize_tracking(t) for t in existing}:
                problems.append(
                    Problem(
                        f"Tracking number {number} is already in shipment {in_use[number]}.",
                        index,
                        field="tracking",
                    )
                )
        return problems

    def submit(
        self,
        dsco_order_id: str,
        packages: Sequence[PackagePlan],
        *,
        idempotency_key: str | None = None,
        source: str = "form",
        today: date | None = None,
    ) -> ShipmentRecord:
        """Check, record and queue one shipment; raises PlanRejectedError with every problem.

        The shipment and its outbox row are written in one transaction, before any call to
        DSCO. The same idempotency key again (a double click) returns the first shipment.
        """
        key = idempotency_key or f"shipment:{uuid.uuid4()}"
        known = self._shipments.get_by_key(key)
        if known is not None:
            return known
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(f"Order {dsco_order_id} is not on this computer.")
        problems = self.check(order, packages, today=today)
        if any(p.is_error for p in problems):
            raise PlanRejectedError(problems)
        lines = self.lines_of(order)
        payload = plan_payload(order.dsco_order_id, order.po_number, lines, packages)
        by_key = {line.key: line for line in lines}
        new_packages = [
            NewPackage(
                tracking_number=shipment["trackingNumber"],
                ship_carrier=shipment.get("shipCarrier"),
                shipping_service_level_code=shipment.get("shippingServiceLevelCode"),
                ship_date=package.ship_date.isoformat() if package.ship_date else None,
                weight=package.weight,
                weight_unit=package.weight_unit if package.weight is not None else None,
                warehouse_code=package.warehouse_code,
                lines=[
                    PackageLine(k, by_key[k].line_number, by_key[k].sku, q)
                    for k, q in package.quantities.items()
                    if q > 0 and k in by_key
                ],
            )
            for package, shipment in zip(packages, payload["shipments"], strict=True)
        ]
        with self._db.transaction() as tx:
            outbox_id = self._outbox.enqueue(OUTBOX_KIND, payload, key, conn=tx)
            shipment_id = self._shipments.add(
                dsco_order_id=order.dsco_order_id,
                po_number=order.po_number,
                packages=new_packages,
                payload=payload,
                idempotency_key=key,
                outbox_id=outbox_id,
                source=source,
                conn=tx,
            )
        record = self._shipments.get(shipment_id)
        assert record is not None
        log.info(
            "shipment %s queued for order %s (%d package(s))",
            shipment_id,
            order.dsco_order_id,
            len(new_packages),
        )
        return record

    # -- after sending --------------------------------------------------------------------------

    def settle(
        self,
        client: DscoClient | None,
        shipment_id: int,
        *,
        confirm_tries: int = 3,
        confirm_wait_s: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Outcome:
        """Bring a shipment's state up to date with its outbox row, and confirm it if sent."""
        record = self._require(shipment_id)
        if record.state in (ShipmentState.CONFIRMED, ShipmentState.REJECTED):
            return Outcome(record, _describe(record))
        row = self._outbox.get(record.outbox_id) if record.outbox_id is not None else None
        if row is None:
            return Outcome(record, _describe(record))
        if row.state is OutboxState.REJECTED:
            messages = [m.description for m in row.messages if m.description] or [
                row.last_error or "DSCO refused the shipment."
            ]
            self._shipments.set_state(
                shipment_id,
                ShipmentState.REJECTED,
                message=row.last_error or messages[0],
                messages=messages,
            )
            if client is not None:
                # DSCO often refuses because the local copy is stale: fetch the truth.
                self._refresh_order(client, record)
        elif row.state is OutboxState.FAILED:
            self._shipments.set_state(
                shipment_id,
                ShipmentState.FAILED,
                message=row.last_error or "The shipment could not be sent.",
                messages=[m.description for m in row.messages if m.description],
            )
        elif row.state is OutboxState.SENT:
            if record.state is ShipmentState.PENDING:
                self._shipments.set_state(shipment_id, ShipmentState.SENT)
            if client is not None:
                self.confirm(
                    client,
                    shipment_id,
                    tries=confirm_tries,
                    wait_s=confirm_wait_s,
                    should_stop=should_stop,
                )
        record = self._require(shipment_id)
        return Outcome(record, _describe(record))

    def confirm(
        self,
        client: DscoClient,
        shipment_id: int,
        *,
        tries: int = 3,
        wait_s: float = 1.0,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ShipmentRecord:
        """Re-read the order from DSCO: confirmed when it shows every tracking number.

        DSCO is eventually consistent, so a missing package is read again `tries` times,
        `wait_s` apart, before the shipment is called "accepted but not applied".
        """
        record = self._require(shipment_id)
        wanted = {normalize_tracking(t) for t in record.tracking_numbers}
        order: Any = None
        missing: set[str] = set(wanted)
        lifecycle: str | None = None
        for attempt in range(max(1, tries)):
            if attempt:
                _pause(wait_s, should_stop)
            if should_stop():
                break
            try:
                order = self._read_order(client, record)
            except DscoError as exc:
                log.info("re-reading the order of shipment %s failed: %s", shipment_id, exc)
                order = None
                continue
            if order is None:
                continue
            present = {
                normalize_tracking(p.tracking_number) for p in order.packages if p.tracking_number
            }
            missing = wanted - present
            lifecycle = (order.dsco_lifecycle or "").lower() or None
            if not missing and lifecycle not in _NOT_YET_MOVED:
                break
        if order is not None:
            # Newest dscoLastUpdate wins, so this never overwrites a newer stream event.
            self._store_order(order)
        if order is not None and not missing and lifecycle not in _NOT_YET_MOVED:
            self._shipments.set_state(shipment_id, ShipmentState.CONFIRMED)
        else:
            if order is None:
                reason = "DSCO accepted the shipment, but the order could not be read back yet."
            elif missing:
                reason = (
                    "DSCO accepted the shipment, but the order does not show tracking "
                    f"number{'s' if len(missing) != 1 else ''} {', '.join(sorted(missing))}."
                )
            else:
                reason = (
                    "DSCO accepted the shipment, but the order is still "
                    f"'{lifecycle}' instead of acknowledged or completed."
                )
            self._shipments.set_state(
                shipment_id,
                ShipmentState.ACCEPTED_NOT_APPLIED,
                message=reason,
                count_confirm_attempt=True,
            )
        return self._require(shipment_id)

    def _refresh_order(self, client: DscoClient, record: ShipmentRecord) -> None:
        try:
            order = self._read_order(client, record)
        except DscoError as exc:
            log.info("re-reading the order of shipment %s failed: %s", record.id, exc)
            return
        if order is not None:
            self._store_order(order)

    def _store_order(self, order: Any) -> None:
        """Keep DSCO's version of the order, and the inventory's allocations in step with it."""
        result = self._orders.upsert_many([order])
        if not result.changed:
            return
        try:
            InventoryEditor(self._db).refresh_allocations()
        except UserFacingError as exc:
            # The shipment is DSCO's fact either way; allocations catch up on the next refresh.
            log.warning("allocations not refreshed after a shipment: %s", exc)

    @staticmethod
    def _read_order(client: DscoClient, record: ShipmentRecord) -> Any:
        if record.dsco_order_id:
            return client.get_order("dscoOrderId", record.dsco_order_id)
        if record.po_number:
            return client.get_order("poNumber", record.po_number)
        return None

    def wait_for_outcome(
        self,
        client: DscoClient | None,
        shipment_id: int,
        *,
        timeout_s: float = 90.0,
        poll_s: float = 0.1,
        should_stop: Callable[[], bool] = lambda: False,
        confirm_tries: int = 3,
        confirm_wait_s: float = 1.0,
    ) -> Outcome:
        """Wait (on a worker thread) until the outbox has sent or refused the shipment.

        Returns early, still pending, when `should_stop` turns true or after `timeout_s` (the
        outbox keeps trying; the Shipments tab shows the state when it changes).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            outcome = self.settle(
                client,
                shipment_id,
                confirm_tries=confirm_tries,
                confirm_wait_s=confirm_wait_s,
                should_stop=should_stop,
            )
            if outcome.state is not ShipmentState.PENDING:
                return outcome
            if should_stop() or time.monotonic() >= deadline:
                return outcome
            _pause(poll_s, should_stop)

    def reconcile(
        self,
        client: DscoClient | None,
        *,
        max_confirm_attempts: int = 20,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[ShipmentRecord]:
        """Settle every open shipment (after a restart, for batches, for late DSCO updates).

        Returns the shipments whose state changed.
        """
        changed: list[ShipmentRecord] = []
        open_ = self._shipments.list(
            states=[
                ShipmentState.PENDING,
                ShipmentState.SENT,
                ShipmentState.ACCEPTED_NOT_APPLIED,
            ]
        )
        for record in open_:
            if should_stop():
                break
            if (
                record.state is ShipmentState.ACCEPTED_NOT_APPLIED
                and record.confirm_attempts >= max_confirm_attempts
            ):
                continue
            if record.state is ShipmentState.ACCEPTED_NOT_APPLIED:
                if client is None:
                    continue
                after = self.confirm(client, record.id, tries=1, should_stop=should_stop)
            else:
                settled = self.settle(client, record.id, confirm_tries=1, should_stop=should_stop)
                after = settled.shipment
            if after.state is not record.state:
                changed.append(after)
        return changed

    # -- batch ------------------------------------------------------------------------------

    def check_batch(
        self,
        raw_rows: Sequence[tuple[int, Mapping[str, Any]]],
        *,
        file: str,
        sheet: str | None = None,
        columns: Mapping[str, str] | None = None,
        today: date | None = None,
    ) -> BatchReport:
        """Check batch rows ({field: value} by row number) against the local orders."""
        today = today or date.today()
        rows = [_parse_row(number, values, today) for number, values in raw_rows]
        orders: dict[str, OrderRecord | None] = {}
        lines: dict[str, dict[str, LineState]] = {}
        used: dict[tuple[str, str], int] = {}
        owners: dict[str, BatchRow] = {}
        for row in rows:
            if not row.po_number:
                continue
            order = self._batch_order(row, orders)
            if order is None:
                continue
            row.order_id = order.dsco_order_id
            if order.dsco_order_id not in lines:
                lines[order.dsco_order_id] = {ln.key: ln for ln in self.lines_of(order)}
            line = _match_line(row, list(lines[order.dsco_order_id].values()))
            if line is not None:
                row.line_key = line.key
                self._batch_quantity(row, line, used)
            self._batch_tracking(row, order, owners)
        shipments, held_back = _group(rows)
        return BatchReport(file, sheet, dict(columns or {}), rows, shipments, held_back)

    def check_batch_path(
        self, path: str | Path, sheet: str | None = None, *, today: date | None = None
    ) -> BatchReport:
        """Read a batch shipment file (xlsx or csv) and check every row."""
        file_path = Path(path)
        chosen, columns, raw_rows = _read_batch_rows(file_path, sheet)
        return self.check_batch(
            raw_rows, file=file_path.name, sheet=chosen, columns=columns, today=today
        )

    def _batch_order(
        self, row: BatchRow, cache: dict[str, OrderRecord | None]
    ) -> OrderRecord | None:
        if row.po_number not in cache:
            ids = self._shipments.order_ids_for(row.po_number)
            cache[row.po_number] = self._orders.get(ids[0]) if len(ids) == 1 else None
            if len(ids) > 1:
                row.errors.append(f"{len(ids)} orders have PO {row.po_number}.")
                return None
        order = cache[row.po_number]
        if order is None:
            row.errors.append(f"PO {row.po_number} is not among the orders on this computer.")
        return order

    @staticmethod
    def _batch_quantity(row: BatchRow, line: LineState, used: dict[tuple[str, str], int]) -> None:
        if row.quantity <= 0 or row.order_id is None:
            return
        name = f"SKU {line.sku}" if line.sku else f"line {line.line_number}"
        taken = used.get((row.order_id, line.key), 0)
        left = line.remaining - taken
        if line.remaining == 0:
            row.errors.append(
                f"{name} of PO {row.po_number} cannot ship: {line.not_shippable_reason()}"
            )
        elif row.quantity > left:
            earlier = f", {taken} of them in rows above" if taken else ""
            row.errors.append(
                f"Quantity {row.quantity} for {name} is more than the {left} left to ship on PO "
                f"{row.po_number} (ordered {line.ordered}, shipped {line.shipped}, cancelled "
                f"{line.cancelled}{earlier})."
            )
        elif not row.errors:
            used[(row.order_id, line.key)] = taken + row.quantity

    def _batch_tracking(
        self, row: BatchRow, order: OrderRecord, owners: dict[str, BatchRow]
    ) -> None:
        if not row.tracking:
            return
        owner = owners.get(row.tracking)
        if owner is not None and owner.po_number != row.po_number:
            row.errors.append(
                f"Tracking number {row.tracking} is also used for PO {owner.po_number} "
                f"(row {owner.row}); one package belongs to one order."
            )
            return
        if owner is not None and owner.carrier.lower() != row.carrier.lower():
            row.errors.append(
                f"Row {owner.row} ships tracking number {row.tracking} with {owner.carrier}."
            )
            return
        owners.setdefault(row.tracking, row)
        on_order = {normalize_tracking(p.tracking_number) for p in order.packages}
        if row.tracking in on_order:
            row.errors.append(f"Tracking number {row.tracking} is already on PO {row.po_number}.")
        elif row.tracking in self._shipments.tracking_in_use([row.tracking]):
            row.errors.append(f"Tracking number {row.tracking} was already used in a shipment.")

    def send_batch(self, report: BatchReport, *, key_prefix: str) -> list[ShipmentRecord]:
        """Record and queue the report's ready shipments; a PO DSCO's rules refuse is skipped.

        `key_prefix` (e.g. the file's name and size) makes sending the same file twice queue
        nothing new.
        """
        queued: list[ShipmentRecord] = []
        for shipment in report.shipments:
            numbers = "+".join(sorted(p.tracking_number for p in shipment.packages))
            key = f"batch:{key_prefix}:{shipment.po_number}:{numbers}"
            try:
                queued.append(
                    self.submit(
                        shipment.order_id,
                        shipment.packages,
                        idempotency_key=key,
                        source="batch",
                    )
                )
            except PlanRejectedError as exc:
                log.info("batch shipment for PO %s refused: %s", shipment.po_number, exc.detail)
        return queued

    def documents(self, order_ids: Sequence[str], kind: str) -> tuple[str, str]:
        """(title, HTML) of the packing slips ("slip") or the pick list ("pick") of orders."""
        orders = [o for o in (self._orders.get(i) for i in order_ids) if o is not None]
        if not orders:
            raise UserFacingError("None of these orders is on this computer.")
        lines = {o.dsco_order_id: self.lines_of(o) for o in orders}
        if kind == "pick":
            return f"Pick list ({len(orders)} orders)", pick_list_html(orders, lines)
        names = ", ".join(o.po_number or o.dsco_order_id for o in orders[:3])
        more = f" and {len(orders) - 3} more" if len(orders) > 3 else ""
        return f"Packing slips {names}{more}", packing_slip_html(orders, lines)

    def _require(self, shipment_id: int) -> ShipmentRecord:
        record = self._shipments.get(shipment_id)
        if record is None:
            raise UserFacingError(f"Shipment {shipment_id} does not exist.")
        return record

    def list(
        self, *, states: Sequence[ShipmentState] | None = None, text: str | None = None
    ) -> list[ShipmentRecord]:
        return self._shipments.list(states=states, text=text)


def _describe(record: ShipmentRecord) -> str:
    """The sentence the form and the list show for a shipment's state."""
    numbers = ", ".join(record.tracking_numbers)
    state = record.state
    if state is ShipmentState.PENDING:
        return f"Waiting to be sent to DSCO ({numbers})."
    if state is ShipmentState.SENT:
        return "DSCO accepted the shipment; checking the order."
    if state is ShipmentState.CONFIRMED:
        return f"DSCO confirmed the shipment: the order shows {numbers}."
    if state is ShipmentState.ACCEPTED_NOT_APPLIED:
        return record.dsco_message or "DSCO accepted the shipment but has not applied it."
    if state is ShipmentState.REJECTED:
        reasons = "; ".join(record.messages) or record.dsco_message or "no reason given"
        return f"DSCO rejected the shipment: {reasons}"
    return record.dsco_message or "The shipment could not be sent."


def describe(record: ShipmentRecord) -> str:
    """Public name of `_describe` for the UI and the command line."""
    return _describe(record)


def _pause(seconds: float, should_stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if should_stop():
            return
        time.sleep(min(0.05, left))


# -- batch shipments from a spreadsheet ---------------------------------------------------------

BATCH_FIELDS: tuple[FieldDef, ...] = (
    FieldDef(
        "po_number",
        "PO number",
        kind="identifier",
        required=True,
        synonyms=("po", "po #", "po no", "purchase order", "purchase order number", "ponumber"),
        text_from_numbers=True,
    ),
    FieldDef(
        "sku",
        "SKU",
        kind="identifier",
        synonyms=("item sku", "seller sku", "partner sku", "item"),
        text_from_numbers=True,
    ),
    FieldDef("line_number", "Line number", kind="integer", synonyms=("line", "line #", "line no")),
    FieldDef(
        "quantity",
        "Quantity",
        kind="integer",
        required=True,
        synonyms=("qty", "quantity shipped", "qty shipped", "ship qty", "units"),
    ),
    FieldDef("carrier", "Carrier", required=True, synonyms=("ship carrier", "shipping carrier")),
    FieldDef(
        "service_level",
        "Service level",
        required=True,
        synonyms=(
            "service level code",
            "shipping service level code",
            "service code",
            "ship method code",
            "service",
        ),
    ),
    FieldDef(
        "tracking",
        "Tracking number",
        required=True,
        synonyms=("tracking", "tracking #", "tracking no", "trackingnumber", "tracking id"),
        text_from_numbers=True,
    ),
    FieldDef("ship_date", "Ship date", kind="date", synonyms=("date shipped", "shipped on")),
    FieldDef("warehouse", "Warehouse", synonyms=("warehouse code", "ship from")),
    FieldDef("weight", "Weight", kind="number", synonyms=("ship weight", "weight lb")),
)


@dataclass
class BatchRow:
    """One spreadsheet row: what it says and everything wrong with it."""

    row: int  # the spreadsheet's row number (1-based, as Excel shows it)
    po_number: str = ""
    sku: str = ""
    line_number: int | None = None
    quantity: int = 0
    carrier: str = ""
    service_level: str = ""
    tracking: str = ""
    ship_date: date | None = None
    warehouse: str | None = None
    weight: float | None = None
    order_id: str | None = None
    line_key: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "poNumber": self.po_number,
            "sku": self.sku or None,
            "lineNumber": self.line_number,
            "quantity": self.quantity,
            "carrier": self.carrier,
            "serviceLevel": self.service_level,
            "tracking": self.tracking,
            "shipDate": self.ship_date.isoformat() if self.ship_date else None,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class BatchShipment:
    """The packages the good rows of one PO make up (one singleShipment call)."""

    order_id: str
    po_number: str
    packages: tuple[PackagePlan, ...]
    rows: tuple[int, ...]


@dataclass
class BatchReport:
    """Every row of a batch file with its problems, and the shipments the good ones make."""

    file: str
    sheet: str | None
    columns: dict[str, str]  # field name -> the sheet's header
    rows: list[BatchRow]
    shipments: list[BatchShipment]
    held_back: dict[str, list[int]]  # PO -> its rows with errors (the PO is not sent)

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    def as_text(self) -> str:
        lines = [
            f"{self.file}: {len(self.rows)} rows, {self.rows_with_errors} with errors, "
            f"{len(self.shipments)} shipment(s) ready to send."
        ]
        for row in self.rows:
            for message in row.errors:
                lines.append(f"Row {row.row}: {message}")
            for message in row.warnings:
                lines.append(f"Row {row.row} (warning): {message}")
        for po, rows in sorted(self.held_back.items()):
            where = ", ".join(str(r) for r in rows)
            lines.append(f"PO {po} is held back until row(s) {where} are fixed.")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "columns": self.columns,
            "rows": [r.as_dict() for r in self.rows],
            "rowsWithErrors": self.rows_with_errors,
            "shipmentsReady": len(self.shipments),
            "heldBack": self.held_back,
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _whole(value: Any, label: str, errors: list[str]) -> int | None:
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        errors.append(f"{label} '{text}' is not a whole number.")
        return None
    if not number.is_integer():
        errors.append(f"{label} '{text}' is not a whole number.")
        return None
    return int(number)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d.%m.%Y")


def _ship_date(value: Any, errors: list[str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        errors.append(f"Ship date '{text}' is not a date (write it as YYYY-MM-DD).")
        return None


def _read_batch_rows(
    path: Path, sheet: str | None
) -> tuple[str | None, dict[str, str], list[tuple[int, dict[str, Any]]]]:
    info = inspect(path)
    chosen = sheet or (None if info.is_text else info.sheets[0])
    head = read_head(info, chosen, limit=HEADER_SEARCH_ROWS)
    header_index = find_header_row(head, BATCH_FIELDS)
    headers = [header_text(c) for c in head[header_index]] if head else []
    mapping = auto_map(headers, BATCH_FIELDS)
    mapped = mapping.mapped_fields
    missing = [fd.label for fd in BATCH_FIELDS if fd.required and fd.name not in mapped]
    if "sku" not in mapped and "line_number" not in mapped:
        missing.append("SKU or Line number")
    if missing:
        raise UserFacingError(
            f"{path.name} has no column for {', '.join(missing)}.",
            detail="Expected columns: "
            + ", ".join(fd.label for fd in BATCH_FIELDS)
            + f". Found: {', '.join(h for h in headers if h) or 'none'}.",
        )
    columns = {
        name: mapping.headers[col]
        for name in sorted(mapped)
        if (col := mapping.column_of(name)) is not None
    }
    splitter = RowSplitter(mapping, BATCH_FIELDS)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(iter_rows(info, chosen), start=1):
        if number <= header_index + 1 or is_blank_row(raw):
            continue
        values, _extended = splitter.split(raw)
        rows.append((number, values))
    return chosen, columns, rows


def check_batch_file(
    db: Database, path: str | Path, sheet: str | None = None, *, today: date | None = None
) -> BatchReport:
    """Read a batch shipment file and check every row against the local orders."""
    return ShippingService(db).check_batch_path(path, sheet, today=today)


def _parse_row(number: int, values: Mapping[str, Any], today: date) -> BatchRow:
    row = BatchRow(row=number)
    errors = row.errors
    row.po_number = _text(values.get("po_number"))
    if not row.po_number:
        errors.append("PO number is missing.")
    row.sku = _text(values.get("sku"))
    row.line_number = _whole(values.get("line_number"), "Line number", errors)
    if not row.sku and row.line_number is None and not any("Line number" in e for e in errors):
        errors.append("Name the line: give its SKU or its line number.")
    quantity = _whole(values.get("quantity"), "Quantity", errors)
    if quantity is None:
        if not any(e.startswith("Quantity") for e in errors):
            errors.append("Quantity is missing.")
    elif quantity < 1:
        errors.append(f"Quantity must be at least 1 (it is {quantity}).")
    else:
        row.quantity = quantity
    row.carrier = _text(values.get("carrier"))
    row.service_level = _text(values.get("service_level")).upper()
    row.tracking = normalize_tracking(_text(values.get("tracking")))
    if not row.carrier:
        errors.append("Carrier is missing.")
    else:
        problem = check_service_level(row.service_level, row.carrier)
        if problem:
            errors.append(problem)
        tracking = check_tracking(row.tracking, row.carrier)
        if not tracking.ok:
            errors.append(tracking.message)
    row.ship_date = _ship_date(values.get("ship_date"), errors) or today
    if row.ship_date > today:
        row.warnings.append("The ship date is in the future.")
    row.warehouse = _text(values.get("warehouse")) or None
    weight_text = _text(values.get("weight"))
    if weight_text:
        try:
            row.weight = float(weight_text)
            if row.weight <= 0:
                errors.append("Weight must be more than 0.")
        except ValueError:
            errors.append(f"Weight '{weight_text}' is not a number.")
    return row


def _match_line(row: BatchRow, lines: Sequence[LineState]) -> LineState | None:
    if row.line_number is not None:
        line = next((ln for ln in lines if ln.line_number == row.line_number), None)
        if line is None:
            row.errors.append(f"PO {row.po_number} has no line {row.line_number}.")
        elif row.sku and line.sku and line.sku != row.sku:
            row.errors.append(
                f"Line {row.line_number} of PO {row.po_number} is SKU {line.sku}, not {row.sku}."
            )
            return None
        return line
    matches = [ln for ln in lines if ln.sku == row.sku]
    if not matches:
        row.errors.append(f"PO {row.po_number} has no line with SKU {row.sku}.")
        return None
    return next((ln for ln in matches if ln.remaining > 0), matches[0])


def _group(rows: Sequence[BatchRow]) -> tuple[list[BatchShipment], dict[str, list[int]]]:
    """Good rows per PO, then per tracking number; a PO with any bad row is held back."""
    by_po: dict[str, list[BatchRow]] = {}
    for row in rows:
        if row.po_number:
            by_po.setdefault(row.po_number, []).append(row)
    shipments: list[BatchShipment] = []
    held_back: dict[str, list[int]] = {}
    for po, po_rows in by_po.items():
        bad = [r.row for r in po_rows if r.errors]
        if bad:
            held_back[po] = bad
            continue
        packages: dict[str, list[BatchRow]] = {}
        for row in po_rows:
            packages.setdefault(row.tracking, []).append(row)
        plans = []
        for tracking, package_rows in packages.items():
            first = package_rows[0]
            quantities: dict[str, int] = {}
            for row in package_rows:
                assert row.line_key is not None
                quantities[row.line_key] = quantities.get(row.line_key, 0) + row.quantity
            plans.append(
                PackagePlan(
                    carrier=first.carrier,
                    service_level_code=first.service_level,
                    tracking_number=tracking,
                    ship_date=first.ship_date,
                    weight=first.weight,
                    warehouse_code=first.warehouse,
                    quantities=quantities,
                )
            )
        order_id = po_rows[0].order_id
        assert order_id is not None
        shipments.append(BatchShipment(order_id, po, tuple(plans), tuple(r.row for r in po_rows)))
    return shipments, held_back


# -- packing slips and pick lists (HTML; the UI prints it to PDF) ------------------------------


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _address_lines(ship_to: Mapping[str, Any]) -> list[str]:
    lines = [ship_to.get("name"), ship_to.get("company"), ship_to.get("attention")]
    street = ship_to.get("address") or [ship_to.get("address1"), ship_to.get("address2")]
    lines += list(street if isinstance(street, list) else [street])
    city = ", ".join(p for p in (ship_to.get("city"), ship_to.get("region")) if p)
    lines.append(" ".join(p for p in (city, ship_to.get("postal")) if p))
    lines.append(ship_to.get("country"))
    return [str(line) for line in lines if line]


_SLIP_STYLE = (
    "body { font-family: sans-serif; font-size: 10pt; } h1 { font-size: 16pt; } "
    "table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: 4px; } "
    "th { background: #eee; text-align: left; }"
)


def packing_slip_html(
    orders: Sequence[OrderRecord], lines_by_order: Mapping[str, Sequence[LineState]]
) -> str:
    """One packing slip per order (a page each): ship-to, PO, and the lines with quantities."""
    pages: list[str] = []
    for number, order in enumerate(orders):
        raw = order.raw
        lines = lines_by_order.get(order.dsco_order_id, ())
        rows = "".join(
            f"<tr><td>{_esc(ln.line_number)}</td><td>{_esc(ln.sku)}</td><td>{_esc(ln.title)}</td>"
            f"<td align='right'>{ln.ordered}</td><td align='right'>{ln.shipped}</td>"
            f"<td align='right'>{ln.remaining + ln.pending}</td></tr>"
            for ln in lines
        )
        address = "<br>".join(_esc(a) for a in _address_lines(order.ship_to))
        message = raw.get("packingSlipMessage") or raw.get("giftMessage")
        page_break = "" if number == len(orders) - 1 else " style='page-break-after: always'"
        pages.append(
            f"<div{page_break}><h1>Packing slip</h1>"
            f"<p><b>PO:</b> {_esc(order.po_number)} &nbsp; <b>Order:</b> "
            f"{_esc(raw.get('consumerOrderNumber') or order.dsco_order_id)} &nbsp; "
            f"<b>Retailer:</b> {_esc(order.trading_partner_name or order.channel)}</p>"
            f"<p><b>Ship to:</b><br>{address}</p>"
            "<table width='100%'><tr><th>Line</th><th>SKU</th><th>Item</th><th>Ordered</th>"
            f"<th>Shipped before</th><th>In this shipment</th></tr>{rows}</table>"
            + (f"<p><i>{_esc(message)}</i></p>" if message else "")
            + "</div>"
        )
    return f"<html><head><style>{_SLIP_STYLE}</style></head><body>{''.join(pages)}</body></html>"


def pick_list_html(
    orders: Sequence[OrderRecord], lines_by_order: Mapping[str, Sequence[LineState]]
) -> str:
    """One pick list for many orders: units to pick per SKU, then which PO takes how many."""
    per_sku: dict[str, list[tuple[str, int, str]]] = {}
    for order in orders:
        for line in lines_by_order.get(order.dsco_order_id, ()):
            units = line.remaining + line.pending
            if units > 0:
                per_sku.setdefault(line.sku or "(no SKU)", []).append(
                    (order.po_number or order.dsco_order_id, units, line.title or "")
                )
    rows = "".join(
        f"<tr><td>{_esc(sku)}</td><td>{_esc(picks[0][2])}</td>"
        f"<td align='right'><b>{sum(u for _, u, _ in picks)}</b></td>"
        f"<td>{_esc(', '.join(f'{po} x{u}' for po, u, _ in picks))}</td></tr>"
        for sku, picks in sorted(per_sku.items())
    )
    total = sum(u for picks in per_sku.values() for _, u, _ in picks)
    return (
        f"<html><head><style>{_SLIP_STYLE}</style></head><body><h1>Pick list</h1>"
        f"<p>{len(orders)} order(s), {len(per_sku)} SKU(s), {total} unit(s) to pick.</p>"
        "<table width='100%'><tr><th>SKU</th><th>Item</th><th>Units</th><th>Orders</th></tr>"
        f"{rows}</table></body></html>"
    )
