"""`dsco-desktop --smoke-test`: prove an installation works, one order from arrival to shipment.

It starts the whole app (store, outbox thread, main window) on a temporary data folder with the
built-in sandbox, offscreen, then walks one order through the real flows:

1. the main window shows, with its tabs and icon, and DSCO (the sandbox) answers;
2. once the app's order stream thread has opened its stream, a retailer creates an order;
3. the stream thread brings it into the local store, and the Orders tab lists it;
4. it is acknowledged through the outbox and the stream shows DSCO applied it;
5. it is shipped in full through the outbox, and DSCO's copy shows the tracking number;
6. the window reflects it (outbox empty in the status bar, the shipment listed).

It prints one line per step and a summary, and exits 0; or exits 1 naming the step that failed
and why. It runs the same on the source app and on the frozen one (which is what it is for:
a missing hidden import, Qt plugin or data file shows up here, not on a shop owner's PC).
Slow steps run on the job helper, so the GUI thread keeps delivering the workers' signals.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TextIO

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from dsco_desktop import __version__
from dsco_desktop.errors import UserFacingError
from dsco_desktop.paths import AppPaths, resolve_paths
from dsco_desktop.paths import setup_logging as setup_file_logging
from dsco_desktop.ui.app_icon import app_icon
from dsco_desktop.ui.jobs import JobContext

log = logging.getLogger(__name__)

EXIT_PASSED = 0
EXIT_FAILED = 1

# Each step gets this long before it is declared stuck (the sandbox applies async requests
# after about a second; a healthy run takes a few seconds in all).
STEP_TIMEOUT_S = 60.0
POLL_S = 0.1
# A step's own waits say what they waited for; this later deadline only catches a step that
# hangs inside a call (a job never returning), so the clearer message wins when both apply.
BACKSTOP_S = 5.0
# A published UPS sample number with a correct check digit (the app checks it before sending).
TRACKING_NUMBER = "1Z879E930346834440"


class SmokeApp(Protocol):
    """What the smoke test drives: `dsco_desktop.app.DscoDesktop`."""

    paths: AppPaths
    db: Any
    sandbox: Any
    window: Any
    jobs: Any
    session: Any

    def start(self) -> None: ...

    def show(self) -> None: ...

    def wake_outbox(self) -> None: ...

    def shutdown(self) -> None: ...


AppFactory = Callable[[AppPaths, Path], SmokeApp]


class StepFailedError(UserFacingError):
    """A step did not reach its goal; the message says what was seen instead.

    An expected outcome of a check, not a bug: no traceback in the log.
    """


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    detail: str


@dataclass(frozen=True)
class _Step:
    name: str
    run: Callable[[JobContext | None], str]
    in_background: bool


class SmokeTest(QObject):
    """Runs the steps in order on a started app; emits `finished` with the exit code."""

    finished = Signal(int)

    def __init__(
        self,
        app: SmokeApp,
        out: TextIO,
        *,
        step_timeout_s: float = STEP_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.app = app
        self.out = out
        self.step_timeout_s = step_timeout_s
        self.results: list[StepResult] = []
        self.failed_step: str | None = None
        self.exit_code: int | None = None
        self.order_id = ""
        self.po_number = ""
        self._started = 0.0
        self._step_started = 0.0
        self._index = 0
        self._current: Any = None
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._timed_out)
        self._steps = [
            _Step("open the main window", self._open_window, False),
            _Step("reach DSCO (the sandbox)", self._reach_dsco, True),
            _Step("retailer creates an order", self._create_order, True),
            _Step("order arrives through the order stream", self._receive_order, True),
            _Step("the Orders tab lists it", self._check_orders_tab, False),
            _Step("acknowledge through the outbox", self._acknowledge, True),
            _Step("ship through the outbox, confirmed by DSCO", self._ship, True),
            _Step("the window shows the result", self._check_window, False),
        ]

    # -- driving the steps ------------------------------------------------------------------

    def start(self) -> None:
        self._started = time.perf_counter()
        self._print(f"DSCO Desktop {__version__} smoke test ({_build_kind()})")
        QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if self.exit_code is not None:
            return
        if self._index >= len(self._steps):
            self._finish(EXIT_PASSED)
            return
        step = self._steps[self._index]
        self._step_started = time.perf_counter()
        self._deadline.start(int((self.step_timeout_s + BACKSTOP_S) * 1000))
        if not step.in_background:
            try:
                detail = step.run(None)
            except Exception as exc:
                self._fail(step, exc)
            else:
                self._passed(step, detail)
            return
        self._current = self.app.jobs.submit(
            step.run,
            name=f"smoke test: {step.name}",
            on_success=lambda detail: self._passed(step, str(detail)),
            on_error=lambda exc: self._fail(step, exc),
        )

    def _passed(self, step: _Step, detail: str) -> None:
        if self.exit_code is not None:
            return
        self._deadline.stop()
        seconds = time.perf_counter() - self._step_started
        self.results.append(StepResult(step.name, seconds, detail))
        self._print(f"  ok   {step.name} ({seconds:.2f} s): {detail}")
        self._index += 1
        QTimer.singleShot(0, self._next)

    def _fail(self, step: _Step, exc: BaseException) -> None:
        if self.exit_code is not None:
            return
        self._deadline.stop()
        if isinstance(exc, UserFacingError):
            reason = exc.message
        else:
            log.error("Smoke test step %r failed", step.name, exc_info=exc)
            reason = f"{type(exc).__name__}: {exc}"
        self.failed_step = step.name
        self._print(f"  FAIL {step.name}: {reason}")
        self._finish(EXIT_FAILED)

    def _timed_out(self) -> None:
        if self.exit_code is not None or self._index >= len(self._steps):
            return
        if self._current is not None:
            self._current.cancel()
        step = self._steps[self._index]
        waited = self.step_timeout_s + BACKSTOP_S
        self._fail(step, StepFailedError(f"no result after {waited:.0f} s"))

    def _finish(self, code: int) -> None:
        self.exit_code = code
        total = time.perf_counter() - self._started
        if code == EXIT_PASSED:
            self._print(
                f"Smoke test passed: {len(self.results)} steps in {total:.1f} s "
                f"(order {self.po_number})."
            )
        else:
            self._print(f"Smoke test FAILED at step '{self.failed_step}' after {total:.1f} s.")
        self.finished.emit(code)

    def _print(self, line: str) -> None:
        # A windowed app started without a console has nowhere to print; the log still has it.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(line, file=self.out, flush=True)
        log.info("smoke test: %s", line.strip())

    # -- the steps --------------------------------------------------------------------------

    def _wait(
        self, ctx: JobContext | None, what: str, probe: Callable[[], Any], timeout_s: float = 0
    ) -> Any:
        """Call `probe` until it returns something truthy; StepFailedError after the timeout."""
        deadline = time.monotonic() + (timeout_s or self.step_timeout_s)
        while True:
            value = probe()
            if value:
                return value
            if ctx is not None:
                ctx.check_cancelled()
            if time.monotonic() > deadline:
                raise StepFailedError(f"timed out waiting for {what}")
            time.sleep(POLL_S)

    def _client(self) -> Any:
        client = self.app.session.client()
        if client is None:
            raise StepFailedError("the app has no DSCO client (the sandbox account was not set)")
        return client

    def _open_window(self, _ctx: JobContext | None) -> str:
        window = self.app.window
        if window is None or not window.isVisible():
            raise StepFailedError("the main window is not shown")
        QApplication.processEvents()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 400 or image.height() < 300:
            raise StepFailedError(f"the window renders as {image.width()}x{image.height()}")
        # Text, tabs and the status bar make many colours; a blank or black window makes one.
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 5)
            for y in range(0, image.height(), 5)
        }
        if len(colours) < 3:
            raise StepFailedError("the window renders blank")
        if QApplication.windowIcon().isNull():
            raise StepFailedError("the app icon was not found (resources/icons is missing)")
        tabs = [window.tabs.tabText(i).replace("&&", "&") for i in range(window.tabs.count())]
        missing = [name for name in ("Orders", "Shipments", "Activity") if name not in tabs]
        if missing:
            raise StepFailedError(f"tabs missing: {', '.join(missing)} (found {tabs})")
        return f"{image.width()}x{image.height()}, tabs {', '.join(tabs)}"

    def _reach_dsco(self, _ctx: JobContext | None) -> str:
        if self.app.sandbox is None:
            raise StepFailedError("the built-in sandbox did not start")
        self._client().hello()
        return f"sandbox at {self.app.sandbox.base_url}"

    def _poll_stream(self) -> None:
        """Ask the app's order stream thread to poll now rather than at its next interval."""
        worker = getattr(self.app, "stream_worker", None)
        if worker is None:
            raise StepFailedError("the app has no order stream thread")
        worker.wake()

    def _create_order(self, ctx: JobContext | None) -> str:
        from dsco_desktop.services.order_stream import STREAM_ID_KEY
        from dsco_desktop.store.settings import SettingsRepository

        client = self._client()
        settings = SettingsRepository(self.app.db)

        # The stream carries what happens after it exists: wait for the app to open it.
        def stream_open() -> Any:
            self._poll_stream()
            return settings.get(STREAM_ID_KEY)

        self._wait(ctx, "the app to open its order stream", stream_open)
        skus = list(self.app.sandbox.state.all_skus())
        if not skus:
            raise StepFailedError("the sandbox has no catalog to order from")
        self.po_number = f"SMOKE-{time.strftime('%Y%m%d-%H%M%S')}"
        result = client.create_order(
            {
                "poNumber": self.po_number,
                "channel": "Poshmark",
                "orderType": "Marketplace",
                "shipCarrier": "UPS",
                "shipMethod": "Ground",
                "shippingServiceLevelCode": "UPCG",
                "shipping": {
                    "name": "Smoke Test",
                    "address": ["1 Main St"],
                    "city": "Austin",
                    "region": "TX",
                    "postal": "78704",
                    "country": "US",
                },
                "lineItems": [{"sku": skus[0], "quantity": 1, "lineNumber": 1}],
            }
        )
        ids = list(result.dsco_order_ids)
        if not ids:
            raise StepFailedError("DSCO did not return the new order's id")
        self.order_id = ids[0]
        return f"PO {self.po_number}, dscoOrderId {self.order_id}"

    def _order(self) -> Any:
        from dsco_desktop.store.orders import OrderRepository

        return OrderRepository(self.app.db).get(self.order_id)

    def _receive_order(self, ctx: JobContext | None) -> str:
        def arrived() -> Any:
            self._poll_stream()
            return self._order()

        order = self._wait(ctx, f"order {self.order_id} from the order stream", arrived)
        return f"stored with lifecycle {order.lifecycle}"

    def _check_orders_tab(self, _ctx: JobContext | None) -> str:
        tab = getattr(self.app, "orders_tab", None)
        if tab is None:
            raise StepFailedError("the Orders tab is missing")
        self.app.window.tabs.setCurrentWidget(tab)
        tab.refresh_now()

        def listed() -> bool:
            return tab.model.row_of(self.order_id) is not None

        self._wait_gui(listed, 10.0)
        if not listed():
            raise StepFailedError(f"the Orders tab does not list PO {self.po_number}")
        return f"PO {self.po_number} is in the list ({tab.model.rowCount()} order(s) in all)"

    def _acknowledge(self, ctx: JobContext | None) -> str:
        from dsco_desktop.services.order_actions import OrderActions

        result = OrderActions(self.app.db).acknowledge([self.order_id])
        if self.order_id not in result.queued:
            raise StepFailedError(f"nothing was queued: {result.message}")
        self.app.wake_outbox()

        def applied() -> bool:
            self._poll_stream()
            order = self._order()
            return order is not None and order.lifecycle == "acknowledged"

        self._wait(ctx, "DSCO to show the order acknowledged", applied)
        return "DSCO shows the order acknowledged"

    def _ship(self, ctx: JobContext | None) -> str:
        from dsco_desktop.domain.shipping import PackagePlan
        from dsco_desktop.services.shipping import ShippingService, describe
        from dsco_desktop.store.shipments import ShipmentState

        service = ShippingService(self.app.db)
        form = service.form(self.order_id)
        quantities = {line.key: line.remaining for line in form.lines if line.remaining > 0}
        if not quantities:
            raise StepFailedError("the order has nothing left to ship")
        package = PackagePlan(
            carrier="UPS",
            service_level_code="UPCG",
            tracking_number=TRACKING_NUMBER,
            ship_date=date.today(),
            weight=1.0,
            warehouse_code=form.default_warehouse,
            quantities=quantities,
        )
        shipment = service.submit(self.order_id, [package], source="smoke test")
        self.app.wake_outbox()
        outcome = service.wait_for_outcome(
            self._client(),
            shipment.id,
            timeout_s=self.step_timeout_s,
            should_stop=lambda: ctx is not None and ctx.cancelled,
        )
        if outcome.state is not ShipmentState.CONFIRMED:
            raise StepFailedError(f"shipment {outcome.state.value}: {describe(outcome.shipment)}")
        order = self._order()
        lifecycle = order.lifecycle if order is not None else "?"
        if lifecycle != "completed":
            raise StepFailedError(f"the order is '{lifecycle}' after shipping all of it")
        return f"tracking {TRACKING_NUMBER} on the order, which is {lifecycle}"

    def _check_window(self, _ctx: JobContext | None) -> str:
        window = self.app.window
        status = window.status
        # The outbox thread reports its counts about once a second: give it a round or two.
        self._wait_gui(lambda: not status.pending and not status.failed, 5.0)
        if status.pending or status.failed:
            raise StepFailedError(
                f"the status bar shows {status.pending} waiting, {status.failed} failed"
            )
        tab = getattr(self.app, "shipments_tab", None)
        if tab is None:
            raise StepFailedError("the Shipments tab is missing")
        window.tabs.setCurrentWidget(tab)
        tab.refresh()

        def listed() -> bool:
            return any(r.po_number == self.po_number for r in getattr(tab.model, "rows", []))

        self._wait_gui(listed, 10.0)
        if not listed():
            raise StepFailedError(f"the Shipments tab does not list PO {self.po_number}")
        shot = self.app.paths.data_dir / "smoke-window.png"
        window.grab().save(str(shot))
        return f"the Shipments tab lists PO {self.po_number}; {status.outbox_label.text()}"

    def _wait_gui(self, condition: Callable[[], bool], timeout_s: float) -> None:
        """Let the event loop run (queued signals land) until `condition` or the timeout."""
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.02)


def _close_file_logging() -> None:
    """Close the log file in the temporary folder, so the folder can go (Windows locks it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dsco_desktop", False):
            root.removeHandler(handler)
            handler.close()


def _build_kind() -> str:
    return "frozen app" if getattr(sys, "frozen", False) else "source"


def run_smoke_test(
    qapp: QApplication,
    make_app: AppFactory,
    *,
    out: TextIO | None = None,
    keep_data: bool = False,
    step_timeout_s: float = STEP_TIMEOUT_S,
    parent_dir: Path | None = None,
) -> int:
    """Start an app on a temporary data folder, run the steps, stop it; the exit code.

    The folder (database, sandbox, log) is removed afterwards unless the test failed or
    `keep_data` is set: then its path is printed, so the log can be read.
    """
    stream = out if out is not None else sys.stdout
    if qapp.windowIcon().isNull():
        qapp.setWindowIcon(app_icon())  # main() sets it; a test calling this may not have
    data_dir = Path(tempfile.mkdtemp(prefix="dsco-desktop-smoke-", dir=parent_dir))
    paths = resolve_paths(data_dir)
    paths.create()
    log_file = setup_file_logging(paths)
    app = make_app(paths, log_file)
    code = EXIT_FAILED
    try:
        try:
            app.start()
            app.show()
        except Exception as exc:
            print(f"  FAIL start the app: {exc}", file=stream, flush=True)
            print("Smoke test FAILED at step 'start the app'.", file=stream, flush=True)
            log.error("Smoke test: the app did not start", exc_info=exc)
            return EXIT_FAILED
        test = SmokeTest(app, stream, step_timeout_s=step_timeout_s)
        test.finished.connect(qapp.exit)
        test.start()
        code = int(qapp.exec())
        if test.exit_code is None:
            code = EXIT_FAILED  # the loop ended early (the window was closed)
        return code
    finally:
        app.shutdown()
        _close_file_logging()
        if code == EXIT_PASSED and not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"Data and log kept in {data_dir}", file=stream, flush=True)
