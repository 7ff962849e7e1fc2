"""Benchmark: the order inbox end to end, against baselines measured in the same run.

1. Ingestion: 20,000 order events in the sandbox, read by the stream thread (`StreamWorker` +
   `OrderStreamService`, pages of 1,000) into SQLite and shown by the Orders tab's model; the
   GUI thread's longest stall meanwhile (a 5 ms timer's worst lateness). Baseline: the naive
   poller, one transaction and one checkpoint PUT per event, on the first 2,000 of the same
   events (its rate is what matters; the whole run would take minutes).
2. The inbox with 200,000 orders stored: time to open (ids in display order + counts + the first
   page of rows), and to filter (status "late", and a search text).

Prints ONE JSON line.   uv run python benchmarks/order_stream.py
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.sandbox import seed
from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer
from dsco_desktop.services.order_stream import STREAM_QUERY, OrderStreamService
from dsco_desktop.store._util import normalize_timestamp, now_iso
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.streams import StreamCheckpointRepository
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.orders_tab import OrdersTab
from dsco_desktop.ui.stream_worker import StreamWorker

EVENTS = 20_000
BASELINE_EVENTS = 2_000
STORED_ORDERS = 200_000


def _emit_orders(server: SandboxServer, count: int) -> None:
    """`count` order-create events in every stream, straight into the sandbox's state."""
    state = server.state
    rng = random.Random(3)
    skus = state.all_skus()
    template = state.orders_by_ids(state.order_page_keys({}))[0]
    with state.tx():
        for n in range(count):
            order = json.loads(json.dumps(template))
            order["dscoOrderId"] = str(5_000_000 + n)
            order["poNumber"] = f"PB{n:08d}"
            order["shipping"] = seed.buyer(rng)
            order["lineItems"][0]["sku"] = rng.choice(skus)
            state.emit("order", order["dscoOrderId"], order, ["create"])


def _client(server: SandboxServer) -> DscoClient:
    return DscoClient(server.base_url, server.client_id, server.client_secret)


def ingest(server: SandboxServer, tmp: Path) -> dict[str, Any]:
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    db = Database(tmp / "ingest.sqlite3")
    jobs = JobRunner()
    tab = OrdersTab(db, jobs, MessageBridge())
    client = _client(server)
    holder: dict[str, OrderStreamService] = {}

    def make(on_batch: Any) -> OrderStreamService:
        if "s" not in holder:
            holder["s"] = OrderStreamService(db, client, backfill_days=0, on_batch=on_batch)
        return holder["s"]

    worker = StreamWorker(make, interval_s=lambda: 0.2, on_exit=db.close)
    worker.batch_applied.connect(tab.notify_batch)
    # Create the stream, then the events, then start timing.
    make(lambda _b: None).ensure_stream()
    holder.clear()
    _emit_orders(server, EVENTS)

    stall = {"worst_ms": 0.0}
    clock = QElapsedTimer()
    clock.start()
    tick = QTimer()
    tick.setInterval(5)
    last = {"t": clock.elapsed()}

    def on_tick() -> None:
        now = clock.elapsed()
        stall["worst_ms"] = max(stall["worst_ms"], now - last["t"] - 5)
        last["t"] = now

    tick.timeout.connect(on_tick)
    tick.start()
    started = time.perf_counter()
    worker.start()
    deadline = started + 300
    while tab.model.rowCount() < EVENTS and time.perf_counter() < deadline:
        qapp.processEvents()
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    tick.stop()
    worker.stop()
    jobs.shutdown()
    client.close()
    db.close_all()
    return {
        "events": EVENTS,
        "shown_in_model": tab.model.rowCount(),
        "ingest_s": round(elapsed, 3),
        "events_per_s": round(EVENTS / elapsed, 1),
        "gui_longest_stall_ms": round(stall["worst_ms"], 1),
    }


def naive_baseline(server: SandboxServer, tmp: Path) -> dict[str, Any]:
    """One transaction and one checkpoint PUT per event (what the batching replaces)."""
    db = Database(tmp / "naive.sqlite3")
    client = _client(server)
    stream = client.create_stream("order", query=STREAM_QUERY, description="naive baseline")
    assert stream.id
    _emit_orders(server, BASELINE_EVENTS)
    repo = OrderRepository(db)
    checkpoints = StreamCheckpointRepository(db)
    position = stream.partitions[0].position or ""
    done = 0
    started = time.perf_counter()
    while done < BASELINE_EVENTS:
        page = client.get_stream_events(stream.id, 0, position)
        if not page.events:
            break
        for event in page.events:
            with db.transaction() as tx:
                repo.upsert_many([event.payload], conn=tx)
                checkpoints.set(stream.id, 0, event.id or "", conn=tx)
            client.checkpoint_stream(stream.id, 0, event.id or "")
            position = event.id or position
            done += 1
    elapsed = time.perf_counter() - started
    client.close()
    db.close_all()
    return {"events": done, "events_per_s": round(done / elapsed, 1)}


def inbox_at_scale(tmp: Path) -> dict[str, Any]:
    db = Database(tmp / "big.sqlite3")
    repo = OrderRepository(db)
    rng = random.Random(5)
    now = time.time()
    lifecycles = ["created", "acknowledged", "acknowledged", "completed", "completed"]

    def iso(offset_h: float) -> str:
        return (
            normalize_timestamp(
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + offset_h * 3600))
            )
            or ""
        )

    fill_started = time.perf_counter()
    for start in range(0, STORED_ORDERS, 10_000):
        batch = []
        for n in range(start, start + 10_000):
            lifecycle = rng.choice(lifecycles)
            qty = rng.choice([1, 1, 2])
            shipped = qty if lifecycle == "completed" else 0
            batch.append(
                {
                    "dscoOrderId": str(10_000_000 + n),
                    "poNumber": f"PM{n:08d}",
                    "channel": "Poshmark",
                    "dscoTradingPartnerName": "Poshmark",
                    "dscoLifecycle": lifecycle,
                    "dscoLastUpdate": iso(-n / 100),
                    "consumerOrderDate": iso(-n / 100),
                    "acknowledgeByDate": iso(-n / 100 + 24),
                    "shipByDate": iso(-n / 100 + 72),
                    "orderTotalAmount": 40.0,
                    "shipping": {"name": f"{rng.choice(seed.FIRST_NAMES)} {n}"},
                    "lineItems": [
                        {
                            "lineNumber": 1,
                            "sku": f"SKU-{n % 5000}",
                            "quantity": qty,
                            "shippedQuantity": shipped,
                        }
                    ],
                }
            )
        repo.upsert_many(batch)
    fill_s = time.perf_counter() - fill_started

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    from dsco_desktop.ui.order_model import OrderTableModel

    model = OrderTableModel(repo.summaries)
    started = time.perf_counter()
    moment = now_iso()
    ids = repo.list_ids(now=moment)
    counts = repo.status_counts(now=moment)
    model.set_ids(ids)
    for row in range(40):  # what a window shows first
        model.data(model.index(row, 0))
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    late = repo.list_ids(status="late", now=moment)
    model.set_ids(late)
    filter_status_s = time.perf_counter() - started
    started = time.perf_counter()
    found = repo.list_ids(text="sku-4242", now=moment)
    model.set_ids(found)
    model.data(model.index(0, 0))
    search_s = time.perf_counter() - started
    del qapp
    db.close_all()
    return {
        "orders": counts.total,
        "fill_s": round(fill_s, 2),
        "open_s": round(open_s, 3),
        "filter_status_s": round(filter_status_s, 3),
        "filter_status_rows": len(late),
        "search_s": round(search_s, 3),
        "search_rows": len(found),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        config = SandboxConfig(data_dir=base / "sandbox", rate_limits=False, seed=1)
        with SandboxServer(config) as server:
            batched = ingest(server, base)
            naive = naive_baseline(server, base)
        inbox = inbox_at_scale(base)
    print(
        json.dumps(
            {
                "benchmark": "order_stream",
                "ingest": batched,
                "baseline_event_by_event": naive,
                "speedup": round(batched["events_per_s"] / max(naive["events_per_s"], 0.001), 1),
                "inbox_200k": inbox,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
