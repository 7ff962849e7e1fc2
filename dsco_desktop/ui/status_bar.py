"""The main window's status bar: connection state, environment, outbox size, stream freshness.

It only displays what it is given (plain values from signals); it never queries anything.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.ui import layout

NO_VALUE = "—"


class ConnectionState:
    """Plain names for what the last DSCO call says about the connection."""

    NOT_CONFIGURED = "No account"
    UNKNOWN = "Not connected yet"
    CONNECTED = "Connected"
    OFFLINE = "Offline"
    REFUSED = "Credentials refused"
    TROUBLE = "DSCO is having trouble"


def connection_state_for(record: CallRecord) -> str:
    """What a finished call says about the connection (used for the status bar)."""
    if record.status is None:
        return ConnectionState.OFFLINE
    if record.status == 401 or (record.status in (400, 403) and "oauth2" in record.path):
        return ConnectionState.REFUSED
    if record.status >= 500:
        return ConnectionState.TROUBLE
    return ConnectionState.CONNECTED


def format_age(seconds: float) -> str:
    """A short human age: '12 s ago', '4 min ago', '3 h ago', '2 d ago'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} d ago"


class AppStatusBar(QStatusBar):
    """Permanent labels on the right; transient messages from the message bridge on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.connection_label = QLabel()
        self.environment_label = QLabel()
        self.outbox_label = QLabel()
        self.stream_label = QLabel()
        for label in (
            self.connection_label,
            self.environment_label,
            self.outbox_label,
            self.stream_label,
        ):
            label.setContentsMargins(layout.STATUS_BAR_SPACING // 2, 0, 0, 0)
            self.addPermanentWidget(label)
        self.connection_state = ""
        self.last_stream_event_at: float | None = None
        self.pending = 0
        self.failed = 0
        self.set_connection_state(ConnectionState.UNKNOWN)
        self.set_environment(NO_VALUE)
        self.set_outbox_counts(None)
        self._tick = QTimer(self)
        self._tick.setInterval(layout.STATUS_TICK_MS)
        self._tick.timeout.connect(self._update_stream_label)
        self._tick.start()
        self._update_stream_label()

    def set_connection_state(self, state: str, detail: str = "") -> None:
        self.connection_state = state
        good = state == ConnectionState.CONNECTED
        bad = state in (ConnectionState.OFFLINE, ConnectionState.REFUSED, ConnectionState.TROUBLE)
        color = layout.OK_COLOR if good else layout.ERROR_COLOR if bad else "palette(mid)"
        self.connection_label.setText(f"<span style='color:{color}'>●</span> {state}")
        self.connection_label.setToolTip(detail or state)

    def on_call(self, record: CallRecord) -> None:
        detail = f"Last call: {record.method} {record.path} → {record.status or 'no answer'}"
        if record.error:
            detail += f"\n{record.error}"
        self.set_connection_state(connection_state_for(record), detail)

    def set_environment(self, text: str, tooltip: str = "") -> None:
        self.environment_label.setText(f"Environment: {text}")
        self.environment_label.setToolTip(tooltip or text)

    def set_outbox_counts(self, counts: Any) -> None:
        """Show an `OutboxCounts` (or None before the first count)."""
        if counts is None:
            self.outbox_label.setText(f"Outbox: {NO_VALUE}")
            return
        self.pending = int(counts.pending) + int(getattr(counts, "sending", 0))
        self.failed = int(counts.failed) + int(getattr(counts, "rejected", 0))
        failed = f"{self.failed:,} failed"
        if self.failed:
            failed = f"<b style='color:{layout.ERROR_COLOR}'>{failed}</b>"
        self.outbox_label.setText(f"Outbox: {self.pending:,} pending · {failed}")
        self.outbox_label.setToolTip(
            "Changes waiting to be sent to DSCO.\n"
            f"Pending: {counts.pending}, sending: {getattr(counts, 'sending', 0)}, "
            f"sent: {getattr(counts, 'sent', 0)}, failed after retries: {counts.failed}, "
            f"rejected by DSCO: {getattr(counts, 'rejected', 0)}"
        )

    def set_last_stream_event(self, at_epoch_s: float | None) -> None:
        self.last_stream_event_at = at_epoch_s
        self._update_stream_label()

    def _update_stream_label(self) -> None:
        if self.last_stream_event_at is None:
            self.stream_label.setText(f"Last order event: {NO_VALUE}")
            self.stream_label.setToolTip("No order stream events received yet.")
            return
        age = format_age(time.time() - self.last_stream_event_at)
        self.stream_label.setText(f"Last order event: {age}")
        self.stream_label.setToolTip("Time since the order stream last delivered an event.")
