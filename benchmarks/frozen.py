"""Frozen-app benchmark: bundle size, and time to first window of the frozen app against the
source app, measured in the same run.

    uv run python benchmarks/frozen.py [--runs N] [--build]

Uses the one-dir build in packaging/dist (made by `packaging/build.py`; `--build` makes it
first when it is missing). Each start is a fresh subprocess on a fresh data folder with
`--sandbox`, offscreen, with DSCO_DESKTOP_QUIT_AFTER_SHOW=1 so the app prints a line once its
window is shown and quits; the wall time is from spawn to that line. The frozen app runs in a
clean environment (no virtualenv, a fresh HOME), like a shop owner's PC. Prints one JSON line;
targets: bundle under 150 MB, frozen start within 1.5x of the source app's.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

import build  # noqa: E402  (packaging/build.py: where the bundle is, the clean environment)

TARGET_MB = 150.0
TARGET_RATIO = 1.5


def first_window_s(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    shown: float | None = None
    for line in process.stdout:
        if '"first_window"' in line and shown is None:
            shown = time.perf_counter() - started
    process.wait(timeout=120)
    if shown is None:
        raise RuntimeError(f"{command[0]} never showed a window: {process.stderr.read()[-2000:]}")
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", action="store_true", help="build the app if it is missing")
    args = parser.parse_args()
    folder = build.app_dir()
    exe = build.executable(folder)
    if not exe.exists():
        if not args.build:
            raise SystemExit(f"No frozen app at {folder}: run packaging/build.py or pass --build")
        folder = build.freeze()
    size_mb = build.folder_size_mb(folder)
    files = sum(1 for p in folder.rglob("*") if p.is_file())

    quit_after_show = {"QT_QPA_PLATFORM": "offscreen", "DSCO_DESKTOP_QUIT_AFTER_SHOW": "1"}
    frozen_runs: list[float] = []
    source_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dsco-frozen-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        frozen_env = {**build.clean_environment(home), **quit_after_show}
        source_env = {**os.environ, **quit_after_show}
        # One unmeasured start each: the first read of the files from disk is not the app's.
        for run in range(args.runs + 1):
            data = Path(tmp) / f"run{run}"
            frozen = first_window_s(
                [str(exe), "--sandbox", "--data-dir", str(data / "frozen")], frozen_env
            )
            source = first_window_s(
                [
                    sys.executable,
                    "-m",
                    "dsco_desktop",
                    "--sandbox",
                    "--data-dir",
                    str(data / "source"),
                ],
                source_env,
            )
            if run:
                frozen_runs.append(frozen)
                source_runs.append(source)

    frozen_s = statistics.median(frozen_runs)
    source_s = statistics.median(source_runs)
    ratio = frozen_s / source_s
    report: dict[str, Any] = {
        "benchmark": "frozen",
        "runs": args.runs,
        "platform": sys.platform,
        "bundle_mb": round(size_mb, 1),
        "bundle_files": files,
        "bundle_target_mb": TARGET_MB,
        "frozen_first_window_s": round(frozen_s, 3),
        "source_first_window_s": round(source_s, 3),
        "frozen_vs_source": round(ratio, 2),
        "ratio_target": TARGET_RATIO,
        "within_targets": size_mb < TARGET_MB and ratio <= TARGET_RATIO,
    }
    for installer in sorted(build.DIST.glob("*.tar.gz")) + sorted(build.DIST.glob("*.deb")):
        report[f"{installer.suffix.lstrip('.')}_mb"] = round(installer.stat().st_size / 1048576, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
