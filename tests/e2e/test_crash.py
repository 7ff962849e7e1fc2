"""Fifty SIGKILLs of the app's background work: nothing lost, nothing done twice, the import
resumes.

One preloaded parent (crash_zygote.py) forks the app's worker loop again and again: order
stream, outbox and a 5,000-row catalog import, all on one database, against one sandbox that
keeps receiving retailer orders. Between runs the "user" acknowledges and ships what arrived.
Each run is killed from outside at a random moment, or dies by itself at the worst points
(orders committed but DSCO's position not saved; DSCO applied a shipment the outbox has not
recorded; half the file validated; a batch queued and not sent). After every restart the
store must still be sound (each order once, no outbox row lost, no import shown half-read);
at the end the store and the sandbox must agree exactly and the import must have sent every
SKU once.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dsco_desktop.domain.shipping import PackagePlan
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.order_actions import OrderActions
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.services.shipping import ShippingService
from dsco_desktop.store.catalog_imports import CatalogImportRepository
from dsco_desktop.store.db import Database
from tests.e2e.session import next_ups_tracking
from tests.zygote import Zygote

ZYGOTE = Path(__file__).with_name("crash_zygote.py")
KILLS = 50
CATALOG_ROWS = 5000
# After the first run dies half-way through validating the file, the others take turns.
DIE_POINTS = ("stream-before-checkpoint", "outbox-after-answer", "import-after-queue")


class CrashZygote(Zygote):
    """This test's preloaded parent (see tests/zygote.py)."""

    def __init__(self, sandbox: Any) -> None:
        super().__init__(ZYGOTE, sandbox)

    def run(self, database: Path, catalog: Path, point: str, n: int) -> int:
        return self.started(f"run {database} {catalog} {point} {n}")


def write_catalog(path: Path) -> Path:
    lines = ["SKU,Title,Product Status,Cost,Quantity"]
    lines += [
        f"CR-{n:05d},Crash test item {n},active,{n % 90 + 1}.50,{n % 7}"
        for n in range(CATALOG_ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def new_retailer_order(client: DscoClient, sku: str, serial: int) -> None:
    client.create_order(
        {
            "poNumber": f"PO-KILL-{serial:04d}-{time.time_ns() % 10**8}",
            "shipping": {"name": "Ada Crash", "address": ["7 Kill St"], "city": "Austin",
                         "region": "TX", "postal": "78704"},
            "lineItems": [{"sku": sku, "quantity": 1, "lineNumber": 1}],
        }
    )  # fmt: skip


def act_like_a_user(db: Database, rng: random.Random) -> int:
    """Acknowledge what arrived and ship one acknowledged order: the parent's share."""
    conn = db.connection()
    created = [
        r[0] for r in conn.execute("SELECT dsco_order_id FROM orders WHERE lifecycle = 'created'")
    ]
    OrderActions(db).acknowledge(created[:20])
    acked = [
        r[0]
        for r in conn.execute(
            "SELECT dsco_order_id FROM orders WHERE lifecycle = 'acknowledged' "
            "AND dsco_order_id NOT IN (SELECT dsco_order_id FROM shipments)"
        )
    ]
    if not acked:
        return 0
    shipping = ShippingService(db)
    order_id = rng.choice(acked)
    form = shipping.form(order_id)
    quantities = {line.key: line.remaining for line in form.lines if line.remaining > 0}
    if not quantities:
        return 0
    plan = PackagePlan(
        carrier="UPS", service_level_code="UPCG", tracking_number=next_ups_tracking(),
        ship_date=date.today(), weight=1.0, warehouse_code=form.default_warehouse or "WH01",
        quantities=quantities,
    )  # fmt: skip
    try:
        shipping.submit(order_id, [plan])
    except UserFacingError:
        return 0
    return 1


def check_sound(database: Path) -> None:
    """What must hold after any crash, before anything is repaired."""
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Every shipment and import batch has its outbox row: nothing queued was lost.
        orphans = conn.execute(
            "SELECT COUNT(*) FROM shipments s LEFT JOIN outbox o ON o.id = s.outbox_id "
            "WHERE o.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0, f"{orphans} shipment(s) lost their outbox row"
        queued = conn.execute(
            "SELECT COUNT(*) FROM catalog_import_rows r LEFT JOIN outbox o ON o.id = r.outbox_id "
            "WHERE r.push_state = 'queued' AND o.id IS NULL"
        ).fetchone()[0]
        assert queued == 0, f"{queued} queued import row(s) lost their outbox row"
    finally:
        conn.close()


@pytest.mark.e2e
@pytest.mark.slow
def test_fifty_sigkills_lose_nothing_and_the_import_resumes(
    sandbox_factory: Callable[..., Any],
    tmp_path: Path,
    record_figures: Callable[[str, dict[str, Any]], None],
) -> None:
    sandbox = sandbox_factory(rate_limits=False, async_delay_s=0.02, seed=50)
    client = DscoClient(sandbox.base_url, sandbox.client_id, sandbox.client_secret)
    before = set(sandbox.state.order_page_keys({"includeTestOrders": True}))
    skus = sandbox.state.all_skus()
    database = tmp_path / "app.sqlite3"
    db = Database(database)
    catalog = write_catalog(tmp_path / "catalog.csv")
    # The stream exists before the first retailer order, as once the app has been set up.
    OrderStreamService(db, client, backfill_days=0).ensure_stream()
    rng = random.Random(50)
    zygote = CrashZygote(sandbox)
    kills = Counter[str]()
    shipped = 0
    try:
        run = 0
        while sum(v for k, v in kills.items() if k != "finished") < KILLS:
            run += 1
            assert run <= 2 * KILLS, f"only {dict(kills)} after {run} runs"
            for _ in range(rng.randint(0, 3)):
                new_retailer_order(client, rng.choice(skus), run)
            shipped += act_like_a_user(db, rng)
            if run == 1:
                point = "import-mid-validate"
            else:
                point = DIE_POINTS[(run // 2) % len(DIE_POINTS)] if run % 2 else "none"
            pid = zygote.run(database, catalog, point, rng.randint(1, 2) if run > 1 else 1)
            if point == "none":
                time.sleep(rng.uniform(0.02, 0.4))  # an outside kill at a random moment
                os.kill(pid, signal.SIGKILL)
            code = zygote.wait(pid)
            assert code in (0, -signal.SIGKILL), f"run {run} ({point}) exited {code}"
            kills[point if code else "finished"] += 1
            check_sound(database)
        # The last run is left alone: it must finish everything by itself.
        shipped += act_like_a_user(db, rng)
        final = zygote.run(database, catalog, "none", 0)
        deadline = time.monotonic() + 90
        while True:
            # Catching up is done when the worker exits 0; a silent worker fails the test.
            code = zygote.wait(final)
            assert code == 0, f"the last worker exited {code}"
            pending = (
                db.connection()
                .execute("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
                .fetchone()[0]
            )
            if not pending or time.monotonic() > deadline:
                break
            final = zygote.run(database, catalog, "none", 0)
    finally:
        zygote.close()
        client.close()

    conn = db.connection()
    local = Counter(r[0] for r in conn.execute("SELECT dsco_order_id FROM orders"))
    remote = set(sandbox.state.order_page_keys({"includeTestOrders": True})) - before
    assert not [i for i, n in local.items() if n > 1]
    assert set(local) == remote, "the store and the sandbox disagree about which orders exist"
    states = Counter(r[0] for r in conn.execute("SELECT state FROM outbox"))
    assert set(states) <= {"sent", "failed", "rejected"}, states
    assert not states.get("failed") and not states.get("rejected"), states
    packages = Counter(
        p.get("trackingNumber")
        for o in sandbox.state.orders_by_ids(sorted(remote))
        for p in o.get("packages") or []
    )
    ours = [r[0] for r in conn.execute("SELECT tracking_number FROM shipment_packages")]
    assert ours and all(packages[t] == 1 for t in ours), "a shipment was lost or applied twice"
    # The import resumed to the end: one import, every row sent and accepted, DSCO has them.
    imports = [r for r in CatalogImportRepository(db).recent(50) if r.file_path == str(catalog)]
    assert len(imports) == 1 and imports[0].state == "done", imports
    # Imports killed mid-validation were discarded by the next run, rows and all.
    leftovers = conn.execute(
        "SELECT COUNT(*) FROM catalog_import_rows WHERE import_id != ?", (imports[0].id,)
    ).fetchone()[0]
    assert leftovers == 0, f"{leftovers} rows of interrupted imports were left behind"
    push = Counter(
        r[0]
        for r in conn.execute(
            "SELECT push_state FROM catalog_import_rows WHERE import_id = ?", (imports[0].id,)
        )
    )
    assert sum(push.values()) == CATALOG_ROWS and set(push) == {"accepted"}, push
    for n in rng.sample(range(CATALOG_ROWS), 20):
        [item] = sandbox.state.find_items("sku", f"CR-{n:05d}", "catalog")
        assert item["title"] == f"Crash test item {n}"
    record_figures(
        "crash",
        {"kills": sum(v for k, v in kills.items() if k != "finished"), "by_point": dict(kills),
         "orders": len(remote), "shipments": shipped, "catalog_rows": CATALOG_ROWS},
    )  # fmt: skip
    db.close_all()
