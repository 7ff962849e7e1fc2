"""A preloaded parent that forks the app's background work for the SIGKILL crash suite.

Importing the client, the store and the services takes about a second, so (like
tests/services/order_stream_zygote.py) this process imports once and forks one real child
per run. A child does what the app's worker threads do, in one loop: read the order stream,
drain the outbox, and carry a catalog import forward (validate the file, push it, follow its
change log; after a restart, push again what was not sent and follow what was). The test
SIGKILLs it from outside at a random moment, or arms it to SIGKILL itself at a chosen point.

Protocol (stdin -> stdout, one line each):
  run <database> <catalog file> <die point> <n>  ->  "pid <child pid>"
  wait <pid>                                      ->  "exit <code or -signal>"
  quit
Die points ("none" for an outside kill): "stream-before-checkpoint" (orders committed, DSCO's
position not yet saved), "outbox-after-answer" (DSCO applied a mutation, the outbox has not
recorded it), "import-mid-validate" (part of the file's rows stored), "import-after-queue"
(a batch queued locally, not yet sent). The child dies at the n-th time it reaches the point,
or once everything is done if it never gets there. A child that finds nothing left to do exits 0.
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
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services.catalog_import import CatalogImportService, ImportMode
from dsco_desktop.services.order_stream import OrderStreamService
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.store.db import Database


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Armed:
    """Counts visits to the chosen die point and kills the process at the n-th."""

    def __init__(self, point: str, n: int) -> None:
        self.point = point
        self.n = n
        self.visits = 0

    def visit(self, point: str) -> None:
        if point == self.point:
            self.visits += 1
            if self.visits >= self.n:
                _die()


def _arm(armed: Armed, client: DscoClient, imports: CatalogImportService) -> None:
    checkpoint = client.checkpoint_stream

    def checkpoint_stream(*args: Any, **kwargs: Any) -> Any:
        armed.visit("stream-before-checkpoint")
        return checkpoint(*args, **kwargs)

    client.checkpoint_stream = checkpoint_stream  # type: ignore[method-assign]
    for name in (
        "acknowledge_orders",
        "single_shipment",
        "cancel_order_item",
        "update_catalog_small_batch",
    ):
        real = getattr(client, name, None)
        if real is None:
            continue

        def answered(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            answer = _real(*args, **kwargs)
            armed.visit("outbox-after-answer")
            return answer

        setattr(client, name, answered)
    store_chunk = imports._store_chunk

    def _store_chunk(*args: Any, **kwargs: Any) -> None:
        store_chunk(*args, **kwargs)
        armed.visit("import-mid-validate")

    imports._store_chunk = _store_chunk  # type: ignore[method-assign]
    queue_batch = imports._queue_batch

    def _queue_batch(*args: Any, **kwargs: Any) -> int:
        outbox_id = queue_batch(*args, **kwargs)
        armed.visit("import-after-queue")
        return outbox_id

    imports._queue_batch = _queue_batch  # type: ignore[method-assign]


def import_step(
    imports: CatalogImportService, client: DscoClient, sender: OutboxSender, path: str
) -> bool:
    """Carry the catalog import one step forward, as the app (and its user) would after a
    restart; True once it is done."""
    deliver = sender.send_due
    latest = next((r for r in imports.imports.recent(50) if r.file_path == path), None)
    if latest is None:
        # A crash mid-validation leaves a 'reading' import the app never shows: start again.
        imports.validate(imports.preview(path))
        return False
    if latest.state == "validated" or latest.state == "pushing":
        imports.push(
            latest.id, ImportMode.BOTH, deliver=deliver, client=client, outbox_wait_s=5,
            follow_timeout_s=10, poll_s=0.05,
        )  # fmt: skip
        return False
    if latest.state == "following":
        imports.follow(latest.id, client, timeout_s=10, poll_s=0.05, deliver=deliver)
        return False
    return True


def work(database: str, catalog: str, point: str, n: int) -> int:
    db = Database(Path(database))
    with DscoClient(
        os.environ["DSCO_BASE_URL"],
        os.environ["DSCO_CLIENT_ID"],
        os.environ["DSCO_CLIENT_SECRET"],
        retry_wait_max_s=0.2,
    ) as client:
        imports = CatalogImportService(db)
        imports.discard_interrupted()  # as the app does when the Catalog tab first loads
        armed = Armed(point, n)
        _arm(armed, client, imports)
        stream = OrderStreamService(db, client, backfill_days=0)
        sender = OutboxSender(db, client, base_delay_s=0.05, max_delay_s=0.5)
        while True:
            try:
                events = stream.poll().events
                sender.send_due()
                imported = import_step(imports, client, sender, catalog)
            except (DscoError, UserFacingError, TimeoutError):
                # The app reports these and tries again later; so does this loop.
                events, imported = 1, False
            due = sender.next_due_at()
            if events == 0 and imported and (due is None or due > time.time() + 5):
                if point != "none":
                    _die()  # armed but never reached: die idle, as promised
                return 0
            time.sleep(0.01)


def main() -> int:
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
                    code = work(words[1], words[2], words[3], int(words[4]))
                finally:
                    os._exit(code)
            print(f"pid {pid}", flush=True)
        elif words[0] == "wait":
            _, status = os.waitpid(int(words[1]), 0)
            print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
