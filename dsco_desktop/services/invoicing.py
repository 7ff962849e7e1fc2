"""Invoicing use cases: what is left to bill, drafts, the review, sending, and DSCO's outcome.

An invoice goes: the order's packages (what shipped) minus what earlier invoices billed ->
a draft with the order's expected cost per unit, shipping and handling, and a number from the
configured pattern -> the review (`review`: errors block, warnings ask for a look) -> one
transaction that records the invoice and queues its outbox row, before any call to DSCO ->
the outbox sender calls DSCO (`POST /invoice` for one, `POST /invoice/batch/small` for a
day's bulk) -> `settle` reads the outcome from DSCO's invoice change log (by the batch's
requestId, or by a time window around a single call) and confirms with `GET /invoice`.
DSCO cannot edit or re-use an invoice, so nothing is sent that failed the review, and a
number already stored is refused locally (the store's primary key).
No Qt here: the UI runs these on its job helper.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dsco_desktop.domain.invoicing import (
    DEFAULT_INVOICE_PATTERN,
    ZERO,
    InvoiceDraft,
    Issue,
    ShippedPackage,
    available_units,
    build_invoice,
    check_pattern,
    format_number,
    order_lines,
    review,
    shipped_packages,
    uninvoiced,
)
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.problems import ProblemsError
from dsco_desktop.store.db import Database
from dsco_desktop.store.invoices import (
    DuplicateInvoiceError,
    InvoiceRecord,
    InvoiceRepository,
    InvoiceState,
    UninvoicedOrder,
)
from dsco_desktop.store.orders import OrderRecord, OrderRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxRow, OutboxState

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient
    from dsco_desktop.dsco.models import ChangeLogEntry

log = logging.getLogger(__name__)

SINGLE_KIND = "invoice"
BATCH_KIND = "invoice.batch"
# Invoices per small batch: far below DSCO's 5 MB body limit, small enough that one refused
# batch does not hold up a whole day.
BATCH_SIZE = 50
# A single invoice's change-log entry is looked for in this window around the call.
LOG_WINDOW = timedelta(minutes=10)


class InvoiceProblemsError(ProblemsError):
    """The draft has problems; nothing was recorded or sent."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__("The invoice", issues)
        self.issues = tuple(issues)


@dataclass(frozen=True)
class BulkResult:
    """What a bulk invoicing run queued, and the orders it held back with their problems."""

    queued: tuple[InvoiceRecord, ...]
    held_back: tuple[tuple[str, tuple[Issue, ...]], ...]  # (PO or order id, problems)


@dataclass(frozen=True)
class DraftContext:
    """A draft with what its review needs: the order's packages and what is already billed."""

    draft: InvoiceDraft
    order: OrderRecord
    packages: tuple[ShippedPackage, ...]
    invoiced: dict[tuple[str, str], int]


class InvoicingService:
    """Invoicing on one database; the DSCO client is passed to the calls that need it."""

    def __init__(
        self,
        db: Database,
        *,
        number_pattern: str = DEFAULT_INVOICE_PATTERN,
        handling_amount: Decimal | float = ZERO,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._db = db
        self._orders = OrderRepository(db)
        self._invoices = InvoiceRepository(db)
        self._outbox = OutboxRepository(db)
        self._today = today
        self.number_pattern = number_pattern
        self.handling_amount = Decimal(str(handling_amount)).quantize(Decimal("0.01"))

    @property
    def invoices(self) -> InvoiceRepository:
        return self._invoices

    # -- lists --------------------------------------------------------------------------------

    def uninvoiced(
        self, *, text: str | None = None, shipped_on: date | None = None
    ) -> list[UninvoicedOrder]:
        """Orders with shipped units not invoiced yet."""
        day = shipped_on.isoformat() if shipped_on else None
        return self._invoices.uninvoiced_orders(text=text, shipped_on=day)

    def list_invoices(
        self, *, states: Sequence[InvoiceState] | None = None, text: str | None = None
    ) -> list[InvoiceRecord]:
        return self._invoices.list(states=states, text=text)

    # -- drafts -------------------------------------------------------------------------------

    def next_number(self, po_number: str | None = None) -> str:
        """A fresh invoice number from the pattern (its sequence number is used up)."""
        problem = check_pattern(self.number_pattern)
        if problem:
            raise UserFacingError(problem, detail="Change it in the invoice settings.")
        for _ in range(1000):
            sequence = self._invoices.reserve_sequences(1)[0]
            number = format_number(self.number_pattern, sequence, self._today(), po_number)
            if not self._invoices.taken([number]):
                return number
        raise UserFacingError(
            "No free invoice number found with the pattern "
            f"{self.number_pattern}; add {{SEQ}} or change the pattern."
        )

    def draft(self, dsco_order_id: str, *, invoice_id: str | None = None) -> DraftContext:
        """A draft billing everything shipped and not yet invoiced on the order."""
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(
                f"Order {dsco_order_id} is not on this computer yet; refresh the orders first."
            )
        lines = order_lines([line.raw or _line_dict(line) for line in order.lines])
        packages = shipped_packages([p.raw for p in order.packages], lines)
        invoiced = self._invoices.invoiced_units(dsco_order_id)
        open_lines = uninvoiced(lines, packages, invoiced)
        label = order.po_number or dsco_order_id
        if not open_lines:
            raise UserFacingError(f"Nothing shipped on order {label} is left to invoice.")
        number = invoice_id or self.next_number(order.po_number)
        draft = build_invoice(
            invoice_id=number,
            order=order.raw or {"dscoOrderId": dsco_order_id, "poNumber": order.po_number},
            lines=open_lines,
            packages=packages,
            invoice_date=self._today(),
            handling_amount=self.handling_amount,
        )
        return DraftContext(draft, order, tuple(packages), invoiced)

    def review(self, context: DraftContext, draft: InvoiceDraft | None = None) -> list[Issue]:
        """Every problem of the (possibly edited) draft, against the store as it is now."""
        draft = draft or context.draft
        invoiced = self._invoices.invoiced_units(context.order.dsco_order_id)
        return review(
            draft,
            available=available_units(context.packages, invoiced),
            taken_ids=self._invoices.taken([draft.invoice_id]),
        )

    # -- sending ------------------------------------------------------------------------------

    def submit(self, context: DraftContext, draft: InvoiceDraft | None = None) -> InvoiceRecord:
        """Review, record and queue one invoice (POST /invoice); InvoiceProblemsError if not."""
        draft = draft or context.draft
        issues = self.review(context, draft)
        if any(i.is_error for i in issues):
            raise InvoiceProblemsError(issues)
        body = draft.to_wire()
        with self._db.transaction() as tx:
            if self._invoices.taken([draft.invoice_id]):
                raise DuplicateInvoiceError(
                    f"Invoice number {draft.invoice_id} is already used; DSCO never accepts a "
                    "number twice."
                )
            outbox_id = self._outbox.enqueue(
                SINGLE_KIND, body, f"invoice:{draft.invoice_id}", conn=tx
            )
            self._invoices.add(
                body,
                lines=_stored_lines(draft),
                ship_date=_ship_date(draft, context.packages),
                outbox_id=outbox_id,
                conn=tx,
            )
        log.info("invoice %s queued for order %s", draft.invoice_id, draft.dsco_order_id)
        return self._require(draft.invoice_id)

    def drafts_for_day(self, day: date) -> tuple[list[DraftContext], list[tuple[str, str]]]:
        """Drafts for every order with a package shipped on `day` and units left to bill.

        Returns the drafts and the orders that could not get one (label, reason).
        """
        contexts: list[DraftContext] = []
        skipped: list[tuple[str, str]] = []
        for order in self.uninvoiced(shipped_on=day):
            try:
                contexts.append(self.draft(order.dsco_order_id))
            except UserFacingError as exc:
                skipped.append((order.po_number or order.dsco_order_id, exc.message))
        return contexts, skipped

    def submit_bulk(self, contexts: Sequence[DraftContext]) -> BulkResult:
        """Review every draft; queue the good ones as small batches, hold back the others."""
        good: list[tuple[DraftContext, dict[str, Any]]] = []
        held: list[tuple[str, tuple[Issue, ...]]] = []
        numbers: set[str] = set()
        for context in contexts:
            issues = self.review(context)
            if context.draft.invoice_id in numbers:
                issues.append(Issue("The number is used twice in this run.", field="number"))
            if any(i.is_error for i in issues):
                held.append((context.order.po_number or context.order.dsco_order_id, tuple(issues)))
                continue
            numbers.add(context.draft.invoice_id)
            good.append((context, context.draft.to_wire()))
        queued: list[str] = []
        for start in range(0, len(good), BATCH_SIZE):
            chunk = good[start : start + BATCH_SIZE]
            with self._db.transaction() as tx:
                outbox_id = self._outbox.enqueue(
                    BATCH_KIND,
                    {"invoices": [body for _, body in chunk]},
                    f"invoice.batch:{uuid.uuid4()}",
                    conn=tx,
                )
                for context, body in chunk:
                    self._invoices.add(
                        body,
                        lines=_stored_lines(context.draft),
                        ship_date=_ship_date(context.draft, context.packages),
                        outbox_id=outbox_id,
                        conn=tx,
                    )
            queued.extend(context.draft.invoice_id for context, _ in chunk)
        records = [self._require(number) for number in queued]
        return BulkResult(tuple(records), tuple(held))

    # -- after sending ------------------------------------------------------------------------

    def settle(
        self, client: DscoClient | None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> list[InvoiceRecord]:
        """Bring every open invoice up to date with its outbox row and DSCO's change log.

        Returns the invoices whose state changed.
        """
        open_ = self._invoices.list(states=[InvoiceState.PENDING, InvoiceState.SENT])
        by_row: dict[int, list[InvoiceRecord]] = {}
        for record in open_:
            if record.outbox_id is not None:
                by_row.setdefault(record.outbox_id, []).append(record)
        changed: list[InvoiceRecord] = []
        for outbox_id, records in by_row.items():
            if should_stop():
                break
            row = self._outbox.get(outbox_id)
            if row is None:
                continue
            try:
                self._settle_row(client, row, records)
            except DscoError as exc:
                # DSCO is unreachable or busy: the invoices stay open and are looked at again.
                log.info("could not read the outcome of outbox row %s: %s", outbox_id, exc)
            for record in records:
                after = self._require(record.invoice_id)
                if after.state is not record.state:
                    changed.append(after)
        return changed

    def _settle_row(
        self, client: DscoClient | None, row: OutboxRow, records: list[InvoiceRecord]
    ) -> None:
        if row.state is OutboxState.REJECTED:
            by_record = {m.record: m.description for m in row.messages if m.record}
            general = [m.description for m in row.messages if not m.record] or [
                row.last_error or "DSCO refused the invoice."
            ]
            for record in records:
                own = by_record.get(record.invoice_id)
                messages = [own] if own else general
                self._reject(record, messages)
            return
        if row.state is OutboxState.FAILED:
            for record in records:
                self._invoices.set_state(
                    record.invoice_id,
                    InvoiceState.FAILED,
                    message=row.last_error or "The invoice could not be sent.",
                )
            return
        if row.state is not OutboxState.SENT:
            return
        request_id = str((row.result or {}).get("requestId") or "") or None
        for record in records:
            if record.state is InvoiceState.PENDING:
                self._invoices.set_state(
                    record.invoice_id, InvoiceState.SENT, request_id=request_id
                )
        if client is None:
            return
        if row.kind == BATCH_KIND and request_id:
            _status, entries = client.read_change_log("invoice", request_id)
        elif (row.result or {}).get("alreadyApplied"):
            entries = []
        else:
            entries = self._log_around(client, row)
        by_id: dict[str, ChangeLogEntry] = {}
        for entry in entries:
            key = str(entry.record.get("invoiceId") or "")
            if key and (key not in by_id or (by_id[key].status or "") == "pending"):
                by_id[key] = entry
        for record in records:
            self._apply_outcome(client, record, by_id.get(record.invoice_id))

    @staticmethod
    def _log_around(client: DscoClient, row: OutboxRow) -> list[ChangeLogEntry]:
        sent = datetime.fromtimestamp(row.updated_at, UTC)
        page = client.get_invoice_log(startDate=sent - LOG_WINDOW, endDate=sent + LOG_WINDOW)
        entries = list(page.logs)
        scroll = page.scroll_id
        while scroll and page.logs:
            page = client.get_invoice_log(scrollId=scroll)
            entries.extend(page.logs)
            scroll = page.scroll_id
        return entries

    def _apply_outcome(
        self, client: DscoClient, record: InvoiceRecord, entry: ChangeLogEntry | None
    ) -> None:
        status = (entry.status or "").lower() if entry is not None else ""
        if status == "pending":
            return
        if status == "failure" and entry is not None:
            messages = [m.text for m in entry.results if m.text] or ["DSCO refused the invoice."]
            # A batch sent again after a crash: DSCO refuses the number it already has.
            if not self._dsco_has_it(client, record):
                self._reject(record, messages)
            return
        # success in the log, or no entry (yet): DSCO's invoice itself is the proof.
        self._dsco_has_it(client, record)

    def _reject(self, record: InvoiceRecord, messages: Sequence[str]) -> None:
        """Keep DSCO's refusal on the invoice (the first message is the one the list shows)."""
        self._invoices.set_state(
            record.invoice_id, InvoiceState.REJECTED, message=messages[0], messages=messages
        )

    def _dsco_has_it(self, client: DscoClient, record: InvoiceRecord) -> bool:
        found = client.get_invoices(key="invoiceId", value=record.invoice_id)
        mine = [
            inv
            for inv in found
            if (inv.dsco_order_id or record.dsco_order_id) == record.dsco_order_id
            and abs(float(inv.total_amount or 0) - record.total_amount) < 0.005
        ]
        if not mine:
            return False
        self._invoices.set_state(
            record.invoice_id,
            InvoiceState.ACCEPTED,
            message=None,
            dsco_invoice_id=mine[0].dsco_invoice_id,
        )
        return True

    def _require(self, invoice_id: str) -> InvoiceRecord:
        record = self._invoices.get(invoice_id)
        if record is None:
            raise UserFacingError(f"Invoice {invoice_id} does not exist.")
        return record


def describe(record: InvoiceRecord) -> str:
    """The sentence the list and the review show for an invoice's state."""
    state = record.state
    if state is InvoiceState.PENDING:
        return "Waiting to be sent to DSCO."
    if state is InvoiceState.SENT:
        return "DSCO took the invoice; waiting for its change log."
    if state is InvoiceState.ACCEPTED:
        suffix = f" (DSCO invoice {record.dsco_invoice_id})" if record.dsco_invoice_id else ""
        return f"Accepted by DSCO{suffix}."
    if state is InvoiceState.REJECTED:
        reasons = "; ".join(record.messages) or record.dsco_message or "no reason given"
        return f"DSCO rejected the invoice: {reasons}"
    return record.dsco_message or "The invoice could not be sent."


def _stored_lines(draft: InvoiceDraft) -> list[dict[str, Any]]:
    return [
        {**line.to_wire(), "lineKey": line.line_key, "trackingNumber": line.tracking_number}
        for line in draft.lines
    ]


def _ship_date(draft: InvoiceDraft, packages: Sequence[ShippedPackage]) -> str | None:
    used = {line.tracking_number for line in draft.lines}
    dates = [p.ship_date for p in packages if p.tracking_number in used and p.ship_date]
    return max(dates) if dates else None


def _line_dict(line: Any) -> dict[str, Any]:
    return {
        "lineNumber": line.line_number,
        "sku": line.sku,
        "dscoItemId": line.dsco_item_id,
        "partnerSku": line.partner_sku,
        "upc": line.upc,
        "title": line.title,
        "quantity": line.quantity,
    }
