"""Regression guard for the PySide6 6.12.0 crash on Python 3.11 (see ARCHITECTURE.md).

6.12.0 loses a reference to None on every Qt method that returns nothing; on Python 3.11 the
interpreter aborts ("deallocating None") after a few thousand calls. The pin keeps us on 6.11;
this test fails (by aborting the subprocess) if a release with the bug ever slips back in.
"""

from __future__ import annotations

import os
import subprocess
import sys

import PySide6

SCRIPT = """
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
for i in range(10_000):
    w.setObjectName("w")
    w.resize(10, 10)
print("ok")
"""


def test_ten_thousand_void_qt_calls_do_not_abort() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_pyside_version_is_pinned_below_6_12() -> None:
    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), PySide6.__version__
