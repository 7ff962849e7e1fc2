"""The composition root: command line, paths and logging, the store, the client, the UI.

`main()` is the `dsco-desktop` console script. It takes the data folder's lock (one instance per
folder), opens the database (refusing one written by a newer version), builds the DSCO client
from the saved account (or, with --sandbox, from a local sandbox it starts in-process), starts
the outbox thread and shows the main window. On quit it stops everything in order: the outbox
thread, the job pool, the clients, the sandbox, then the database.

Environment: DSCO_DESKTOP_DATA_DIR moves the data folder (like --data-dir);
DSCO_DESKTOP_QUIT_AFTER_SHOW=1 makes the app print one JSON line once the first window is shown
and quit (used by benchmarks/startup.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from dsco_desktop import __version__
from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.domain.settings import AppSettings, load_settings, save_settings
from dsco_desktop.errors import UserFacingError
from dsco_desktop.paths import AlreadyRunningError, AppPaths, InstanceLock, resolve_paths
from dsco_desktop.paths import setup_logging as setup_file_logging
from dsco_desktop.services.account import (
    NO_KEYRING_MESSAGE,
    AccountService,
    AccountSession,
    Credentials,
    SecretStorage,
    resolve_base_url,
)
from dsco_desktop.ui.account_dialog import AccountDialog
from dsco_desktop.ui.app_icon import app_icon
from dsco_desktop.ui.crash import CrashHandler
from dsco_desktop.ui.jobs import JobContext, JobRunner
from dsco_desktop.ui.main_window import MainWindow
from dsco_desktop.ui.messages import MessageBridge
from dsco_desktop.ui.status_bar import ConnectionState
from dsco_desktop.ui.workers import OutboxWorker

if TYPE_CHECKING:
    from dsco_desktop.services.catalog_import import CheckReport

log = logging.getLogger(__name__)

QUIT_AFTER_SHOW_ENV = "DSCO_DESKTOP_QUIT_AFTER_SHOW"

EXIT_OK = 0
EXIT_STARTUP_FAILED = 2
EXIT_ALREADY_RUNNING = 3

ENVIRONMENT_TITLES = {
    "sandbox": "Local sandbox",
    "staging": "DSCO staging",
    "production": "DSCO production",
    "custom": "Custom",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsco-desktop",
        description="DSCO Desktop: catalog, inventory, orders and shipping for DSCO suppliers.",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="start a local DSCO sandbox in the app and use it (no account or internet needed)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="FOLDER",
        help="keep the database, logs and cache in FOLDER (default: the user data folder; "
        "also settable with DSCO_DESKTOP_DATA_DIR)",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="check this installation: run one order end to end against the built-in sandbox "
        "in a temporary folder, offscreen; print each step and exit 0 (passed) or 1",
    )
    parser.add_argument("--version", action="version", version=f"DSCO Desktop {__version__}")
    return parser


class CallNotifier(QObject):
    """Carries recorded DSCO calls from any thread to the GUI thread."""

    recorded = Signal(object)  # CallRecord


class DscoDesktop(QObject):
    """One running app: store, sandbox, account, client, workers and window, with their order."""

    connection_checked = Signal(str)  # the connection state after a check

    def __init__(self, paths: AppPaths, *, log_file: Any, use_sandbox: bool = False) -> None:
        super().__init__()
        self.paths = paths
        self.log_file = log_file
        self.use_sandbox = use_sandbox
        self.db: Any = None
        self.sandbox: Any = None
        self.settings = AppSettings()
        self.account = AccountService()
        self.notifier = CallNotifier()
        self.session = AccountSession(on_call=self.record_call)
        self.jobs: JobRunner | None = None
        self.bridge = MessageBridge()
        self.window: MainWindow | None = None
        self.worker: OutboxWorker | None = None
        self.crash_handler: CrashHandler | None = None
        self.account_dialog: AccountDialog | None = None
        self.catalog_tab: Any = None
        self.shipments_tab: Any = None
        self.invoices_returns_tab: Any = None
        self.inventory_tab: Any = None
        self._activity_repos = threading.local()
        self._sender_cache: tuple[int, Any] | None = None
        self._shut_down = False
        self.orders_tab: Any = None
        self.stream_worker: Any = None
        self._stream_cache: tuple[int, Any] | None = None

    # Start

    def start(self) -> None:
        """Open the store and build everything; raises `UserFacingError` if that cannot be."""
        from dsco_desktop.store.db import Database
        from dsco_desktop.store.outbox import OutboxRepository
        from dsco_desktop.store.settings import SettingsRepository

        self.db = Database(self.paths.database)
        self.settings = load_settings(SettingsRepository(self.db))
        if self.use_sandbox:
            self._start_sandbox()
        self.session.configure(self._saved_credentials())

        self.jobs = JobRunner()
        self.window = MainWindow(
            ui_state_file=self.paths.ui_state_file,
            log_file=self.log_file,
            jobs=self.jobs,
            bridge=self.bridge,
            activity_loader=self._load_activity,
        )
        self.crash_handler = CrashHandler(self.log_file, self.bridge, lambda: self.window)
        self.jobs.user_error.connect(self.bridge.user_error)
        self.jobs.unexpected_error.connect(self.crash_handler.report_exception)
        self.notifier.recorded.connect(self.window.status.on_call)
        self.notifier.recorded.connect(self.window.activity_tab.notify_new_calls)
        self.window.account_requested.connect(self.open_account_dialog)
        self._build_catalog_tab()
        self._build_shipments_tab()
        self._build_invoices_returns_tab()
        self._build_inventory_tab()
        self._show_environment()

        db = self.db
        self.worker = OutboxWorker(
            lambda: OutboxRepository(db),
            self._make_sender,
            batch_size=self.settings.outbox_batch_size,
            on_exit=db.close,
        )
        self.worker.counts_changed.connect(self._outbox_counts_changed)
        self.worker.start()
        self._start_orders()
        self.window.activity_tab.refresh_now()

    def _build_catalog_tab(self) -> None:
        from dsco_desktop.services.catalog_import import CatalogImportService
        from dsco_desktop.ui.catalog_tab import CatalogTab

        assert self.window is not None and self.jobs is not None
        self.catalog_tab = CatalogTab(
            CatalogImportService(self.db),
            self.jobs,
            client_provider=self.session.client,
            deliver=self.wake_outbox,
        )
        self.catalog_tab.message.connect(self.bridge.status)
        self.window.set_page("Catalog", self.catalog_tab)
        self.catalog_tab.refresh()

    def _build_shipments_tab(self) -> None:
        from dsco_desktop.services.shipping import ShippingService
        from dsco_desktop.ui.shipments_tab import ShipmentsTab

        assert self.window is not None and self.jobs is not None
        self.shipments_tab = ShipmentsTab(
            ShippingService(self.db, default_warehouse=self.settings.default_warehouse_code),
            self.jobs,
            self.session.client,
            self.wake_outbox,
        )
        self.window.set_page("Shipments", self.shipments_tab)
        self.shipments_tab.refresh()

    def _build_invoices_returns_tab(self) -> None:
        from dsco_desktop.services.invoicing import InvoicingService
        from dsco_desktop.services.returns import ReturnsService
        from dsco_desktop.store.inventory import InventoryEditorRepository
        from dsco_desktop.ui.invoices_returns_tab import InvoicesReturnsTab

        assert self.window is not None and self.jobs is not None
        db, settings = self.db, self.settings

        def warehouses() -> list[str]:
            codes = InventoryEditorRepository(db).warehouse_codes()
            default = settings.default_warehouse_code
            return ([default] if default and default not in codes else []) + codes

        self.invoices_returns_tab = InvoicesReturnsTab(
            InvoicingService(
                db,
                number_pattern=settings.invoice_number_pattern,
                handling_amount=settings.invoice_handling_amount,
            ),
            ReturnsService(db, number_pattern=settings.return_number_pattern),
            self.jobs,
            self.session.client,
            self.wake_outbox,
            warehouses=warehouses,
        )
        self.invoices_returns_tab.message.connect(self.bridge.status)
        self.window.set_page("Invoices & Returns", self.invoices_returns_tab)
        self.invoices_returns_tab.reload()

    def _build_inventory_tab(self) -> None:
        from dsco_desktop.ui.inventory_tab import InventoryTab

        assert self.window is not None and self.jobs is not None
        self.inventory_tab = InventoryTab(
            self.db,
            self.jobs,
            client_provider=self.session.client,
            deliver=self.wake_outbox,
            settings=lambda: self.settings,
        )
        self.inventory_tab.message.connect(self.bridge.status)
        self.window.set_page("Inventory", self.inventory_tab)
        self.inventory_tab.refresh()

    def ship_order(self, dsco_order_id: str) -> None:
        """Open the shipment form for an order (the order detail's "Ship" action)."""
        if self.window is None or self.shipments_tab is None:
            return
        self.window.tabs.setCurrentWidget(self.shipments_tab)
        self.shipments_tab.open_order(dsco_order_id)

    def show(self) -> None:
        """Show the window; without usable credentials, open the account dialog over it."""
        assert self.window is not None
        self.window.show()
        if self.session.client() is None:
            self.window.status.set_connection_state(ConnectionState.NOT_CONFIGURED)
            self.open_account_dialog()
        else:
            self.check_connection()

    def _start_sandbox(self) -> None:
        from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer

        # The built-in sandbox plays a retailer that requires a brand on every item, so a
        # supplier trying the app sees how DSCO rejects an item, SKU by SKU.
        self.sandbox = SandboxServer(
            SandboxConfig(data_dir=self.paths.sandbox_dir, catalog_required=("brand",))
        )
        self.sandbox.start()
        log.info("Local sandbox running at %s", self.sandbox.base_url)
        # The sandbox account is a session thing: the saved (real) account stays as it was.
        self.settings = self.settings.model_copy(
            update={"environment": "sandbox", "client_id": self.sandbox.client_id}
        )
        self.account.remember_for_session(
            "sandbox", self.sandbox.client_id, self.sandbox.client_secret
        )

    @property
    def sandbox_base_url(self) -> str | None:
        return None if self.sandbox is None else str(self.sandbox.base_url)

    def _saved_credentials(self) -> Credentials | None:
        settings = self.settings
        if not settings.client_id:
            return None
        try:
            base_url = resolve_base_url(
                settings.environment, settings.custom_base_url, self.sandbox_base_url
            )
        except UserFacingError as exc:
            log.info("Saved account not usable: %s", exc)
            return None
        secret = self.account.load_secret(settings.environment, settings.client_id)
        if not secret:
            return None
        return Credentials(settings.environment, base_url, settings.client_id, secret)

    def _show_environment(self) -> None:
        assert self.window is not None
        credentials = self.session.credentials
        env = credentials.environment if credentials else self.settings.environment
        title = ENVIRONMENT_TITLES.get(env, env)
        tooltip = credentials.base_url if credentials else "No account configured"
        self.window.status.set_environment(title, tooltip)

    # Activity log

    def record_call(self, record: CallRecord) -> None:
        """The client's on_call hook (any thread): store the call, then tell the UI."""
        try:
            repo = getattr(self._activity_repos, "repo", None)
            if repo is None:
                from dsco_desktop.store.activity import ActivityRepository

                repo = self._activity_repos.repo = ActivityRepository(self.db)
            repo.record(record)
        except Exception:
            # A full disk must not turn a successful DSCO call into a failed one.
            log.exception("Could not record a call in the activity log")
        self.notifier.recorded.emit(record)

    def _load_activity(self, text: str | None, errors_only: bool, limit: int) -> list[CallRecord]:
        from dsco_desktop.store.activity import ActivityRepository

        return ActivityRepository(self.db).recent(limit=limit, text=text, errors_only=errors_only)

    # Orders

    def _start_orders(self) -> None:
        """The Orders tab and the order stream thread (which stops first at shutdown)."""
        from PySide6.QtGui import QAction
        from PySide6.QtWidgets import QMenu

        from dsco_desktop.ui.orders_tab import OrdersTab
        from dsco_desktop.ui.stream_worker import StreamWorker

        assert self.window is not None and self.jobs is not None
        window = self.window
        self.orders_tab = OrdersTab(self.db, self.jobs, self.bridge, resync=self._resync_orders)
        self.orders_tab.ship_requested.connect(self.ship_order)
        self.orders_tab.outbox_changed.connect(self.wake_outbox)
        self.orders_tab.new_count_changed.connect(
            lambda n: window.set_tab_title("Orders", f"Orders ({n:,} new)" if n else "Orders")
        )
        window.set_page("Orders", self.orders_tab)
        resync = QAction("Resync orders…", window)
        resync.triggered.connect(self.orders_tab.open_resync_dialog)
        file_menu = window.menuBar().actions()[0].menu()
        if isinstance(file_menu, QMenu):
            file_menu.insertAction(window.account_action, resync)
        self.orders_tab.refresh_now()

        db = self.db
        self.stream_worker = StreamWorker(
            self._make_stream_service,
            interval_s=lambda: self.settings.stream_poll_interval_s,
            on_exit=db.close,
        )
        self.stream_worker.batch_applied.connect(self.orders_tab.notify_batch)
        self.stream_worker.batch_applied.connect(
            lambda batch: window.status.set_last_stream_event(batch.at)
        )
        self.stream_worker.status_changed.connect(
            lambda text, problem: self.bridge.status(text, 0 if problem else 6000)
        )
        self.stream_worker.start()

    def _make_stream_service(self, on_batch: Any) -> Any:
        """The poller's service for the current account (made again when the account changes)."""
        client, generation = self.session.client_and_generation()
        if client is None:
            return None
        if self._stream_cache is None or self._stream_cache[0] != generation:
            from dsco_desktop.services.order_stream import OrderStreamService

            service = OrderStreamService(
                self.db,
                client,
                auto_acknowledge=lambda: self.settings.auto_acknowledge_orders,
                on_batch=on_batch,
            )
            self._stream_cache = (generation, service)
        return self._stream_cache[1]

    def _resync_orders(self, since: Any, ctx: JobContext) -> Any:
        """The "Resync orders" command (runs on a job thread)."""
        from dsco_desktop.services.order_stream import OrderStreamService

        client = self.session.client()
        if client is None:
            raise UserFacingError("Set up your DSCO account first (File › Account).")
        service = OrderStreamService(self.db, client, backfill_days=0)
        return service.resync(
            since,
            progress=lambda n: ctx.progress(n, 0, f"{n:,} orders checked"),
            should_stop=lambda: ctx.cancelled,
        )

    # Outbox

    def _make_sender(self) -> Any:
        client, generation = self.session.client_and_generation()
        if client is None:
            return None
        if self._sender_cache is None or self._sender_cache[0] != generation:
            from dsco_desktop.services.outbox import OutboxSender

            self._sender_cache = (generation, OutboxSender(self.db, client))
        return self._sender_cache[1]

    def _outbox_counts_changed(self, counts: Any) -> None:
        assert self.window is not None
        before = self.window.status.failed
        self.window.status.set_outbox_counts(counts)
        after = self.window.status.failed
        if after > before:
            self.bridge.status(
                f"{after - before} change(s) could not be sent to DSCO. "
                "See the Activity tab for DSCO's reasons."
            )

    def wake_outbox(self) -> None:
        """Something was queued: send it now rather than at the next poll."""
        if self.worker is not None:
            self.worker.wake()

    # Account

    def open_account_dialog(self) -> AccountDialog:
        assert self.window is not None and self.jobs is not None
        if self.account_dialog is not None and self.account_dialog.isVisible():
            self.account_dialog.raise_()
            return self.account_dialog
        sandbox_credentials = None
        if self.sandbox is not None:
            sandbox_credentials = (self.sandbox.client_id, self.sandbox.client_secret)
        dialog = AccountDialog(
            self.account,
            self.settings,
            self.jobs,
            sandbox_base_url=self.sandbox_base_url,
            sandbox_credentials=sandbox_credentials,
            on_call=self.record_call,
            parent=self.window,
        )
        dialog.saved.connect(self._account_saved)
        self.account_dialog = dialog
        dialog.open()
        return dialog

    def _account_saved(self, credentials: Credentials, storage: SecretStorage) -> None:
        from dsco_desktop.store.settings import SettingsRepository

        save_settings(SettingsRepository(self.db), self.settings)
        self.session.configure(credentials)
        self._show_environment()
        self.wake_outbox()
        if storage is SecretStorage.SESSION_ONLY:
            self.bridge.warning(NO_KEYRING_MESSAGE)
        else:
            self.bridge.status("Account saved. The secret is in your system's password store.")
        self.check_connection()

    def check_connection(self) -> None:
        """Call /hello in the background so the status bar says whether DSCO answers."""
        client = self.session.client()
        if client is None or self.jobs is None:
            return

        def hello(_ctx: JobContext) -> object:
            return client.hello()

        def failed(exc: BaseException) -> None:
            log.info("Connection check failed: %s", exc)
            self.connection_checked.emit(self._state())

        self.jobs.submit(
            hello,
            name="connection check",
            on_success=lambda _r: self.connection_checked.emit(self._state()),
            on_error=failed,
        )

    def _state(self) -> str:
        return self.window.status.connection_state if self.window else ""

    # Stop

    def shutdown(self) -> None:
        """Stop everything in order; safe to call twice and after a failed start."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.window is not None:
            self.window.save_state()
        if self.stream_worker is not None and not self.stream_worker.stop():
            log.error("The order stream thread did not stop in time")
        if self.worker is not None and not self.worker.stop():
            log.error("The outbox thread did not stop in time")
        if self.shipments_tab is not None:
            # Its settling timer would otherwise submit jobs to the runner stopped next.
            self.shipments_tab.stop()
        if self.jobs is not None and not self.jobs.shutdown():
            log.error("Background jobs did not stop in time")
        self.session.close()
        if self.sandbox is not None:
            try:
                self.sandbox.stop()
            except Exception:
                log.exception("Stopping the sandbox failed")
        if self.crash_handler is not None:
            self.crash_handler.uninstall()
        if self.db is not None:
            self.db.close_all()
        log.info("DSCO Desktop stopped")


def report_startup_error(exc: UserFacingError) -> None:
    """Say why the app cannot start: on stderr, and in a dialog when there is a screen."""
    print(f"DSCO Desktop: {exc.message}", file=sys.stderr)
    if exc.detail:
        print(exc.detail, file=sys.stderr)
    platform = QApplication.platformName() if QApplication.instance() else ""
    # Offscreen (tests, benchmarks, headless runs) has no one to click the dialog away.
    if platform not in ("offscreen", "minimal", ""):
        box = QMessageBox(QMessageBox.Icon.Critical, "DSCO Desktop", exc.message)
        if exc.detail:
            box.setInformativeText(exc.detail)
        box.exec()


def _peak_rss_kb() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform == "darwin" else peak)


def _quit_after_show(qapp: QApplication, started: float) -> None:
    print(
        json.dumps(
            {
                "event": "first_window",
                "in_process_s": round(time.perf_counter() - started, 4),
                "peak_rss_kb": _peak_rss_kb(),
            }
        ),
        flush=True,
    )
    qapp.quit()


def catalog_main(argv: Sequence[str]) -> int:
    """`dsco-desktop catalog check FILE [--json] [--sheet NAME]`: the per-row report, no GUI.

    Exit status: 0 no errors, 1 rows with errors, 2 the file could not be read.
    """
    from dsco_desktop.services.catalog_import import dumps_report

    parser = argparse.ArgumentParser(
        prog="dsco-desktop catalog",
        description="Check a catalog spreadsheet against DSCO's rules without opening the app.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="print every problem of every row")
    check.add_argument("file", help="an .xlsx, .xlsm, .csv or .tsv file")
    check.add_argument("--sheet", help="the sheet to check (default: the first)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--data-dir", metavar="FOLDER", help="the app's data folder (its catalog is compared)"
    )
    check.add_argument(
        "--encoding", metavar="NAME", help="a CSV file's text encoding, e.g. cp1252 (detected)"
    )
    args = parser.parse_args(argv)
    try:
        report = _check_catalog_file(args.file, args.sheet, args.data_dir, args.encoding)
    except UserFacingError as exc:
        if args.json:
            print(json.dumps({"file": args.file, "error": exc.message, "detail": exc.detail}))
        else:
            print(f"{exc.message}" + (f"\n{exc.detail}" if exc.detail else ""), file=sys.stderr)
        return EXIT_STARTUP_FAILED
    print(dumps_report(report) if args.json else report.as_text())
    return 1 if report.rows_with_errors else EXIT_OK


def _check_catalog_file(
    file: str, sheet: str | None, data_dir: str | None, encoding: str | None
) -> CheckReport:
    """`check_file` against the stored catalog when the data folder has one, else on its own."""
    from dsco_desktop.services.catalog_import import check_file
    from dsco_desktop.store.db import Database
    from dsco_desktop.store.items import ItemRepository

    paths = resolve_paths(data_dir)
    if not paths.database.exists():
        return check_file(file, sheet, encoding=encoding)
    db = Database(paths.database)
    try:
        return check_file(
            file,
            sheet,
            catalog=ItemRepository(db).raw_many,
            catalog_name=str(paths.database),
            encoding=encoding,
        )
    finally:
        db.close_all()


def shipments_main(argv: Sequence[str]) -> int:
    """`dsco-desktop shipments check FILE [--json]`: the batch file's per-row report, no GUI.

    Rows are checked against the orders stored in the data folder. Exit status: 0 no errors,
    1 rows with errors, 2 the file or the data folder could not be read.
    """
    from dsco_desktop.services.shipping import ShippingService
    from dsco_desktop.store.db import Database

    parser = argparse.ArgumentParser(
        prog="dsco-desktop shipments",
        description="Check a batch shipment spreadsheet against your orders without the app.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="print every problem of every row")
    check.add_argument("file", help="an .xlsx, .xlsm, .csv or .tsv file")
    check.add_argument("--sheet", help="the sheet to check (default: the first)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--data-dir", metavar="FOLDER", help="the app's data folder")
    args = parser.parse_args(argv)
    try:
        paths = resolve_paths(args.data_dir)
        if not paths.database.exists():
            raise UserFacingError(
                f"There is no DSCO Desktop database in {paths.data_dir}: open the app once so "
                "your orders are on this computer, or pass --data-dir."
            )
        db = Database(paths.database)
        try:
            report = ShippingService(db).check_batch_path(args.file, args.sheet)
        finally:
            db.close_all()
    except UserFacingError as exc:
        if args.json:
            print(json.dumps({"file": args.file, "error": exc.message, "detail": exc.detail}))
        else:
            print(f"{exc.message}" + (f"\n{exc.detail}" if exc.detail else ""), file=sys.stderr)
        return EXIT_STARTUP_FAILED
    print(json.dumps(report.as_json(), indent=2) if args.json else report.as_text())
    return 1 if report.rows_with_errors else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["catalog"]:
        return catalog_main(arguments[1:])
    if arguments[:1] == ["shipments"]:
        return shipments_main(arguments[1:])
    args = build_parser().parse_args(arguments)
    if args.smoke_test:
        # Before the QApplication exists: the smoke test never needs (or opens) a screen.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("DSCO Desktop")
    qapp.setApplicationVersion(__version__)
    qapp.setWindowIcon(app_icon())
    if args.smoke_test:
        from dsco_desktop.ui.smoke import run_smoke_test

        return run_smoke_test(
            qapp, lambda paths, log_file: DscoDesktop(paths, log_file=log_file, use_sandbox=True)
        )

    paths = resolve_paths(args.data_dir)
    try:
        paths.create()
    except OSError as exc:
        report_startup_error(
            UserFacingError(f"Cannot create the data folder {paths.data_dir}.", detail=str(exc))
        )
        return EXIT_STARTUP_FAILED
    lock = InstanceLock(paths.lock_file)
    try:
        lock.acquire()
    except AlreadyRunningError as exc:
        report_startup_error(exc)
        return EXIT_ALREADY_RUNNING
    log_file = setup_file_logging(paths)
    log.info("DSCO Desktop %s starting; data folder %s", __version__, paths.data_dir)

    app = DscoDesktop(paths, log_file=log_file, use_sandbox=args.sandbox)
    try:
        try:
            app.start()
        except UserFacingError as exc:
            log.warning("Startup refused: %s", exc)
            report_startup_error(exc)
            return EXIT_STARTUP_FAILED
        assert app.crash_handler is not None
        app.crash_handler.install()
        app.show()
        if os.environ.get(QUIT_AFTER_SHOW_ENV) == "1":
            QTimer.singleShot(0, lambda: _quit_after_show(qapp, started))
        return int(qapp.exec())
    finally:
        app.shutdown()
        lock.release()


if __name__ == "__main__":
    sys.exit(main())
