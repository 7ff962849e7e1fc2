"""Packing slips and pick lists printed to PDF with Qt's own PDF writer.

The HTML comes from `services/shipping.py`; this module only lays it out on Letter pages.
It runs on a job thread (QTextDocument and QPdfWriter need no widgets), so the GUI thread
never waits on the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from dsco_desktop.errors import UserFacingError

PAGE_MARGIN_MM = 12.0
RESOLUTION_DPI = 300


def write_pdf(html: str, path: Path, title: str) -> int:
    """Write `html` to `path` as a PDF; returns the number of pages."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            raise UserFacingError(f"{path} is a folder, not a file name for the PDF.")
    except OSError as exc:
        raise UserFacingError(f"Cannot write {path}: {exc.strerror}.") from exc
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("DSCO Desktop")
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    writer.setPageMargins(
        QMarginsF(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )
    document = QTextDocument()
    document.setHtml(html)
    document.print_(writer)
    del writer  # the file is finished when the writer goes away
    if not path.exists() or path.stat().st_size == 0:
        raise UserFacingError(f"The PDF {path} could not be written.")
    return pdf_page_count(path.read_bytes())


def pdf_page_count(data: bytes) -> int:
    """Pages of a PDF as Qt writes it (one "/Type /Page" object per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
