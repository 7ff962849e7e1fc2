"""Benchmark: the invoicing lists on a big shop, against the order inbox's query as baseline.

Stores 50,000 shipped orders (one package each) and invoices for half of them, then times:
the "shipped, not invoiced" list (first 2,000 rows), a draft for one order (what "Create
invoice" waits for), and the review of that draft. The baseline is the order inbox's id query
over the same database in the same run (machines are noisy; compare ratios, not absolutes).
Prints ONE JSON line.

    uv run python benchmarks/invoicing.py
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from dsco_desktop.services.invoicing import InvoicingService
from dsco_desktop.store.db import Database
from dsco_desktop.store.invoices import InvoiceRepository
from dsco_desktop.store.orders import OrderRepository

ORDERS = 50_000
ROUNDS = 5


def _order(n: int) -> dict[str, Any]:
    return {
        "dscoOrderId": str(1_000_000 + n),
        "poNumber": f"PO-{n:06d}",
        "dscoLastUpdate": "2025-11-14T10:00:00Z",
        "dscoLifecycle": "completed",
        "shipping": {"name": f"Customer {n}"},
        "lineItems": [
            {
                "lineNumber": 1,
                "sku": f"SKU-{n % 997}",
                "quantity": 1,
                "shippedQuantity": 1,
                "expectedCost": 12.5,
            },
        ],
        "packages": [
            {
                "trackingNumber": f"1Z{n:012d}",
                "shipDate": f"2025-11-{1 + n % 28:02d}T09:00:00Z",
                "items": [{"lineNumber": 1, "quantity": 1}],
            }
        ],
    }


def _best(fn: Any) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.sqlite3")
        orders = OrderRepository(db)
        orders.upsert_many(_order(n) for n in range(ORDERS))
        invoices = InvoiceRepository(db)
        with db.transaction() as tx:
            for n in range(0, ORDERS, 2):
                order_id = str(1_000_000 + n)
                invoices.add(
                    {"invoiceId": f"INV-{n}", "dscoOrderId": order_id, "totalAmount": 12.5},
                    lines=[
                        {
                            "lineNumber": 1,
                            "quantity": 1,
                            "unitPrice": 12.5,
                            "lineKey": "line:1",
                            "trackingNumber": f"1Z{n:012d}",
                        }
                    ],
                    ship_date=None,
                    outbox_id=None,
                    conn=tx,
                )
        service = InvoicingService(db, today=lambda: date(2025, 11, 14))
        first = service.uninvoiced()
        target = first[0].dsco_order_id
        baseline = _best(orders.list_ids)
        uninvoiced = _best(service.uninvoiced)
        day = _best(lambda: service.uninvoiced(shipped_on=date(2025, 11, 3)))
        draft = _best(lambda: service.draft(target, invoice_id="X"))
        context = service.draft(target, invoice_id="X")
        review = _best(lambda: service.review(context))
        db.close_all()
    print(
        json.dumps(
            {
                "orders": ORDERS,
                "uninvoiced_rows": len(first),
                "uninvoiced_list_s": round(uninvoiced, 4),
                "uninvoiced_one_day_s": round(day, 4),
                "draft_s": round(draft, 5),
                "review_s": round(review, 5),
                "baseline_inbox_ids_s": round(baseline, 4),
                "uninvoiced_vs_baseline": round(uninvoiced / baseline, 2) if baseline else None,
            }
        )
    )


if __name__ == "__main__":
    main()
