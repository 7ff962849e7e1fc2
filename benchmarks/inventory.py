"""Inventory benchmark: the editor with 100,000 SKUs x 2 warehouses, and a 100,000-change push.

Prints one JSON line. Run with `uv run python benchmarks/inventory.py [--skus N]`.

- editor: time to open the Inventory tab (first ids on screen), to filter (low stock), to
  scroll from top to bottom reading the rows on screen, and the process's peak RSS; against a
  plain baseline in the same run: every row loaded into a Python list behind a bare
  QAbstractTableModel, filtered in Python and reset. Each side runs in its own subprocess so
  the peak memory is its own.
- push: stage 100,000 quantity changes (one bulk edit) and push them to a local sandbox (in a
  process of its own, as DSCO is another machine) through the outbox in small batches,
  following every requestId to DSCO's answer (items per second); against the baseline of
  posting the same ItemInventory records straight to /inventory/batch/small, without store,
  outbox or change log.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WAREHOUSES = ("WH01", "WH02")


def _seed_store(path: Path, skus: int) -> None:
    from dsco_desktop.store.db import Database
    from dsco_desktop.store.inventory import InventoryLevel, InventoryRepository

    db = Database(path)
    if InventoryRepository(db).count():
        return
    InventoryRepository(db).upsert_many(
        InventoryLevel(f"SKU-{n:06d}", code, n % 13, buffer=n % 2)
        for n in range(skus)
        for code in WAREHOUSES
    )
    db.close_all()


def _peak_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def editor_child(path: Path, plain: bool) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    if plain:
        return _plain_editor(app, path, time.perf_counter())
    # Imports are start-up cost, measured by benchmarks/startup.py; not counted here.
    from dsco_desktop.domain.settings import AppSettings
    from dsco_desktop.store.db import Database
    from dsco_desktop.ui.inventory_tab import InventoryTab
    from dsco_desktop.ui.jobs import JobRunner

    started = time.perf_counter()

    jobs = JobRunner()
    tab = InventoryTab(
        Database(path),
        jobs,
        client_provider=lambda: None,
        deliver=lambda: None,
        settings=AppSettings,
    )
    tab.resize(1400, 800)
    tab.show()

    def wait_loaded(action: Any) -> None:
        done = []
        tab.loaded.connect(lambda: done.append(1))
        action()
        while not done or not tab.idle:
            app.processEvents()
            time.sleep(0.001)

    wait_loaded(tab.refresh)
    opened = time.perf_counter() - started
    t = time.perf_counter()
    wait_loaded(lambda: tab.low_stock.setChecked(True))
    filtered = time.perf_counter() - t
    shown = tab.model.rowCount()
    wait_loaded(lambda: tab.low_stock.setChecked(False))
    t = time.perf_counter()
    bar = tab.table.verticalScrollBar()
    for step in range(0, bar.maximum() + 1, max(1, bar.maximum() // 200)):
        bar.setValue(step)
        tab.table.viewport().repaint()
    scrolled = time.perf_counter() - t
    jobs.shutdown()
    return {
        "open_s": opened,
        "filter_s": filtered,
        "scroll_s": scrolled,
        "filtered_rows": shown,
        "peak_rss_mb": _peak_kb() / 1024,
    }


def _plain_editor(app: Any, path: Path, started: float) -> dict[str, Any]:
    import sqlite3

    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QTableView

    class Plain(QAbstractTableModel):
        def __init__(self, rows: list[tuple[Any, ...]]) -> None:
            super().__init__()
            self.rows = rows

        def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(self.rows)

        def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else 6

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.rows[index.row()][index.column()])
            return None

    conn = sqlite3.connect(path)
    everything = [
        (sku, wh, q, 0, b, max(0, q - b))
        for sku, wh, q, b in conn.execute(
            "SELECT sku, warehouse_code, quantity, buffer FROM inventory "
            "ORDER BY sku, warehouse_code"
        )
    ]
    model = Plain(everything)
    view = QTableView()
    view.setModel(model)
    view.resize(1400, 800)
    view.show()
    app.processEvents()
    opened = time.perf_counter() - started
    t = time.perf_counter()
    model.beginResetModel()
    model.rows = [r for r in everything if r[5] <= 5]
    model.endResetModel()
    app.processEvents()
    filtered = time.perf_counter() - t
    shown = len(model.rows)
    model.beginResetModel()
    model.rows = everything
    model.endResetModel()
    t = time.perf_counter()
    bar = view.verticalScrollBar()
    for step in range(0, bar.maximum() + 1, max(1, bar.maximum() // 200)):
        bar.setValue(step)
        view.viewport().repaint()
    scrolled = time.perf_counter() - t
    return {
        "open_s": opened,
        "filter_s": filtered,
        "scroll_s": scrolled,
        "filtered_rows": shown,
        "peak_rss_mb": _peak_kb() / 1024,
    }


def _child(path: Path, plain: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--editor-child", str(path)] + (["--plain"] if plain else []),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def push_figures(folder: Path, skus: int) -> dict[str, Any]:
    from dsco_desktop.domain.inventory import BulkOperation, item_payload
    from dsco_desktop.dsco.client import DscoClient
    from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer
    from dsco_desktop.services.inventory_sync import InventorySync, OrderPull, direct_delivery
    from dsco_desktop.store.db import Database

    data = folder / "sandbox"
    server = SandboxServer(SandboxConfig(data_dir=data, async_delay_s=0.0))
    server.start()
    with server.state.tx():
        for n in range(skus):
            server.state.apply_catalog(
                {"sku": f"SKU-{n:06d}", "productStatus": "active", "title": f"Item {n}"},
                emit=False,
            )
    server.stop()
    # DSCO is another machine: the sandbox runs in its own process, so its work does not
    # compete with the app's for this interpreter's GIL (in-process, it slowed the push ~1.5x).
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "dsco_desktop.sandbox", "--port", "0", "--data-dir", str(data),
         "--async-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert sandbox.stdout is not None
        base_url = sandbox.stdout.readline().split()[-1]
        client = DscoClient(base_url, "sandbox-client", "sandbox-secret")
        db_path = folder / "push.sqlite3"
        _seed_store(db_path, skus)
        db = Database(db_path)
        sync = InventorySync(db, client, deliver=direct_delivery(db, client), pull_orders=OrderPull)
        started = time.perf_counter()
        keys = [(f"SKU-{n:06d}", "WH01") for n in range(skus)]
        sync.editor.stage_bulk(keys, BulkOperation.ADD, 3)
        staged = time.perf_counter() - started
        report = sync.push(
            all_changed=False, confirm_delisting=True, poll_s=0.2, follow_timeout_s=600
        )
        total = time.perf_counter() - started
        # Baseline: the same records posted straight to DSCO, nothing stored or followed.
        payloads = [item_payload(f"SKU-{n:06d}", [("WH01", 5), ("WH02", 1)]) for n in range(skus)]
        t = time.perf_counter()
        for start in range(0, len(payloads), 5000):
            client.update_inventory_small_batch(payloads[start : start + 5000])
        plain = time.perf_counter() - t
        client.close()
        return {
            "changes": skus,
            "stage_s": staged,
            "push_total_s": total,
            "items_per_s": skus / total,
            "accepted": report.accepted,
            "batches": report.batches,
            "baseline_post_only_s": plain,
            "baseline_items_per_s": skus / plain,
        }
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--editor-child")
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    if args.editor_child:
        print(json.dumps(editor_child(Path(args.editor_child), args.plain)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "editor.sqlite3"
        _seed_store(path, args.skus)
        editor = _child(path, plain=False)
        plain = _child(path, plain=True)
        push = push_figures(folder, args.skus)
    print(
        json.dumps(
            {
                "benchmark": "inventory",
                "skus": args.skus,
                "rows": args.skus * len(WAREHOUSES),
                "editor": {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in editor.items()
                },
                "editor_plain_baseline": {
                    k: round(v, 3) if isinstance(v, float) else v for k, v in plain.items()
                },
                "push": {k: round(v, 3) if isinstance(v, float) else v for k, v in push.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
