"""Run the DSCO sandbox standalone: `python -m dsco_desktop.sandbox --port 8765 --data-dir DIR`.

Prints the base URL and the credentials, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    defaults = SandboxConfig(data_dir=Path())
    p = argparse.ArgumentParser(
        prog="python -m dsco_desktop.sandbox",
        description="A local imitation of the DSCO v3 API for trying DSCO Desktop and testing.",
    )
    p.add_argument("--data-dir", type=Path, required=True, help="where sandbox.sqlite3 lives")
    p.add_argument("--host", default=defaults.host)
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--client-id", default=defaults.client_id)
    p.add_argument("--client-secret", default=defaults.client_secret)
    p.add_argument("--token-lifetime", type=float, default=defaults.token_lifetime_s, help="s")
    p.add_argument("--async-delay", type=float, default=defaults.async_delay_s, help="s")
    p.add_argument("--scroll-ttl", type=float, default=defaults.scroll_ttl_s, help="s")
    p.add_argument("--no-seed", action="store_true", help="start a fresh data dir empty")
    p.add_argument("--no-rate-limits", action="store_true")
    p.add_argument("--error-rate", type=float, default=0.0, help="fraction of calls -> 5xx")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to each response")
    p.add_argument("--duplicate-event-rate", type=float, default=0.0)
    p.add_argument("--order-rate", type=float, default=0.0, help="generated orders per minute")
    p.add_argument("--seed", type=int, default=None, help="RNG seed for reproducible runs")
    p.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="ATTRIBUTE",
        help="a catalog attribute the retailer requires on every item (repeatable)",
    )
    a = p.parse_args(argv)
    return SandboxConfig(
        data_dir=a.data_dir,
        host=a.host,
        port=a.port,
        client_id=a.client_id,
        client_secret=a.client_secret,
        token_lifetime_s=a.token_lifetime,
        async_delay_s=a.async_delay,
        scroll_ttl_s=a.scroll_ttl,
        seed_demo=not a.no_seed,
        rate_limits=not a.no_rate_limits,
        error_rate=a.error_rate,
        latency_s=a.latency,
        duplicate_event_rate=a.duplicate_event_rate,
        order_rate_per_min=a.order_rate,
        seed=a.seed,
        catalog_required=tuple(a.require),
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    server = SandboxServer(config)
    try:
        server.start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"DSCO sandbox serving {server.base_url}", flush=True)
    print(f"client_id:     {server.client_id}", flush=True)
    print(f"client_secret: {server.client_secret}", flush=True)
    print(f"data:          {Path(config.data_dir).resolve()}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
