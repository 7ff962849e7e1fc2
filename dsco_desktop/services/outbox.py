"""The outbox sender: delivers queued DSCO mutations, once each, through crashes and outages.

`send_due` takes due rows one at a time. Each row is claimed (SENDING, attempts+1) in a
committed transaction before its call, so a process killed mid-call leaves the row in SENDING:
"in doubt". Before such a row (or any row whose earlier attempt may have reached DSCO) is sent
again, the sender asks DSCO whether it was already applied, for the kinds where a second call
would apply it twice: a shipment (is the tracking number on the order?), a cancel (did the line's
cancelled quantity move from what was read before the call?), an invoice (is there an invoice
with this invoiceId?), a return (is there a return with this returnNumber / is it completed?).
Acknowledgements and inventory and catalog batches set absolute values, so re-sending is harmless.

Outcomes: success -> SENT with DSCO's answer; transient errors (network, 408, 429, 5xx) ->
PENDING again after exponential backoff with jitter (at least DSCO's Retry-After), until the row
has been failing for `give_up_after_s` (two hours, DSCO's guidance) -> FAILED; DSCO's validation
errors -> REJECTED with its messages per record, never retried; other errors -> FAILED.
There is no Qt here: the UI's sender thread calls `send_due` in a loop and sleeps until
`next_due_at`.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsco_desktop.dsco.errors import (
    DscoError,
    DscoMessage,
    RateLimitedError,
    ValidationError,
    is_transient,
)
from dsco_desktop.errors import UserFacingError
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxMessage, OutboxRepository, OutboxRow

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient

log = logging.getLogger(__name__)

Payload = dict[str, Any]


class PartlyAppliedError(UserFacingError):
    """DSCO shows part of a change: sending it again would apply the rest twice."""


@dataclass(frozen=True)
class SendReport:
    """What one `send_due` call did.

    `in_doubt_resolved` counts rows left SENDING by a sender that died, settled in this call:
    found already applied at DSCO (marked SENT without a second call) or sent again (those are
    also counted in `sent`, `retried`, ...).
    """

    sent: int = 0
    retried: int = 0
    failed: int = 0
    rejected: int = 0
    in_doubt_resolved: int = 0
    already_applied: int = 0  # found applied at DSCO, marked SENT without calling again

    @property
    def handled(self) -> int:
        """Rows this call settled or rescheduled."""
        return self.sent + self.retried + self.failed + self.rejected + self.already_applied


@dataclass(frozen=True)
class OutboxKind:
    """How to send one kind of row, and how to tell whether DSCO already applied it.

    `prepare` (optional) reads what the check needs before the first call; its answer is stored
    with the row (committed) before the call is made. `already_applied` None means re-sending
    is harmless.
    """

    send: Callable[[DscoClient, Payload], Any]
    already_applied: Callable[[DscoClient, Payload, Payload | None], bool] | None = None
    prepare: Callable[[DscoClient, Payload], Payload] | None = None


# -- "already applied?" checks ----------------------------------------------------------------

_ORDER_KEYS = {
    "DSCO_ORDER_ID": "dscoOrderId",
    "PO_NUMBER": "poNumber",
    "SUPPLIER_ORDER_NUMBER": "supplierOrderNumber",
}


def _dump(obj: Any) -> Any:
    if obj is None or isinstance(obj, dict | list | str | int | float | bool):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    return str(obj)


def _order_for_shipment(client: DscoClient, payload: Payload) -> dict[str, Any] | None:
    for key in ("dscoOrderId", "poNumber", "supplierOrderNumber"):
        value = payload.get(key)
        if value:
            order = client.get_order(key, str(value))
            return None if order is None else _dump(order)
    raise PartlyAppliedError("The shipment names no order (dscoOrderId, poNumber).")


def _order_for_cancel(client: DscoClient, payload: Payload) -> dict[str, Any] | None:
    key = _ORDER_KEYS.get(str(payload.get("type") or "DSCO_ORDER_ID").upper(), "dscoOrderId")
    order = client.get_order(key, str(payload.get("id")))
    return None if order is None else _dump(order)


def shipment_applied(client: DscoClient, payload: Payload, _context: Payload | None) -> bool:
    """Whether every package of this shipment is already on the order (by tracking number)."""
    wanted = [
        str(s.get("trackingNumber"))
        for s in payload.get("shipments") or []
        if isinstance(s, Mapping) and s.get("trackingNumber")
    ]
    order = _order_for_shipment(client, payload)
    if order is None or not wanted:
        return False
    present = {
        str(p["trackingNumber"])
        for p in order.get("packages") or []
        if isinstance(p, Mapping) and p.get("trackingNumber")
    }
    found = [t for t in wanted if t in present]
    if len(found) == len(wanted):
        return True
    if found:
        raise PartlyAppliedError(
            f"DSCO already has tracking number(s) {', '.join(found)} of this shipment but not "
            f"{', '.join(t for t in wanted if t not in present)}; check the order before sending "
            "the rest."
        )
    return False


def _line_key(line: Mapping[str, Any]) -> tuple[str, str] | None:
    for key in ("lineNumber", "dscoItemId", "sku", "partnerSku", "upc", "ean"):
        value = line.get(key)
        if value not in (None, ""):
            return key, str(value)
    return None


def _cancelled_by_line(order: Mapping[str, Any] | None, payload: Payload) -> dict[str, int]:
    """The order's cancelled quantity for each line the cancel names, keyed 'field=value'."""
    lines = [ln for ln in (order or {}).get("lineItems") or [] if isinstance(ln, Mapping)]
    result: dict[str, int] = {}
    for wanted in payload.get("lineItems") or []:
        key = _line_key(wanted)
        if key is None:
            continue
        field, value = key
        match = next((ln for ln in lines if str(ln.get(field)) == value), None)
        result[f"{field}={value}"] = int((match or {}).get("cancelledQuantity") or 0)
    return result


def cancel_prepare(client: DscoClient, payload: Payload) -> Payload:
    """Read each line's cancelled quantity before cancelling, to recognise the change later."""
    return {"cancelled_before": _cancelled_by_line(_order_for_cancel(client, payload), payload)}


def cancel_applied(client: DscoClient, payload: Payload, context: Payload | None) -> bool:
    """Whether each line's cancelled quantity has grown by the requested amount."""
    before: Mapping[str, int] = (context or {}).get("cancelled_before") or {}
    now = _cancelled_by_line(_order_for_cancel(client, payload), payload)
    done = pending = 0
    for wanted in payload.get("lineItems") or []:
        key = _line_key(wanted)
        if key is None:
            continue
        name = f"{key[0]}={key[1]}"
        requested = int(wanted.get("cancelledQuantity") or 0)
        grown = now.get(name, 0) - int(before.get(name, 0))
        if grown >= requested:
            done += 1
        elif grown <= 0:
            pending += 1
        else:
            raise PartlyAppliedError(
                f"DSCO shows only part of the cancellation of line {key[1]}; check the order."
            )
    if done and pending:
        raise PartlyAppliedError("DSCO shows only some lines of this cancellation; check it.")
    return done > 0 and pending == 0


def invoice_applied(client: DscoClient, payload: Payload, _context: Payload | None) -> bool:
    """Whether DSCO has an invoice with this invoiceId."""
    invoice_id = payload.get("invoiceId")
    if not invoice_id:
        return False
    return bool(client.get_invoices(key="invoiceId", value=str(invoice_id)))


def invoices_applied(client: DscoClient, payload: Payload, _context: Payload | None) -> bool:
    """Whether DSCO has every invoice of a small batch (by invoiceId).

    When only some are there, sending again is still safe: DSCO refuses an invoiceId twice, and
    the invoicing follow-up reads such a refusal for an invoice DSCO has as accepted.
    """
    ids = [str(i.get("invoiceId")) for i in payload.get("invoices") or [] if i.get("invoiceId")]
    return bool(ids) and all(
        client.get_invoices(key="invoiceId", value=invoice_id) for invoice_id in ids
    )


def return_created(client: DscoClient, payload: Payload, _context: Payload | None) -> bool:
    """Whether DSCO has a return with this returnNumber."""
    number = payload.get("returnNumber")
    if not number:
        return False
    page = client.get_returns(returnIdType="returnNumber", returnIdValue=str(number))
    return bool(page.returns)


def return_completed(client: DscoClient, payload: Payload, _context: Payload | None) -> bool:
    """Whether the return is already completed at DSCO."""
    if payload.get("dscoReturnId"):
        query = {"returnIdType": "dscoReturnId", "returnIdValue": str(payload["dscoReturnId"])}
    elif payload.get("partnerReturnNumber"):
        query = {
            "returnIdType": "partnerReturnNumber",
            "returnIdValue": str(payload["partnerReturnNumber"]),
        }
    else:
        return False
    page = client.get_returns(**query)
    return any(str(r.status or "").lower() == "completed" for r in page.returns)


KINDS: dict[str, OutboxKind] = {
    "order.acknowledge": OutboxKind(lambda c, p: c.acknowledge_orders(p["orders"])),
    "order.cancel": OutboxKind(
        lambda c, p: c.cancel_order_item(p), cancel_applied, prepare=cancel_prepare
    ),
    "order.shipment": OutboxKind(lambda c, p: c.single_shipment(p), shipment_applied),
    "inventory.batch": OutboxKind(lambda c, p: c.update_inventory_small_batch(p["items"])),
    "catalog.batch": OutboxKind(lambda c, p: c.update_catalog_small_batch(p["items"])),
    "catalog.large_batch": OutboxKind(lambda c, p: c.update_catalog_large_batch(p["items"])),
    "invoice": OutboxKind(lambda c, p: c.create_invoice(p), invoice_applied),
    "invoice.batch": OutboxKind(
        lambda c, p: c.invoice_small_batch(p["invoices"]), invoices_applied
    ),
    "return.create": OutboxKind(lambda c, p: c.create_return(p), return_created),
    "return.complete": OutboxKind(lambda c, p: c.complete_return(p), return_completed),
}


# -- the sender -------------------------------------------------------------------------------


def _messages(exc: DscoError) -> list[OutboxMessage]:
    found: list[DscoMessage] = list(exc.messages)
    if not found:
        return [OutboxMessage(description=str(exc))]
    return [
        OutboxMessage(description=m.description, code=m.code, severity=m.severity, record=m.record)
        for m in found
    ]


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class OutboxSender:
    """Sends due outbox rows through a `DscoClient`; one instance per sending thread."""

    def __init__(
        self,
        db: Database,
        client: DscoClient,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        give_up_after_s: float = 7200.0,
        base_delay_s: float = 5.0,
        max_delay_s: float = 900.0,
        kinds: Mapping[str, OutboxKind] | None = None,
    ) -> None:
        self._repo = OutboxRepository(db, clock=clock)
        self._client = client
        self._clock = clock
        self._rng = rng
        self.give_up_after_s = give_up_after_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._kinds = dict(KINDS if kinds is None else kinds)
        # Written on the rows this sender claims: tells in the database who was sending what.
        self._token = uuid.uuid4().hex

    def backoff_delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failure: exponential, capped, jittered.

        Half the exponential step is fixed and half random, so retries from many rows spread
        out but never come sooner than half the step; DSCO's Retry-After is a floor.
        """
        step = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempts - 1))
        delay = step / 2 + self._rng() * step / 2
        if retry_after is not None and retry_after > delay:
            delay = retry_after
        return delay

    def next_due_at(self) -> float | None:
        """When `send_due` next has work (epoch seconds), or None when the outbox is idle."""
        if self._repo.in_doubt():
            return self._clock()
        return self._repo.next_due_at()

    def send_due(
        self, limit: int = 50, should_stop: Callable[[], bool] = lambda: False
    ) -> SendReport:
        """Send up to `limit` due rows, in-doubt ones first; `should_stop` is asked between rows."""
        tally = dict.fromkeys(
            ("sent", "retried", "failed", "rejected", "in_doubt_resolved", "already_applied"), 0
        )
        handled = 0
        for doubtful in self._repo.in_doubt():
            if handled >= limit or should_stop():
                break
            row = self._repo.reclaim(doubtful, self._token, self._clock())
            if row is None:
                continue
            log.info("outbox row %s (%s) was in doubt after a restart", row.id, row.kind)
            self._process(row, tally, in_doubt=True)
            handled += 1
        while handled < limit and not should_stop():
            row = self._repo.claim_next(self._token, self._clock())
            if row is None:
                break
            self._process(row, tally, in_doubt=False)
            handled += 1
        return SendReport(**tally)

    def _process(self, row: OutboxRow, tally: dict[str, int], *, in_doubt: bool) -> None:
        outcome = self._attempt(row)
        tally[outcome] += 1
        if in_doubt and outcome in ("sent", "already_applied"):
            tally["in_doubt_resolved"] += 1

    def _attempt(self, row: OutboxRow) -> str:
        kind = self._kinds.get(row.kind)
        if kind is None:
            self._repo.mark_failed(
                row.id, f"This version of the app cannot send '{row.kind}' changes.", self._clock()
            )
            return "failed"
        try:
            context = row.context
            # The call may have reached DSCO before if this is not the first attempt; with a
            # prepare step, only once the context was saved (it is saved before the call).
            maybe_sent = row.attempts > 1 and (kind.prepare is None or context is not None)
            if (
                kind.already_applied is not None
                and maybe_sent
                and kind.already_applied(self._client, row.payload, context)
            ):
                self._repo.mark_sent(
                    row.id, {"alreadyApplied": True, "attempts": row.attempts}, self._clock()
                )
                return "already_applied"
            if kind.prepare is not None and context is None:
                context = kind.prepare(self._client, row.payload)
                self._repo.set_context(row.id, context, self._clock())
            result = kind.send(self._client, row.payload)
        except ValidationError as exc:
            self._repo.mark_rejected(row.id, str(exc), _messages(exc), self._clock())
            return "rejected"
        except DscoError as exc:
            if is_transient(exc):
                return self._transient(row, exc)
            self._repo.mark_failed(row.id, str(exc), self._clock(), _messages(exc))
            return "failed"
        except UserFacingError as exc:
            self._repo.mark_failed(row.id, str(exc), self._clock())
            return "failed"
        except Exception as exc:
            # A bug or a malformed payload: never leave the row SENDING, let the user decide.
            log.exception("outbox row %s (%s) could not be sent", row.id, row.kind)
            self._repo.mark_failed(
                row.id,
                f"Unexpected error while sending: {type(exc).__name__}: {exc}",
                self._clock(),
            )
            return "failed"
        answer = _dump(result)
        self._repo.mark_sent(
            row.id, answer if isinstance(answer, dict) else {"response": answer}, self._clock()
        )
        return "sent"

    def _transient(self, row: OutboxRow, exc: DscoError) -> str:
        now = self._clock()
        failing_for = now - row.window_started_at
        if failing_for >= self.give_up_after_s:
            self._repo.mark_failed(
                row.id,
                f"Gave up after {_duration(failing_for)} and {row.attempts} attempts: {exc}",
                now,
                _messages(exc),
            )
            return "failed"
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        delay = self.backoff_delay(row.attempts, retry_after)
        self._repo.mark_retry(row.id, now + delay, str(exc), now)
        log.info("outbox row %s: %s; next attempt in %.0f s", row.id, exc, delay)
        return "retried"
