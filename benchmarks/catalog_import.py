"""Benchmark: read, validate and store a 100,000-row, 15-column catalog workbook.

Ours: `CatalogImportService.validate` (python-calamine read, rules per cell, diff against the
store, rows stored in chunks of one transaction each), run as a job on the app's job helper while
a GUI-thread timer measures the longest stall of the event loop. Baseline, in the same run: the
plain approach (openpyxl read-only, one pydantic model validation and one commit per row) on a
10,000-row slice. Prints one JSON line: seconds, rows per second, peak memory, the speed-up, and
the longest GUI stall. Targets: >= 10,000 rows/s, >= 5x the plain approach, no stall > 100 ms.

    uv run python benchmarks/catalog_import.py [--rows 100000] [--slice 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pydantic import BaseModel, Field

HEADERS = [
    "Item SKU", "Product Name", "Status", "UPC", "Cost", "MSRP", "Colour", "Size", "Image 1",
    "Category", "Weight", "Weight Unit", "Brand", "Description", "Fabric",
]  # fmt: skip


def _upc(n: int) -> str:
    body = f"{n:011d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _row(n: int) -> list[object]:
    return [
        f"SKU{n:07d}", f"Organic cotton tee {n}", "active", _upc(n + 1), 7.5 + n % 50,
        19.99 + n % 50, ("Red", "Blue", "Green")[n % 3], ("S", "M", "L")[n % 3],
        f"https://img.example.com/{n}.jpg", "Apparel||Tops||Tees", 0.4, "lb", "Acme",
        "Soft organic cotton tee, regular fit.", ("cotton", "linen")[n % 2],
    ]  # fmt: skip


def _cell(ref: str, value: object) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def write_workbook(path: Path, rows: int) -> None:
    """A real .xlsx written directly (openpyxl needs ~50 s for this many cells)."""
    letters = [chr(65 + i) for i in range(len(HEADERS))]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    for index, values in enumerate([HEADERS, *(_row(n) for n in range(rows))], start=1):
        cells = "".join(_cell(f"{c}{index}", v) for c, v in zip(letters, values, strict=True))
        parts.append(f'<row r="{index}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="'
            f'{ns}/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/'
            f'main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet '
            'name="Items" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", "".join(parts))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(path: Path, data_dir: Path) -> dict[str, float]:
    """Validate through the job helper, timing the GUI thread's longest gap between ticks."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from dsco_desktop.services.catalog_import import CatalogImportService
    from dsco_desktop.store.db import Database
    from dsco_desktop.ui.jobs import JobContext, JobRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    db = Database(data_dir / "ours.sqlite3")
    service = CatalogImportService(db)
    runner = JobRunner()
    clock = QElapsedTimer()
    worst = [0.0]
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        worst[0] = max(worst[0], clock.restart() / 1000)

    timer.timeout.connect(tick)
    outcome: dict[str, object] = {}

    def work(ctx: JobContext) -> object:
        preview = service.preview(path)
        return service.validate(preview, progress=ctx.progress)

    started = time.perf_counter()
    job = runner.submit(work, name="benchmark import", on_success=lambda r: outcome.update(r=r))
    job.failed.connect(lambda e: outcome.update(error=e))
    job.finished.connect(app.quit)
    clock.start()
    timer.start()
    app.exec()
    timer.stop()
    seconds = time.perf_counter() - started
    runner.shutdown()
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    summary = outcome["r"]
    rows = summary.counts.total  # type: ignore[attr-defined]
    db.close_all()
    return {"rows": rows, "seconds": seconds, "gui_max_stall_ms": worst[0] * 1000}


class PlainItem(BaseModel):
    """The plain approach's one-model-per-row validation."""

    sku: str = Field(max_length=90)
    title: str
    product_status: str
    upc: str | None = None
    cost: float | None = Field(default=None, ge=0)
    msrp: float | None = Field(default=None, ge=0)
    color: str | None = None
    size: str | None = None
    image: str | None = None
    category: str | None = None
    weight: float | None = None
    weight_units: str | None = None
    brand: str | None = None
    description: str | None = None
    fabric: str | None = None


def run_plain(path: Path, data_dir: Path, limit: int) -> dict[str, float]:
    """openpyxl read-only, one model validation and one commit per row."""
    import openpyxl

    conn = sqlite3.connect(data_dir / "plain.sqlite3")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE items (sku TEXT PRIMARY KEY, data TEXT)")
    names = list(PlainItem.model_fields)
    started = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book["Items"]
    count = 0
    for values in sheet.iter_rows(min_row=2, max_row=limit + 1, values_only=True):
        data = {n: (str(v) if n in ("sku", "upc") and v is not None else v)
                for n, v in zip(names, values, strict=False)}  # fmt: skip
        item = PlainItem.model_validate(data)
        conn.execute(
            "INSERT OR REPLACE INTO items VALUES (?, ?)", (item.sku, item.model_dump_json())
        )
        conn.commit()
        count += 1
    book.close()
    seconds = time.perf_counter() - started
    conn.close()
    return {"rows": count, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--slice", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "catalog.xlsx"
        write_workbook(path, args.rows)
        base_mb = _peak_mb()
        ours = run_ours(path, folder)
        ours_peak = _peak_mb()
        plain = run_plain(path, folder, args.slice)
    ours_rate = ours["rows"] / ours["seconds"]
    plain_rate = plain["rows"] / plain["seconds"]
    print(
        json.dumps(
            {
                "benchmark": "catalog_import",
                "rows": int(ours["rows"]),
                "columns": len(HEADERS),
                "seconds": round(ours["seconds"], 2),
                "rows_per_s": round(ours_rate),
                "peak_rss_mb": round(ours_peak, 1),
                "peak_rss_growth_mb": round(ours_peak - base_mb, 1),
                "gui_max_stall_ms": round(ours["gui_max_stall_ms"], 1),
                "plain_rows": int(plain["rows"]),
                "plain_seconds": round(plain["seconds"], 2),
                "plain_rows_per_s": round(plain_rate),
                "speedup": round(ours_rate / plain_rate, 1),
                "targets_met": ours_rate >= 10_000
                and ours_rate >= 5 * plain_rate
                and ours["gui_max_stall_ms"] <= 100,
            }
        )
    )


if __name__ == "__main__":
    main()
