"""Options for the end-to-end fault suite: how long the soak runs, and where figures go.

`uv run pytest tests/e2e --soak-seconds 300` runs the long mode; CI uses the short default.
Each e2e test that measures something writes one JSON line to `--fault-figures` (if given)
so docs/faults.md can quote a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dsco-faults")
    group.addoption(
        "--soak-seconds",
        type=float,
        default=12.0,
        help="How long the fault soak drives the app (default 12 s; the long mode uses minutes).",
    )
    group.addoption(
        "--fault-figures",
        default="",
        help="Append each e2e test's figures as a JSON line to this file.",
    )


@pytest.fixture
def soak_seconds(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("--soak-seconds"))


@pytest.fixture
def record_figures(request: pytest.FixtureRequest) -> Any:
    """Print a test's figures (shown with -s) and append them to --fault-figures if set."""
    target = str(request.config.getoption("--fault-figures") or "")

    def record(name: str, figures: dict[str, Any]) -> None:
        line = json.dumps({"test": name, **figures}, sort_keys=True)
        print(line)
        if target:
            with Path(target).open("a", encoding="utf-8") as out:
                out.write(line + "\n")

    return record
