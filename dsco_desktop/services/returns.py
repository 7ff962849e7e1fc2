"""Return use cases: pulling DSCO's returns, starting one, completing one, restocking.

Returns come from DSCO two ways: `GET /return/page` for everything created or updated since
the last pull (until 5 s ago, as DSCO's search asks), and the return change log over the same
window, whose entries name returns changed by batch calls. The supplier starts a return for
shipped units (`POST /return/`) and completes one line by line (`PUT /return/`), both through
the outbox: the return and its outbox row are written in one transaction before any call, and
`settle` stores DSCO's answer (the return as DSCO now has it) or its refusal.
Once DSCO shows a completed return, its accepted units marked for restocking are recorded
(`return_restocks`, once per return, SKU and warehouse) and handed to `restock_sink`, by
default the inventory editor's staged changes (on hand + the units, source "return"), so the
shop owner reviews and sends them like any other edit.
No Qt here: the UI runs these on its job helper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from dsco_desktop.domain.inventory import LevelValues
from dsco_desktop.domain.invoicing import Issue, order_lines
from dsco_desktop.domain.returns import (
    ACCEPTED,
    DEFAULT_RETURN_PATTERN,
    Decision,
    NewReturnLine,
    Returnable,
    check_decisions,
    check_new_return,
    completion_payload,
    create_payload,
    restock_units,
    return_lines,
    return_number,
)
from dsco_desktop.dsco.errors import DscoError, NotFoundError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.inventory_sync import InventoryEditor
from dsco_desktop.services.problems import ProblemsError
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.outbox import OutboxRepository, OutboxState
from dsco_desktop.store.returns import (
    RestockRecord,
    RestockState,
    ReturnRecord,
    ReturnRepository,
    ReturnState,
    ReturnSummary,
)
from dsco_desktop.store.settings import SettingsRepository

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient

log = logging.getLogger(__name__)

CREATE_KIND = "return.create"
COMPLETE_KIND = "return.complete"
PULLED_UNTIL_KEY = "returns.pulled_until"
SEQUENCE_KEY = "returns.next_sequence"
# The first pull looks this far back; DSCO keeps returns open for weeks.
FIRST_PULL_DAYS = 120
# DSCO's searches want `until` at least 5 s in the past.
UNTIL_LAG = timedelta(seconds=6)

# Stages restock units (sku, warehouse, units) as pending inventory changes; raises
# UserFacingError when it cannot.
RestockSink = Callable[[Sequence[tuple[str, str, int]]], None]


def inventory_restock_sink(db: Database) -> RestockSink:
    """Stage restocks in the inventory editor: on hand (staged, else stored) plus the units."""

    def stage(units: Sequence[tuple[str, str, int]]) -> None:
        editor = InventoryEditor(db)
        keys = [(sku, warehouse) for sku, warehouse, _ in units]
        current = {row.key: row.values for row in editor.repo.rows(keys=keys)}
        values: dict[tuple[str, str], LevelValues] = {}
        for sku, warehouse, count in units:
            base = values.get((sku, warehouse)) or current.get((sku, warehouse)) or LevelValues(0)
            values[(sku, warehouse)] = replace(base, quantity=base.quantity + count)
        editor.stage(
            values,
            source="return",
            description=f"Restock {sum(n for _, _, n in units)} returned unit(s)",
            create=True,
        )

    return stage


class ReturnProblemsError(ProblemsError):
    """The return or the answers have problems; nothing was recorded or sent."""

    def __init__(self, issues: Sequence[Issue], what: str = "The return") -> None:
        super().__init__(what, issues)
        self.issues = tuple(issues)


@dataclass(frozen=True)
class PullReport:
    """What one pull found."""

    seen: int
    changed: tuple[str, ...]


class ReturnsService:
    """Returns on one database; the DSCO client is passed to the calls that need it."""

    def __init__(
        self,
        db: Database,
        *,
        number_pattern: str = DEFAULT_RETURN_PATTERN,
        restock_sink: RestockSink | Literal["inventory"] | None = "inventory",
        today: Callable[[], date] = date.today,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._returns = ReturnRepository(db)
        self._orders = OrderRepository(db)
        self._outbox = OutboxRepository(db)
        self._settings = SettingsRepository(db)
        self._today = today
        self._now = now
        self.number_pattern = number_pattern
        self.restock_sink: RestockSink | None = (
            inventory_restock_sink(db) if restock_sink == "inventory" else restock_sink
        )

    @property
    def returns(self) -> ReturnRepository:
        return self._returns

    def list_returns(
        self, *, text: str | None = None, statuses: Sequence[str] | None = None
    ) -> list[ReturnSummary]:
        return self._returns.list(text=text, statuses=statuses)

    def get(self, number: str) -> ReturnRecord:
        record = self._returns.get(number)
        if record is None:
            raise UserFacingError(f"Return {number} is not on this computer.")
        return record

    # -- from DSCO ----------------------------------------------------------------------------

    def pull(
        self, client: DscoClient, *, should_stop: Callable[[], bool] = lambda: False
    ) -> PullReport:
        """Store every return DSCO created or changed since the last pull."""
        saved = self._settings.get(PULLED_UNTIL_KEY)
        until = self._now() - UNTIL_LAG
        since = (
            datetime.fromisoformat(saved)
            if isinstance(saved, str)
            else until - timedelta(days=FIRST_PULL_DAYS)
        )
        if since >= until:
            return PullReport(0, ())
        seen = 0
        changed: list[str] = []
        page = client.get_returns(returnsUpdatedSince=since, until=until)
        while True:
            seen += len(page.returns)
            changed.extend(self._returns.upsert_from_dsco(page.returns))
            if not page.returns or not page.scroll_id or should_stop():
                break
            page = client.get_returns(scrollId=page.scroll_id)
        changed.extend(self._from_change_log(client, since, until, should_stop))
        if not should_stop():
            self._settings.set(PULLED_UNTIL_KEY, until.isoformat())
        self._stage_completed()
        return PullReport(seen, tuple(dict.fromkeys(changed)))

    def _from_change_log(
        self,
        client: DscoClient,
        since: datetime,
        until: datetime,
        should_stop: Callable[[], bool],
    ) -> list[str]:
        """Returns the change log names that the page search did not bring (batch calls)."""
        try:
            page = client.get_return_log(startDate=since, endDate=until, status="success")
        except NotFoundError:
            return []
        ids: set[tuple[str, str]] = set()
        while True:
            for entry in page.logs:
                record = entry.record
                if record.get("dscoReturnId"):
                    ids.add(("dscoReturnId", str(record["dscoReturnId"])))
                elif record.get("returnNumber"):
                    ids.add(("returnNumber", str(record["returnNumber"])))
            if not page.logs or not page.scroll_id or should_stop():
                break
            page = client.get_return_log(scrollId=page.scroll_id)
        changed: list[str] = []
        for id_type, value in sorted(ids):
            known = (
                self._returns.number_for_dsco_id(value)
                if id_type == "dscoReturnId"
                else (value if self._returns.taken([value]) else None)
            )
            if known is not None or should_stop():
                continue
            found = client.get_returns(returnIdType=id_type, returnIdValue=value)
            changed.extend(self._returns.upsert_from_dsco(found.returns))
        return changed

    # -- starting a return --------------------------------------------------------------------

    def find_order(self, text: str) -> tuple[str, str | None]:
        """(dscoOrderId, PO number) of the stored order a PO number or order id names."""
        wanted = text.strip()
        rows = (
            self._db.connection()
            .execute(
                "SELECT dsco_order_id, po_number FROM orders WHERE po_number = ?"
                " OR dsco_order_id = ? LIMIT 6",
                (wanted, wanted),
            )
            .fetchall()
        )
        if not rows:
            raise UserFacingError(
                f"No order {wanted} on this computer. Check the number, or wait for the order "
                "stream to bring it in."
            )
        if len(rows) > 1:
            raise UserFacingError(
                f"{len(rows)} orders match {wanted}; use the DSCO order id "
                f"({', '.join(str(r[0]) for r in rows[:5])})."
            )
        return str(rows[0][0]), rows[0][1]

    def returnable(self, dsco_order_id: str) -> list[Returnable]:
        """The order's lines with the units that shipped and are not on a return yet."""
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(
                f"Order {dsco_order_id} is not on this computer yet; refresh the orders first."
            )
        returned = self._returns.returned_units(dsco_order_id)
        lines = order_lines([line.raw for line in order.lines])
        stored = dict(enumerate(order.lines))
        return [
            Returnable(
                key=line.key,
                line_number=line.line_number,
                sku=line.sku,
                dsco_item_id=line.dsco_item_id,
                title=line.title,
                shipped=int(stored[i].shipped_quantity or 0),
                returned=returned.get(line.key, 0),
            )
            for i, line in enumerate(lines)
        ]

    def next_number(self, po_number: str | None = None) -> str:
        """A fresh return number from the pattern."""
        for _ in range(1000):
            with self._db.transaction() as tx:
                row = tx.execute(
                    "SELECT value FROM settings WHERE key = ?", (SEQUENCE_KEY,)
                ).fetchone()
                sequence = int(row[0]) if row is not None else 1
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (SEQUENCE_KEY, str(sequence + 1)),
                )
            try:
                number = return_number(self.number_pattern, sequence, self._today(), po_number)
            except ValueError as exc:
                raise UserFacingError(str(exc)) from None
            if not self._returns.taken([number]):
                return number
        raise UserFacingError(f"No free return number with the pattern {self.number_pattern}.")

    def start(
        self,
        dsco_order_id: str,
        number: str,
        lines: Sequence[NewReturnLine],
        *,
        reason: str = "",
    ) -> ReturnRecord:
        """Check, record and queue a return the supplier starts (POST /return/)."""
        order = self._orders.get(dsco_order_id)
        if order is None:
            raise UserFacingError(f"Order {dsco_order_id} is not on this computer.")
        returnable = self.returnable(dsco_order_id)
        issues = check_new_return(
            number, returnable, lines, taken_numbers=self._returns.taken([number])
        )
        if any(i.is_error for i in issues):
            raise ReturnProblemsError(issues)
        body = create_payload(
            number,
            order.raw or {"dscoOrderId": dsco_order_id, "poNumber": order.po_number},
            returnable,
            lines,
            reason=reason,
            when=self._today(),
        )
        with self._db.transaction() as tx:
            outbox_id = self._outbox.enqueue(CREATE_KIND, body, f"return:{number}", conn=tx)
            self._returns.add_local(body, outbox_id=outbox_id, conn=tx)
        log.info("return %s queued for order %s", number, dsco_order_id)
        return self.get(number)

    # -- completing ---------------------------------------------------------------------------

    def check(self, number: str, decisions: Sequence[Decision]) -> list[Issue]:
        record = self.get(number)
        issues = check_decisions(return_lines(line.raw for line in record.lines), decisions)
        if record.completed:
            issues.insert(0, Issue(f"Return {number} is already completed at DSCO."))
        elif record.state in (ReturnState.CREATING, ReturnState.COMPLETING):
            issues.insert(0, Issue(f"Return {number} is still being sent to DSCO; wait for it."))
        elif not record.dsco_return_id:
            issues.insert(0, Issue(f"DSCO has not confirmed return {number} yet."))
        return issues

    def complete(self, number: str, decisions: Sequence[Decision]) -> ReturnRecord:
        """Check, record and queue the answers for every line (PUT /return/)."""
        issues = self.check(number, decisions)
        if any(i.is_error for i in issues):
            raise ReturnProblemsError(issues, "The answer")
        record = self.get(number)
        lines = return_lines(line.raw for line in record.lines)
        body = completion_payload(
            {"dscoReturnId": record.dsco_return_id, "returnNumber": record.return_number},
            lines,
            decisions,
        )
        answers = [
            (
                d.index,
                str(d.response),
                d.reason.strip(),
                d.restock and d.response == ACCEPTED,
                d.warehouse_code,
            )
            for d in decisions
        ]
        with self._db.transaction() as tx:
            outbox_id = self._outbox.enqueue(
                COMPLETE_KIND, body, f"return.complete:{record.dsco_return_id}", conn=tx
            )
            self._returns.record_answers(number, answers, outbox_id=outbox_id, conn=tx)
        return self.get(number)

    # -- after sending ------------------------------------------------------------------------

    def settle(self, *, should_stop: Callable[[], bool] = lambda: False) -> list[ReturnRecord]:
        """Store DSCO's answers to queued creates and completions; returns those that changed."""
        changed: list[ReturnRecord] = []
        for record in self._returns.in_states([ReturnState.CREATING, ReturnState.COMPLETING]):
            if should_stop():
                break
            outbox_id = (
                record.outbox_id
                if record.state is ReturnState.CREATING
                else record.complete_outbox_id
            )
            row = self._outbox.get(outbox_id) if outbox_id is not None else None
            if row is None:
                continue
            if row.state is OutboxState.REJECTED:
                messages = [m.description for m in row.messages if m.description] or [
                    row.last_error or "DSCO refused it."
                ]
                self._returns.set_state(
                    record.return_number,
                    ReturnState.REJECTED,
                    message=messages[0],
                    messages=messages,
                )
            elif row.state is OutboxState.FAILED:
                self._returns.set_state(
                    record.return_number,
                    ReturnState.FAILED,
                    message=row.last_error or "It could not be sent.",
                )
            elif row.state is OutboxState.SENT:
                doc = (row.result or {}).get("return")
                if isinstance(doc, dict) and doc:
                    self._returns.upsert_from_dsco([doc])
                after = self.get(record.return_number)
                if after.state is not ReturnState.OPEN:
                    # DSCO said yes without the return in its answer (or an older copy):
                    # the next pull brings it; until then the call itself is the proof.
                    self._returns.set_state(record.return_number, ReturnState.OPEN)
            after = self.get(record.return_number)
            if after.state is not record.state or after.status != record.status:
                changed.append(after)
        self._stage_completed()
        return changed

    def _stage_completed(self) -> None:
        """Record the restocks of returns DSCO shows completed, then stage them."""
        rows = (
            self._db.connection()
            .execute(
                "SELECT DISTINCT r.return_number FROM returns r JOIN return_lines l"
                " ON l.return_number = r.return_number WHERE r.status = 'completed'"
                " AND l.restock = 1 AND l.response = 'accepted' AND NOT EXISTS ("
                " SELECT 1 FROM return_restocks s WHERE s.return_number = r.return_number)"
            )
            .fetchall()
        )
        for (number,) in rows:
            record = self.get(number)
            decisions = [
                Decision(
                    line.line_index,
                    line.response,
                    line.decision_reason or "",
                    line.restock,
                    line.warehouse_code,
                )
                for line in record.lines
            ]
            units = restock_units(return_lines(line.raw for line in record.lines), decisions)
            self._returns.add_restocks(number, units)
        self.stage_restocks()

    def stage_restocks(self) -> list[RestockRecord]:
        """Hand requested restocks to the inventory editor; returns those still waiting."""
        waiting = self._returns.restocks(states=[RestockState.REQUESTED])
        if self.restock_sink is None or not waiting:
            return waiting
        for restock in waiting:
            try:
                self.restock_sink([(restock.sku, restock.warehouse_code, restock.quantity)])
            except UserFacingError as exc:
                self._returns.set_restock_state(restock.id, RestockState.FAILED, exc.message)
            else:
                self._returns.set_restock_state(restock.id, RestockState.STAGED)
        return self._returns.restocks(states=[RestockState.REQUESTED])

    def refresh(
        self, client: DscoClient | None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> tuple[PullReport | None, list[ReturnRecord]]:
        """Settle queued calls, then pull from DSCO (when connected): what the tab's timer runs."""
        settled = self.settle(should_stop=should_stop)
        report = None
        if client is not None:
            try:
                report = self.pull(client, should_stop=should_stop)
            except DscoError as exc:
                raise UserFacingError(f"Returns could not be read from DSCO: {exc}") from exc
        return report, settled


def describe(record: ReturnRecord | ReturnSummary) -> str:
    """The sentence the list and the dialog show for a return."""
    if record.state is ReturnState.CREATING:
        return "Waiting to be sent to DSCO."
    if record.state is ReturnState.COMPLETING:
        return "Answers waiting to be sent to DSCO."
    if record.state is ReturnState.REJECTED:
        return f"DSCO refused it: {record.dsco_message or 'no reason given'}"
    if record.state is ReturnState.FAILED:
        return record.dsco_message or "It could not be sent to DSCO."
    status = (record.status or "").lower()
    if status == "completed":
        return "Completed at DSCO."
    if status in ("created", "acknowledged"):
        return "Waiting for your answer."
    return "Known to DSCO."
