"""Startup benchmark: time to first window and peak memory of `dsco-desktop --sandbox`,
against a bare PySide6 QMainWindow, each in its own subprocess in the same run.

Prints one JSON line. Run with `uv run python benchmarks/startup.py [--runs N]`.
Both children run offscreen, print one JSON line once their first window is shown (with their
own peak RSS), and quit; the wall time is measured here, from spawn to that line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BARE_WINDOW = """
import json, resource, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1200, 800)
window.show()
def done():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"event": "first_window", "peak_rss_kb": peak}), flush=True)
    app.quit()
QTimer.singleShot(0, done)
app.exec()
"""


def _run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    first_window_s: float | None = None
    report: dict[str, Any] = {}
    for line in process.stdout:
        if '"first_window"' in line:
            first_window_s = time.perf_counter() - started
            report = json.loads(line)
    process.wait(timeout=120)
    if first_window_s is None:
        raise RuntimeError(f"{command} never showed a window: {process.stderr.read()}")  # type: ignore[union-attr]
    return {
        "first_window_s": first_window_s,
        "peak_rss_mb": (report.get("peak_rss_kb") or 0) / 1024,
        "exit_code": process.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DSCO_DESKTOP_QUIT_AFTER_SHOW": "1"}
    app_runs, bare_runs = [], []
    with tempfile.TemporaryDirectory() as data:
        for run in range(args.runs):
            # A fresh data folder per run: the first start (migrations, sandbox seed) is timed.
            app_env = {**env, "DSCO_DESKTOP_DATA_DIR": str(Path(data) / f"run{run}")}
            app_runs.append(_run([sys.executable, "-m", "dsco_desktop.app", "--sandbox"], app_env))
            bare_runs.append(_run([sys.executable, "-c", BARE_WINDOW], env))

    def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
        return {
            "first_window_s": round(statistics.median(r["first_window_s"] for r in runs), 3),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        }

    app, bare = summary(app_runs), summary(bare_runs)
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": args.runs,
                "app": app,
                "bare_pyside6": bare,
                "overhead_s": round(app["first_window_s"] - bare["first_window_s"], 3),
                "overhead_mb": round(app["peak_rss_mb"] - bare["peak_rss_mb"], 1),
                "app_exit_codes": sorted({r["exit_code"] for r in app_runs}),
            }
        )
    )


if __name__ == "__main__":
    main()
