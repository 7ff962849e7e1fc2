"""Honest placeholder pages for the tabs whose features arrive in later releases.

Each says what the tab will do, without showing made-up data.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from dsco_desktop.ui import layout
from dsco_desktop.ui.widgets import page_layout

PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "Catalog": (
        "Your catalog",
        "Import your items from a spreadsheet (xlsx or csv), map its columns, fix every error "
        "before anything is sent, and push the catalog to DSCO in batches. Each SKU shows "
        "whether DSCO applied it.",
    ),
    "Inventory": (
        "Inventory per warehouse",
        "See on-hand and available quantities per warehouse, stage changes you can review and "
        "undo, and send them to DSCO so you never oversell. Low stock is flagged.",
    ),
    "Orders": (
        "Orders as they arrive",
        "New orders arrive live from DSCO's order stream and are kept on this computer. "
        "Acknowledge them, or cancel lines with a reason.",
    ),
    "Shipments": (
        "Shipping with tracking",
        "Ship whole orders or part of them, with several packages and tracking numbers, and "
        "see when DSCO has confirmed each shipment.",
    ),
    "Invoices & Returns": (
        "Invoices and returns",
        "Invoice shipped orders, and record and complete returns, each checked by DSCO.",
    ),
}


class PlaceholderPage(QWidget):
    """A calm page naming what the tab will hold."""

    def __init__(self, tab_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        heading, text = PLACEHOLDERS[tab_name]
        self.setObjectName(f"placeholder-{tab_name}")
        self.heading = QLabel(heading)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        self.body = QLabel(text)
        self.note = QLabel("This part of DSCO Desktop is not available in this version yet.")
        self.note.setEnabled(False)
        # A fixed-width centred column: word-wrapped labels then get the height they need.
        column = QWidget()
        column.setFixedWidth(layout.PLACEHOLDER_TEXT_MAX_WIDTH)
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(layout.SECTION_SPACING)
        for label in (self.heading, self.body, self.note):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            inner.addWidget(label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        box = page_layout(self, spacing=None)
        box.addStretch(1)
        box.addLayout(row)
        box.addStretch(2)
