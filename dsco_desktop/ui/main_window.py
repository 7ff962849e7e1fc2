"""The main window: the tabs, the menus and the status bar; remembers its geometry.

UI state (geometry, window state, the Activity table's header) lives in a QSettings ini file in
the data folder, apart from the app's settings in the database.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from dsco_desktop import __version__
from dsco_desktop.ui import layout
from dsco_desktop.ui.activity_tab import ActivityLoader, ActivityTab
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.placeholders import PLACEHOLDERS, PlaceholderPage
from dsco_desktop.ui.status_bar import AppStatusBar

TAB_NAMES: tuple[str, ...] = (*PLACEHOLDERS.keys(), "Activity")


class MainWindow(QMainWindow):
    """Tabs Catalog, Inventory, Orders, Shipments, Invoices & Returns and Activity."""

    account_requested = Signal()
    closing = Signal()

    def __init__(
        self,
        *,
        ui_state_file: Path,
        log_file: Path,
        jobs: JobRunner,
        bridge: MessageBridge,
        activity_loader: ActivityLoader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("DSCO Desktop")
        self.setMinimumSize(*layout.MAIN_WINDOW_MIN_SIZE)
        self._ui_state = QSettings(str(ui_state_file), QSettings.Format.IniFormat)
        self._log_file = log_file
        self._bridge = bridge

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[str, QWidget] = {}
        for name in PLACEHOLDERS:
            self._add_tab(name, PlaceholderPage(name))
        self.activity_tab = ActivityTab(activity_loader, jobs)
        self._add_tab("Activity", self.activity_tab)
        self.setCentralWidget(self.tabs)

        self.status = AppStatusBar(self)
        self.setStatusBar(self.status)
        bridge.status_message.connect(self.status.showMessage)
        bridge.set_dialog_parent(self)

        self._build_menus()
        self._restore_state()

    def _add_tab(self, name: str, page: QWidget) -> None:
        self.pages[name] = page
        # "&" marks a keyboard shortcut in tab titles; "&&" shows a real ampersand.
        self.tabs.addTab(page, name.replace("&", "&&"))

    def set_page(self, name: str, page: QWidget) -> None:
        """Put a tab's real page where its placeholder is (same position, same title)."""
        old = self.pages[name]
        index = self.tabs.indexOf(old)
        was_current = self.tabs.currentWidget() is old
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, name.replace("&", "&&"))
        self.pages[name] = page
        if was_current:
            self.tabs.setCurrentWidget(page)
        old.deleteLater()

    def set_tab_title(self, name: str, title: str) -> None:
        """Change a tab's visible title (e.g. "Orders (3 new)"); `name` stays its key."""
        page = self.pages.get(name)
        if page is not None:
            self.tabs.setTabText(self.tabs.indexOf(page), title.replace("&", "&&"))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.account_action = QAction("&Account…", self)
        self.account_action.triggered.connect(self.account_requested.emit)
        file_menu.addAction(self.account_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        logs = QAction("Open &log folder", self)
        logs.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._log_file.parent)))
        )
        help_menu.addAction(logs)
        about = QAction("&About DSCO Desktop", self)
        about.triggered.connect(
            lambda: self._bridge.info(
                f"DSCO Desktop {__version__}\n\n"
                "Catalog, inventory, orders, shipping, invoices and returns for suppliers "
                "selling through Rithum's DSCO platform.",
                detail=f"Log file: {self._log_file}",
            )
        )
        help_menu.addAction(about)

    def _restore_state(self) -> None:
        geometry = self._ui_state.value("main_window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*layout.MAIN_WINDOW_DEFAULT_SIZE)
        state = self._ui_state.value("main_window/state")
        if state is not None:
            self.restoreState(state)
        header = self._ui_state.value("activity/header")
        if header is not None:
            self.activity_tab.table.horizontalHeader().restoreState(header)
        tab = self._ui_state.value("main_window/tab")
        if isinstance(tab, str) and tab in self.pages:
            self.tabs.setCurrentWidget(self.pages[tab])

    def save_state(self) -> None:
        self._ui_state.setValue("main_window/geometry", self.saveGeometry())
        self._ui_state.setValue("main_window/state", self.saveState())
        self._ui_state.setValue(
            "activity/header", self.activity_tab.table.horizontalHeader().saveState()
        )
        current = self.tabs.currentWidget()
        names = [name for name, page in self.pages.items() if page is current]
        self._ui_state.setValue("main_window/tab", names[0] if names else "")
        self._ui_state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.closing.emit()
        super().closeEvent(event)
