"""The crash dialog: what the user sees when a bug escapes, naming the log file to send.

`install_excepthook` replaces `sys.excepthook` (and `threading.excepthook`): a bug is logged
with its traceback and shown in a dialog that names the log file; an expected
`UserFacingError` that escaped goes to the message bridge instead, without a traceback.
Exceptions raised on other threads are handed to the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from dsco_desktop.errors import UserFacingError
from dsco_desktop.ui import layout
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.widgets import dialog_layout

log = logging.getLogger(__name__)


class CrashDialog(QDialog):
    """Says a bug happened, where the log is, and offers the technical details to copy."""

    def __init__(self, log_file: Path, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DSCO Desktop: unexpected error")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH + 100)
        self.log_file = log_file
        box = dialog_layout(self)
        self.message = QLabel(
            "<b>Something went wrong inside DSCO Desktop.</b><br>"
            "This is a bug, not something you did. Your saved data is safe: every change is "
            "stored locally before it is sent to DSCO.<br><br>"
            f"The details are in the log file:<br><code>{log_file}</code><br>"
            "Please send that file with a short note of what you were doing."
        )
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.message)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        box.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.show_details = QPushButton("Show details")
        self.show_details.setCheckable(True)
        self.show_details.toggled.connect(self._toggle_details)
        copy = QPushButton("Copy details")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        open_folder = QPushButton("Open log folder")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file.parent)))
        )
        for button in (self.show_details, copy, open_folder):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.show_details.setText("Hide details" if shown else "Show details")
        self.adjustSize()


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashHandler(QObject):
    """Receives uncaught exceptions from any thread and reports them on the GUI thread."""

    _raised = Signal(object, object, str)  # exception, thread name, formatted traceback

    def __init__(
        self,
        log_file: Path,
        bridge: MessageBridge,
        dialog_parent: Callable[[], QWidget | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.bridge = bridge
        self._dialog_parent = dialog_parent
        self.dialog: CrashDialog | None = None
        self.crash_count = 0
        self._raised.connect(self._report)
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_hook(exc_type, exc, tb)
            return
        formatted = "".join(traceback.format_exception(exc_type, exc, tb))
        if not isinstance(exc, UserFacingError):
            log.critical("Uncaught exception", exc_info=(exc_type, exc, tb))
        self._raised.emit(exc, threading.current_thread().name, formatted)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def report_exception(self, exc: BaseException) -> None:
        """Report an exception caught elsewhere (a job's bug) like an uncaught one."""
        self.excepthook(type(exc), exc, exc.__traceback__)

    def _report(self, exc: BaseException, thread_name: str, formatted: str) -> None:
        if isinstance(exc, UserFacingError):
            self.bridge.user_error(exc)
            return
        self.crash_count += 1
        if self.dialog is not None and self.dialog.isVisible():
            # One dialog is enough: a storm of errors from a timer must not bury the window.
            self.dialog.details.appendPlainText(f"\n--- thread {thread_name} ---\n{formatted}")
            return
        self.dialog = CrashDialog(
            self.log_file, f"thread {thread_name}\n{formatted}", self._dialog_parent()
        )
        self.dialog.open()
