"""A headless shop-owner session against a faulty sandbox, and the end-of-run reconciliation.

`ShopSession` drives the same services the app's tabs use (order stream, acknowledge, cancel,
ship, invoice, inventory push, outbox sender) in one loop, while the sandbox generates orders
and injects faults. `settle()` switches the faults off and lets everything finish;
`reconcile()` then compares the local store with the sandbox and returns every disagreement
as a sentence (an empty list means they agree exactly). The soak and the security tests share
it, so "a full session" means the same thing in both.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.domain.inventory import LevelValues
from dsco_desktop.domain.orders import CancelLine
from dsco_desktop.domain.shipping import PackagePlan
from dsco_desktop.domain.tracking import ups_check_digit
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.inventory_sync import InventorySync, OrderPull
from dsco_desktop.services.invoicing import InvoicingService
from dsco_desktop.services.order_actions import OrderActions
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.services.shipping import ShippingService
from dsco_desktop.store.activity import ActivityRepository
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxState

_tracking_serial = iter(range(1, 10**7))


def next_ups_tracking() -> str:
    """A fresh UPS 1Z number with a correct check digit, never the same twice in a run."""
    body = f"879E9303{next(_tracking_serial):07d}"
    return f"1Z{body}{ups_check_digit(body)}"


@dataclass
class Figures:
    """What a session did and endured; the soak prints these and docs/faults.md quotes them."""

    steps: int = 0
    events: int = 0
    dsco_errors: int = 0
    revocations: int = 0
    acknowledged: int = 0
    cancelled: int = 0
    shipped: int = 0
    invoiced: int = 0
    inventory_pushes: int = 0
    refused_locally: int = 0
    outbox_sent: int = 0
    outbox_failed: int = 0
    outbox_rejected: int = 0
    orders: int = 0
    faults_injected: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class ShopSession:
    """One shop owner's day, compressed: everything the app does, interleaved at random."""

    def __init__(self, sandbox: Any, db: Database, *, seed: int = 1) -> None:
        self.sandbox = sandbox
        self.db = db
        self.rng = random.Random(seed)
        self.activity = ActivityRepository(db)
        self.client = DscoClient(
            sandbox.base_url,
            sandbox.client_id,
            sandbox.client_secret,
            retry_wait_max_s=0.2,
            on_call=self._on_call,
        )
        self.stream = OrderStreamService(db, self.client)
        self.actions = OrderActions(db)
        self.shipping = ShippingService(db)
        self.invoicing = InvoicingService(db)
        self.sender = OutboxSender(db, self.client, base_delay_s=0.05, max_delay_s=0.5)
        self.sync = InventorySync(
            db, self.client, deliver=self._deliver, pull_orders=self._pull_nothing
        )
        self.figures = Figures()

    # -- the workload ---------------------------------------------------------------------

    def _on_call(self, call: CallRecord) -> None:
        # What the sandbox did to us, as the client saw it; and the app's own activity log.
        if call.status is not None and (call.status >= 500 or call.status in (401, 429)):
            self.figures.faults_injected += 1
        self.activity.record(call)

    def _deliver(self) -> None:
        self.sender.send_due()

    @staticmethod
    def _pull_nothing() -> OrderPull:
        # The session's own loop polls the stream; the push must not poll it a second time.
        return OrderPull()

    def _order_ids(self, where: str) -> list[str]:
        rows = self.db.connection().execute(
            f"SELECT dsco_order_id FROM orders WHERE {where} ORDER BY dsco_order_id"
        )
        return [r[0] for r in rows]

    def step(self) -> None:
        """One round: poll, act on a few orders, send what is due."""
        f = self.figures
        f.steps += 1
        try:
            f.events += self.stream.poll().events
        except DscoError:
            f.dsco_errors += 1
        action = self.rng.random()
        try:
            if action < 0.3:
                self._acknowledge()
            elif action < 0.45:
                self._cancel()
            elif action < 0.75:
                self._ship()
            elif action < 0.9:
                self._invoice()
            else:
                self._push_inventory()
        except UserFacingError:
            # Expected refusals (nothing left to ship, a push DSCO did not confirm in time):
            # the user would read the message; the session just moves on.
            f.refused_locally += 1
        except DscoError:
            f.dsco_errors += 1
        self.sender.send_due()

    def _acknowledge(self) -> None:
        ids = self._order_ids("lifecycle = 'created'")
        if ids:
            picked = self.rng.sample(ids, min(len(ids), 5))
            self.figures.acknowledged += len(self.actions.acknowledge(picked).queued)

    def _cancel(self) -> None:
        ids = self._order_ids("lifecycle IN ('created', 'acknowledged')")
        if not ids:
            return
        order = self.actions_repo_get(self.rng.choice(ids))
        for line in order.lines if order else ():
            left = line.quantity - (line.cancelled_quantity or 0) - (line.shipped_quantity or 0)
            if left > 0 and order is not None:
                code = self.rng.choice(["CXSS", "CXSN", "CXSD"])
                self.actions.cancel_lines(
                    order.dsco_order_id, [CancelLine(line.line_number, line.sku, 1, code)]
                )
                self.figures.cancelled += 1
                return

    def actions_repo_get(self, order_id: str) -> Any:
        from dsco_desktop.store.orders import OrderRepository

        return OrderRepository(self.db).get(order_id)

    def _ship(self) -> None:
        ids = self._order_ids("lifecycle = 'acknowledged'")
        if not ids:
            return
        order_id = self.rng.choice(ids)
        form = self.shipping.form(order_id)
        quantities = {line.key: line.remaining for line in form.lines if line.remaining > 0}
        if not quantities:
            return
        plan = PackagePlan(
            carrier="UPS",
            service_level_code="UPCG",
            tracking_number=next_ups_tracking(),
            ship_date=date.today(),
            weight=1.0,
            warehouse_code=form.default_warehouse or "WH01",
            quantities=quantities,
        )
        self.shipping.submit(order_id, [plan])
        self.figures.shipped += 1

    def _invoice(self) -> None:
        ids = self._order_ids(
            "dsco_order_id IN (SELECT dsco_order_id FROM packages) "
            "AND dsco_order_id NOT IN (SELECT dsco_order_id FROM invoices)"
        )
        if ids:
            context = self.invoicing.draft(self.rng.choice(ids))
            self.invoicing.submit(context)
            self.figures.invoiced += 1

    def _push_inventory(self) -> None:
        skus = self.sandbox.state.all_skus()[:20]
        sku = self.rng.choice(skus)
        if not self.sync.repo.rows(keys=[(sku, "WH01")]):
            self.sync.refresh_from_dsco([sku])
        self.sync.editor.stage({(sku, "WH01"): LevelValues(self.rng.randint(20, 200))})
        self.sync.push(allow_unpulled=True, poll_s=0.05, outbox_wait_s=5, follow_timeout_s=5)
        self.figures.inventory_pushes += 1

    # -- the end of the day ---------------------------------------------------------------

    def settle(self, timeout_s: float = 60.0) -> None:
        """Faults off, generator off; send everything and read the stream until caught up."""
        self.sandbox.set_order_rate(0)
        self.sandbox.set_faults(error_rate=0.0, latency_s=0.0, duplicate_event_rate=0.0)
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise AssertionError("the session did not settle in time")
            self.sender.send_due()
            events = self.stream.poll().events
            due = self.sender.next_due_at()
            busy = due is not None and due <= time.time() + 1.0
            idle = events == 0 and not busy and self.stream.backfilled
            quiet = quiet + 1 if idle else 0
            time.sleep(0.05)
        counts = Counter(r[0] for r in self.db.connection().execute("SELECT state FROM outbox"))
        f = self.figures
        f.outbox_sent = counts.get(OutboxState.SENT, 0)
        f.outbox_failed = counts.get(OutboxState.FAILED, 0)
        f.outbox_rejected = counts.get(OutboxState.REJECTED, 0)
        f.orders = len(self._order_ids("1"))

    def reconcile(self) -> list[str]:
        """Every way the store and the sandbox disagree, as sentences; [] when they agree."""
        problems: list[str] = []
        conn = self.db.connection()
        local = [r[0] for r in conn.execute("SELECT dsco_order_id FROM orders")]
        remote = self.sandbox.state.order_page_keys({"includeTestOrders": True})
        dupes = [i for i, n in Counter(local).items() if n > 1]
        if dupes:
            problems.append(f"orders stored twice: {dupes[:5]}")
        missing = sorted(set(remote) - set(local))
        extra = sorted(set(local) - set(remote))
        if missing:
            problems.append(f"{len(missing)} sandbox order(s) missing locally: {missing[:5]}")
        if extra:
            problems.append(f"{len(extra)} local order(s) unknown to the sandbox: {extra[:5]}")
        states = Counter(r[0] for r in conn.execute("SELECT state FROM outbox"))
        for state in (OutboxState.PENDING, OutboxState.SENDING):
            if states.get(state):
                problems.append(f"{states[state]} outbox row(s) still {state}")
        remote_orders = {o["dscoOrderId"]: o for o in self.sandbox.state.orders_by_ids(remote)}
        tracking = Counter(
            p.get("trackingNumber") for o in remote_orders.values() for p in o.get("packages") or []
        )
        twice = [t for t, n in tracking.items() if t and n > 1]
        if twice:
            problems.append(f"tracking numbers applied twice at DSCO: {twice[:5]}")
        sent_tracking = [
            r[0]
            for r in conn.execute(
                "SELECT p.tracking_number FROM shipment_packages p "
                "JOIN shipments s ON s.id = p.shipment_id "
                "JOIN outbox o ON o.id = s.outbox_id WHERE o.state = 'sent'"
            )
        ]
        lost = [t for t in sent_tracking if tracking.get(t, 0) != 1]
        if lost:
            problems.append(f"sent shipments not exactly once at DSCO: {lost[:5]}")
        for order_id, lifecycle in conn.execute("SELECT dsco_order_id, lifecycle FROM orders"):
            theirs = remote_orders.get(order_id, {}).get("dscoLifecycle")
            if theirs != lifecycle:
                problems.append(f"order {order_id} is {lifecycle} here, {theirs} at DSCO")
                break
        return problems
