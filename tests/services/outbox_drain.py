"""Drain an outbox against DSCO until nothing is due: the process the crash test kills.

Usage: python outbox_drain.py <database path>; DSCO_BASE_URL, DSCO_CLIENT_ID and
DSCO_CLIENT_SECRET come from the environment (a secret never goes on a command line).
Exits 0 once every row is settled (nothing pending or in doubt).

With OUTBOX_DRAIN_DIE_AFTER_SHIPMENT=n the process SIGKILLs itself right after DSCO answered
its n-th shipment call, before the outbox could record it: the worst moment to die, when DSCO
has applied the change and the outbox does not know.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.outbox import OutboxSender
from dsco_desktop.store.db import Database


def _die_after_shipment(client: DscoClient, n: int) -> None:
    real = client.single_shipment
    calls = 0

    def single_shipment(shipment: Any) -> dict[str, Any]:
        nonlocal calls
        answer = real(shipment)
        calls += 1
        if calls >= n:
            os.kill(os.getpid(), signal.SIGKILL)
        return answer

    client.single_shipment = single_shipment  # type: ignore[method-assign]


def main() -> int:
    db = Database(Path(sys.argv[1]))
    with DscoClient(
        os.environ["DSCO_BASE_URL"],
        os.environ["DSCO_CLIENT_ID"],
        os.environ["DSCO_CLIENT_SECRET"],
        retry_wait_max_s=0.5,
    ) as client:
        die_after = os.environ.get("OUTBOX_DRAIN_DIE_AFTER_SHIPMENT")
        if die_after:
            _die_after_shipment(client, int(die_after))
        sender = OutboxSender(db, client, base_delay_s=0.2, max_delay_s=2.0)
        while True:
            sender.send_due(limit=10)
            due = sender.next_due_at()
            if due is None:
                return 0
            wait = due - time.time()
            if wait > 0:
                time.sleep(min(wait, 0.5))


if __name__ == "__main__":
    sys.exit(main())
