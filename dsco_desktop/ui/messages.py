"""The one message bridge: status-bar messages and dialogs, from anywhere in the UI.

Widgets and jobs never build their own message boxes: they call `MessageBridge`, which shows a
short line in the status bar or a dialog over the main window. A `UserFacingError` is shown as
its message (and detail, folded away), never with a traceback. Form errors are not for this
bridge: they show inline, next to the field.
Dialogs are opened window-modal with `open()`, so the event loop (and the outbox thread's
updates) keep running while one is up.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from dsco_desktop.errors import UserFacingError

log = logging.getLogger(__name__)

STATUS_TIMEOUT_MS = 6000
APP_TITLE = "DSCO Desktop"


class MessageBridge(QObject):
    """Routes messages to the status bar (via `status_message`) and to dialogs."""

    status_message = Signal(str, int)  # text, timeout in ms (0 = until replaced)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dialog_parent: QWidget | None = None
        self.open_dialogs: list[QMessageBox] = []

    def set_dialog_parent(self, widget: QWidget | None) -> None:
        self._dialog_parent = widget

    def status(self, text: str, timeout_ms: int = STATUS_TIMEOUT_MS) -> None:
        """A short line in the status bar (thread-safe: the signal is queued to the GUI)."""
        log.info("Status: %s", text)
        self.status_message.emit(text, timeout_ms)

    def info(self, text: str, *, title: str = APP_TITLE, detail: str | None = None) -> QMessageBox:
        return self._show(QMessageBox.Icon.Information, title, text, detail)

    def warning(
        self, text: str, *, title: str = APP_TITLE, detail: str | None = None
    ) -> QMessageBox:
        return self._show(QMessageBox.Icon.Warning, title, text, detail)

    def user_error(self, exc: UserFacingError, *, title: str = APP_TITLE) -> QMessageBox:
        """Explain an expected failure: its message, its detail folded away, no traceback."""
        log.info("Shown to the user: %s: %s", type(exc).__name__, exc.message)
        return self._show(QMessageBox.Icon.Warning, title, exc.message, exc.detail)

    def _show(
        self, icon: QMessageBox.Icon, title: str, text: str, detail: str | None
    ) -> QMessageBox:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self._dialog_parent)
        if detail:
            box.setDetailedText(detail)
        self.open_dialogs.append(box)
        box.finished.connect(lambda _result, b=box: self._closed(b))
        box.open()
        return box

    def _closed(self, box: QMessageBox) -> None:
        if box in self.open_dialogs:
            self.open_dialogs.remove(box)
        box.deleteLater()
