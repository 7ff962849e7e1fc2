"""Run the local DSCO sandbox in-process: configuration, lifecycle and runtime knobs.

`SandboxServer(SandboxConfig(data_dir=...)).start()` serves the DSCO v3 API on 127.0.0.1
(uvicorn in a daemon thread), applies async requests on a worker thread after
`async_delay_s`, and optionally generates marketplace orders at `order_rate_per_min`.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from dsco_desktop.sandbox import seed
from dsco_desktop.sandbox.routes import Knobs, SandboxApi
from dsco_desktop.sandbox.state import Invalid, SandboxState

DB_NAME = "sandbox.sqlite3"


@dataclass
class SandboxConfig:
    """Everything that shapes a sandbox; see the README for what each knob is for."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    token_lifetime_s: float = 3600.0
    async_delay_s: float = 1.0  # how long after a 202 an async request is applied
    scroll_ttl_s: float = 300.0  # how long an order/page or change-log scrollId lives
    seed_demo: bool = True  # a fresh data dir starts with a small believable shop
    rate_limits: bool = True  # per-endpoint limits at the spec's numbers -> 429
    error_rate: float = 0.0  # fraction of authenticated calls answered 5xx
    latency_s: float = 0.0  # added to every response
    duplicate_event_rate: float = 0.0  # fraction of stream events served twice
    order_rate_per_min: float = 0.0  # the order generator's rate (0 = off)
    seed: int | None = None  # RNG seed for generator and faults (reproducible tests)
    # Retailer rules: catalog attributes every item must have once an update is merged in
    # (DSCO rejects such an item in the change log, naming the attribute).
    catalog_required: tuple[str, ...] = ()


class SandboxServer:
    """A running (or runnable) sandbox: HTTP server, async worker and order generator."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.client_id = config.client_id
        self.client_secret = config.client_secret
        self.base_url = ""
        self.port = 0
        self._rng = random.Random(config.seed)
        self._generator_rng = random.Random(self._rng.random())
        self._state: SandboxState | None = None
        self._api: SandboxApi | None = None
        self._server: uvicorn.Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._rate_changed = threading.Event()
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    @property
    def state(self) -> SandboxState:
        if self._state is None:
            raise RuntimeError("The sandbox is not started")
        return self._state

    def start(self) -> SandboxServer:
        """Open the data dir, start serving, and return once the port accepts connections."""
        cfg = self.config
        state = SandboxState(
            Path(cfg.data_dir) / DB_NAME,
            rng=random.Random(self._rng.random()),
            async_delay_s=lambda: self.config.async_delay_s,
            scroll_ttl_s=lambda: self.config.scroll_ttl_s,
            seed_demo=cfg.seed_demo,
            catalog_required=lambda: self.config.catalog_required,
        )
        self._state = state
        knobs = Knobs(
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
            token_lifetime_s=cfg.token_lifetime_s,
            rate_limits=cfg.rate_limits,
            error_rate=cfg.error_rate,
            latency_s=cfg.latency_s,
            duplicate_event_rate=cfg.duplicate_event_rate,
        )
        self._api = SandboxApi(state, knobs, random.Random(self._rng.random()))
        uv_config = uvicorn.Config(
            self._api.build(),
            host=cfg.host,
            port=cfg.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(uv_config)
        self._server = server
        thread = threading.Thread(target=server.run, name="dsco-sandbox-http", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                state.close()
                raise RuntimeError(f"The sandbox could not listen on {cfg.host}:{cfg.port}")
            time.sleep(0.005)
        sockets = [s for srv in server.servers for s in srv.sockets]
        self.port = int(sockets[0].getsockname()[1])
        self._api.public_url = f"http://{cfg.host}:{self.port}"
        self.base_url = f"{self._api.public_url}/api/v3"
        self._threads = [thread]
        for target, name in (
            (self._work_loop, "dsco-sandbox-async"),
            (self._generate_loop, "dsco-sandbox-orders"),
        ):
            worker = threading.Thread(target=target, name=name, daemon=True)
            worker.start()
            self._threads.append(worker)
        return self

    def stop(self) -> None:
        """Stop serving and background work, then close the database. Safe to call twice."""
        if self._stopped or self._server is None:
            self._stopped = True
            return
        self._stopped = True
        self._stopping.set()
        self._rate_changed.set()
        if self._state is not None:
            self._state.work_ready.set()
        self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=10)
        if self._state is not None:
            self._state.close()

    def __enter__(self) -> SandboxServer:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ knobs

    def set_faults(
        self,
        *,
        error_rate: float | None = None,
        latency_s: float | None = None,
        duplicate_event_rate: float | None = None,
        rate_limits: bool | None = None,
        token_lifetime_s: float | None = None,
    ) -> None:
        """Change fault behaviour at runtime; None leaves a knob as it is."""
        changes = {
            "error_rate": error_rate,
            "latency_s": latency_s,
            "duplicate_event_rate": duplicate_event_rate,
            "rate_limits": rate_limits,
            "token_lifetime_s": token_lifetime_s,
        }
        for name, value in changes.items():
            if value is None:
                continue
            setattr(self.config, name, value)
            if self._api is not None:
                setattr(self._api.knobs, name, value)

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 401 from now on."""
        if self._api is not None:
            self._api.revoke_tokens()

    def set_catalog_required(self, attributes: Sequence[str]) -> None:
        """The catalog attributes a retailer requires on every item from now on."""
        self.config.catalog_required = tuple(attributes)

    def set_order_rate(self, per_min: float) -> None:
        """Start, stop (0) or change the simulated marketplace's order rate."""
        self.config.order_rate_per_min = max(0.0, per_min)
        self._rate_changed.set()

    # ------------------------------------------------------------------ background work

    def _work_loop(self) -> None:
        state = self.state
        while not self._stopping.is_set():
            wait = state.next_due()
            if wait is None or wait > 0:
                state.work_ready.wait(timeout=0.5 if wait is None else min(wait, 0.5))
                state.work_ready.clear()
                continue
            with contextlib.suppress(Exception):
                # A bug in one request must not stop every later one from being applied.
                if not self._stopping.is_set():
                    state.process_due()

    def _generate_loop(self) -> None:
        while not self._stopping.is_set():
            rate = self.config.order_rate_per_min
            if rate <= 0:
                self._rate_changed.wait()
                self._rate_changed.clear()
                continue
            # Exponential gaps: arrivals look like a marketplace, not a metronome.
            gap = self._generator_rng.expovariate(rate / 60.0)
            if self._rate_changed.wait(timeout=gap):
                self._rate_changed.clear()
                continue
            if not self._stopping.is_set():
                self.generate_order()

    def generate_order(self) -> str | None:
        """Create one simulated marketplace order now; returns its dscoOrderId."""
        state = self.state
        skus = state.all_skus()
        if not skus:
            return None
        with state.tx():
            serial = state._next_id("next_generated_po", 100)
            rec = seed.random_order(self._generator_rng, skus, serial)
            try:
                _, order = state.create_order(rec)
            except Invalid:
                return None
        return str(order["dscoOrderId"])
