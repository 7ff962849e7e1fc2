"""The app's icon, found where the resources are: beside the package, or inside a frozen bundle.

The icon files are drawn by packaging/make_icons.py and live in resources/icons/. A source
checkout finds them next to the package; the PyInstaller bundle carries them as data under
resources/ in its own folder (sys._MEIPASS).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_NAME = "dsco-desktop"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def resources_dir() -> Path | None:
    """The resources/ folder of this installation, or None when it is not there."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "resources"] if bundle else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def app_icon() -> QIcon:
    """The app icon at every size there is a file for (an empty icon without resources)."""
    icon = QIcon()
    folder = resources_dir()
    if folder is None:
        return icon
    for size in SIZES:
        path = folder / "icons" / f"{ICON_NAME}-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon
