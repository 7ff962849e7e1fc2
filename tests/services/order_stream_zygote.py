"""A preloaded parent that forks order-stream pollers for the SIGKILL test.

Starting a fresh Python that imports the client and the store takes about a second; the crash
test restarts its poller 20 times, so this process imports once and forks a real child process
per run. Each child opens its own database connection and DSCO client (nothing is opened before
the fork), polls, and is killed by the test (SIGKILL) or kills itself at a chosen crash point.

Protocol (stdin -> stdout, one line each):
  run <database> <mode> <n>  ->  "pid <child pid>"   start a poller
  wait <pid>                 ->  "exit <code or -signal>"
  quit
Modes: "loop" polls until killed; "drain" exits 0 once a poll finds nothing and the first fill
is done; "die-before-checkpoint" / "die-after-checkpoint" / "die-after-read" SIGKILL the child
itself at the n-th page: after the local commit but before DSCO's checkpoint, after the
checkpoint, or after DSCO answered but before anything was stored (or, if fewer pages come,
once it has caught up).
DSCO_BASE_URL, DSCO_CLIENT_ID and DSCO_CLIENT_SECRET come from the environment.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.store.db import Database


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(client: DscoClient, mode: str, n: int) -> None:
    pages = 0
    read = client.get_stream_events
    checkpoint = client.checkpoint_stream

    def get_stream_events(*args: Any, **kwargs: Any) -> Any:
        nonlocal pages
        page = read(*args, **kwargs)
        if page.events:
            pages += 1
            if mode == "die-after-read" and pages >= n:
                _die()
        return page

    def checkpoint_stream(*args: Any, **kwargs: Any) -> Any:
        if mode == "die-before-checkpoint" and pages >= n:
            _die()
        answer = checkpoint(*args, **kwargs)
        if mode == "die-after-checkpoint" and pages >= n:
            _die()
        return answer

    client.get_stream_events = get_stream_events  # type: ignore[method-assign]
    client.checkpoint_stream = checkpoint_stream  # type: ignore[method-assign]


def poll(database: str, mode: str, n: int) -> int:
    db = Database(Path(database))
    with DscoClient(
        os.environ["DSCO_BASE_URL"],
        os.environ["DSCO_CLIENT_ID"],
        os.environ["DSCO_CLIENT_SECRET"],
        retry_wait_max_s=0.2,
    ) as client:
        _arm(client, mode, n)
        service = OrderStreamService(db, client, until_margin_s=5.05)
        while True:
            report = service.poll()
            caught_up = report.events == 0 and service.backfilled
            if mode == "drain" and caught_up:
                return 0
            if mode.startswith("die-") and caught_up:
                # Fewer pages came than the crash point wanted: die idle rather than never.
                _die()
            time.sleep(0.01)


def main() -> int:
    children: dict[int, int] = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return 0
        if words[0] == "run":
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = poll(words[1], words[2], int(words[3]))
                finally:
                    os._exit(code)
            children[pid] = pid
            print(f"pid {pid}", flush=True)
        elif words[0] == "wait":
            _, status = os.waitpid(int(words[1]), 0)
            print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
