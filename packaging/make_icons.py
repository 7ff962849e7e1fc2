"""Draw the DSCO Desktop app icon and write it in every format the installers need.

The SVG below is the one source; Qt renders it to PNGs at each size, and the Windows `.ico`
and macOS `.icns` containers are packed here from those PNGs (both formats accept PNG-encoded
entries), so no platform tool is needed. The results are committed under resources/icons/;
run this again only when the drawing changes:

    uv run python packaging/make_icons.py
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICON_DIR = ROOT / "resources" / "icons"
NAME = "dsco-desktop"

# A parcel on a deep blue tile, with an upward arrow: "your products, out to DSCO".
SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <defs>
    <linearGradient id="tile" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#2f6fd6"/>
      <stop offset="1" stop-color="#163f8c"/>
    </linearGradient>
    <linearGradient id="top" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#ffffff"/>
      <stop offset="1" stop-color="#e6eefb"/>
    </linearGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="52" fill="url(#tile)"/>
  <!-- the parcel: top, left and right faces -->
  <polygon points="128,62 206,100 128,138 50,100" fill="url(#top)"/>
  <polygon points="50,100 128,138 128,218 50,180" fill="#d3def3"/>
  <polygon points="206,100 128,138 128,218 206,180" fill="#b4c6ea"/>
  <!-- the tape across the top and down the front edge -->
  <polygon points="89,81 101,75 179,113 167,119" fill="#f29a2e"/>
  <polygon points="167,119 179,113 179,193 167,199" fill="#d9821c"/>
  <!-- the outline keeps the parcel readable at 16 px -->
  <path d="M128 62 L206 100 L206 180 L128 218 L50 180 L50 100 Z M50 100 L128 138 L206 100
           M128 138 L128 218" fill="none" stroke="#0f2f6b" stroke-width="6"
        stroke-linejoin="round"/>
</svg>
"""

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The PNG-based ICNS entry types and the pixel size each holds.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def render_pngs(svg: bytes, sizes: tuple[int, ...]) -> dict[int, bytes]:
    """The SVG rendered by Qt at each size, as PNG bytes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit("The icon SVG does not parse.")
    out: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        out[size] = bytes(data.data())
    return out


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG-encoded images (Vista and later read them)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    entries = b""
    blobs = b""
    offset = 6 + 16 * len(pngs)
    for size, png in sorted(pngs.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG-encoded images."""
    body = b""
    for kind, size in ICNS_TYPES:
        png = pngs[size]
        body += kind + struct.pack(">I", len(png) + 8) + png
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    svg = SVG.encode("utf-8")
    (ICON_DIR / f"{NAME}.svg").write_bytes(svg)
    pngs = render_pngs(svg, PNG_SIZES)
    for size, png in pngs.items():
        (ICON_DIR / f"{NAME}-{size}.png").write_bytes(png)
    (ICON_DIR / f"{NAME}.png").write_bytes(pngs[256])
    (ICON_DIR / f"{NAME}.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    (ICON_DIR / f"{NAME}.icns").write_bytes(icns_bytes(pngs))
    print(f"Icons written to {ICON_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
