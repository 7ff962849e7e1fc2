"""The crash dialog names the log file; expected errors never show a traceback."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from dsco_desktop.errors import UserFacingError
from dsco_desktop.ui.crash import CrashHandler
from dsco_desktop.ui.messages import MessageBridge
from tests.ui.shots import shot


def _raise(exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]


def test_a_bug_opens_the_crash_dialog_naming_the_log_file(qtbot: QtBot, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "dsco-desktop.log"
    handler = CrashHandler(log_file, MessageBridge())
    handler.install()
    try:
        _raise(KeyError("missing-column"))
        qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    finally:
        handler.uninstall()
    assert handler.dialog is not None
    qtbot.addWidget(handler.dialog)
    assert str(log_file) in handler.dialog.message.text()
    assert "KeyError" in handler.dialog.details.toPlainText()
    assert not handler.dialog.details.isVisible()  # the traceback is folded away
    handler.dialog.show_details.click()
    assert handler.dialog.details.isVisible()
    shot(handler.dialog, "crash_dialog")


def test_bugs_on_other_threads_reach_the_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    handler = CrashHandler(tmp_path / "app.log", MessageBridge())
    handler.install()
    try:
        thread = threading.Thread(target=lambda: 1 / 0, name="worker-x")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: handler.dialog is not None)
    finally:
        handler.uninstall()
    assert handler.dialog is not None
    qtbot.addWidget(handler.dialog)
    assert "worker-x" in handler.dialog.details.toPlainText()
    assert "ZeroDivisionError" in handler.dialog.details.toPlainText()


def test_a_second_bug_joins_the_open_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    handler = CrashHandler(tmp_path / "app.log", MessageBridge())
    handler.report_exception(RuntimeError("first"))
    qtbot.waitUntil(lambda: handler.dialog is not None)
    first = handler.dialog
    assert first is not None
    qtbot.addWidget(first)
    handler.report_exception(RuntimeError("second"))
    qtbot.waitUntil(lambda: handler.crash_count == 2)
    assert handler.dialog is first
    assert "second" in first.details.toPlainText()


def test_an_escaped_user_error_is_a_message_not_a_crash(
    qtbot: QtBot, tmp_path: Path, caplog: object
) -> None:
    bridge = MessageBridge()
    handler = CrashHandler(tmp_path / "app.log", bridge)
    with caplog.at_level(logging.CRITICAL):  # type: ignore[attr-defined]
        handler.report_exception(UserFacingError("The file is open in Excel.", detail="close it"))
        qtbot.waitUntil(lambda: bool(bridge.open_dialogs))
    box = bridge.open_dialogs[0]
    qtbot.addWidget(box)
    assert box.text() == "The file is open in Excel."
    assert "Traceback" not in box.text() and "Traceback" not in box.detailedText()
    assert handler.dialog is None and handler.crash_count == 0
    assert not caplog.records  # type: ignore[attr-defined]
