"""Where the UI tests render their screens for a person to look at (`DSCO_SHOTS_DIR`, by
default /tmp/shots)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SHOTS = Path(os.environ.get("DSCO_SHOTS_DIR", "/tmp/shots"))


def shot(widget: Any, name: str) -> None:
    """Save what `widget` shows now as <SHOTS>/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))
