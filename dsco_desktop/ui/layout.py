"""Layout constants shared by every window, so spacing and sizes are decided in one place."""

from __future__ import annotations

# Window sizes (logical pixels).
MAIN_WINDOW_DEFAULT_SIZE = (1200, 800)
MAIN_WINDOW_MIN_SIZE = (800, 560)
DIALOG_MIN_WIDTH = 520

# Margins and spacing.
PAGE_MARGIN = 16
DIALOG_MARGIN = 18
SECTION_SPACING = 12
FORM_SPACING = 8
INLINE_SPACING = 6
STATUS_BAR_SPACING = 18

# Text widths.
PLACEHOLDER_TEXT_MAX_WIDTH = 640
SEARCH_FIELD_MIN_WIDTH = 280
FIELD_MIN_WIDTH = 320

# Activity table column widths (the last column stretches).
ACTIVITY_COLUMN_WIDTHS = (160, 70, 300, 64, 90, 230)

# Refresh coalescing: at most this often per model (ms).
REFRESH_COALESCE_MS = 250
# The status bar's "time since" labels tick this often (ms).
STATUS_TICK_MS = 1000

# Colours for inline results (readable on light and dark palettes).
OK_COLOR = "#2e7d32"
ERROR_COLOR = "#c62828"
WARNING_BACKGROUND = "#fff4e5"
WARNING_BORDER = "#f0b429"
# Shipments: "accepted but not applied" (needs a look, not an error) and lines that cannot ship.
ATTENTION_COLOR = "#b26a00"
MUTED_COLOR = "#757575"
# The shipment form: the lines table's columns and the width of a package's fields.
SHIPMENT_LINE_COLUMN_WIDTHS = (48, 150, 240, 70, 70, 76, 90, 200)
SHIPMENT_PACKAGE_COLUMN_WIDTH = 84
SHIPMENT_FIELD_WIDTH = 170
SHIPMENTS_COLUMN_WIDTHS = (130, 110, 100, 260, 50, 160)
SHIPMENT_LINES_VISIBLE_MAX = 10
BATCH_DIALOG_SIZE = (1100, 640)
BATCH_COLUMN_WIDTHS = (50, 110, 130, 44, 80, 100, 190, 90)
# Inventory editor: staged rows, refused rows, column widths, the side panel's width.
INVENTORY_PENDING_BACKGROUND = "#fff8d6"
INVENTORY_ERROR_BACKGROUND = "#fde7e9"
INVENTORY_COLUMN_WIDTHS = (150, 84, 72, 78, 62, 76, 96, 104, 136, 150)
INVENTORY_PANEL_MIN_WIDTH = 420
