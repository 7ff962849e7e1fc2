"""Batch pushes to DSCO: the pieces the catalog import and the inventory push share.

Both send records in batches under DSCO's small-batch limit, each batch as one outbox row
committed locally first; both wait for the outbox to settle a row and then spread its outcome
over the records it carried; both follow each batch's requestId in DSCO's change log. What a
record's outcome means for the store stays with each service; this module only says what the
outbox and the change log answered.

No Qt here: progress through a callback, cancellation through `should_stop`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from dsco_desktop.dsco.limits import json_size
from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxRepository, OutboxRow, OutboxState

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import ChangeLogName, DscoClient

Progress = Callable[[int, int, str], None]
ShouldStop = Callable[[], bool]

K = TypeVar("K")

# An outbox row in one of these states will not change any more.
SETTLED = (OutboxState.SENT, OutboxState.REJECTED, OutboxState.FAILED)
REMOVED_MESSAGE = "The batch was removed from the outbox before it was sent."
NO_REQUEST_ID_MESSAGE = "DSCO gave no request id to follow."
REFUSED_MESSAGE = "DSCO refused the batch."


def no_progress(_done: int, _total: int, _text: str) -> None:
    return None


def never() -> bool:
    return False


def json_batches(
    items: Iterable[tuple[K, dict[str, Any]]], max_bytes: int, max_items: int | None = None
) -> Iterator[list[tuple[K, dict[str, Any]]]]:
    """Items grouped so each batch's JSON array of payloads stays under `max_bytes` (and, if
    given, `max_items` records)."""
    batch: list[tuple[K, dict[str, Any]]] = []
    size = 2  # the array's brackets
    for key, payload in items:
        record_size = json_size(payload) + 1  # and its comma
        full = max_items is not None and len(batch) >= max_items
        if batch and (size + record_size > max_bytes or full):
            yield batch
            batch, size = [], 2
        batch.append((key, payload))
        size += record_size
    if batch:
        yield batch


def await_outbox(
    outbox: OutboxRepository,
    outbox_id: int,
    deliver: Callable[[], object],
    *,
    record: Callable[[OutboxRow | None], None],
    should_stop: ShouldStop,
    wait_s: float,
) -> bool:
    """Have the outbox send a row and `record` its end (None: the row is gone); False if it
    is still waiting after `wait_s` or when asked to stop."""
    deadline = time.monotonic() + wait_s
    pause = 0.02
    while True:
        deliver()
        row = outbox.get(outbox_id)
        if row is None or row.state in SETTLED:
            record(row)
            return True
        if time.monotonic() >= deadline or should_stop():
            return False
        time.sleep(pause)
        pause = min(0.5, pause * 2)


@dataclass(frozen=True)
class BatchOutcome:
    """What a settled outbox row means for each record it carried.

    `state` is "sent" (follow `request_id`), "pending" (sent, but nothing to follow),
    "rejected" (DSCO's validation refused it) or "failed" (given up, or removed)."""

    state: str
    request_id: str | None = None
    message: str | None = None
    by_record: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.state in ("rejected", "failed")

    def message_for(self, record: str | None) -> str | None:
        """DSCO's message for one record (sku), else the batch's."""
        if not self.refused:
            return self.message
        return self.by_record.get(record or "", self.message) or REFUSED_MESSAGE


def batch_outcome(row: OutboxRow | None) -> BatchOutcome:
    """Read a settled outbox row (None: removed before it was sent)."""
    if row is None:
        return BatchOutcome("failed", message=REMOVED_MESSAGE)
    if row.state is OutboxState.SENT:
        request_id = str((row.result or {}).get("requestId") or "") or None
        if request_id:
            return BatchOutcome("sent", request_id=request_id)
        return BatchOutcome("pending", message=NO_REQUEST_ID_MESSAGE)
    return BatchOutcome(
        "rejected" if row.state is OutboxState.REJECTED else "failed",
        message=row.last_error or "; ".join(m.description for m in row.messages),
        by_record={m.record: m.description for m in row.messages if m.record},
    )


def read_change_logs(
    client: DscoClient,
    log_type: ChangeLogName,
    requests: Sequence[str],
    record: Callable[[str, Sequence[Any]], None],
    *,
    progress: Progress,
    should_stop: ShouldStop,
    timeout_s: float,
    poll_s: float,
) -> None:
    """Wait for each request's change log and `record` its entries (what there is so far when
    DSCO has not finished within `timeout_s`)."""
    from dsco_desktop.dsco.client import ChangeLogTimeoutError

    for index, request_id in enumerate(requests, start=1):
        progress(index - 1, len(requests), f"Reading DSCO's results ({index}/{len(requests)})")
        try:
            result = client.wait_for_change_log(
                log_type,
                request_id,
                timeout_s=timeout_s,
                poll_s=poll_s,
                should_stop=should_stop,
            )
            entries = result.entries
        except ChangeLogTimeoutError as exc:
            entries = exc.partial.entries
        record(request_id, entries)
        if should_stop():
            break


def direct_delivery(db: Database, client: DscoClient) -> Callable[[], object]:
    """A `deliver` for headless use (CLI, tests, benchmarks): send the due outbox rows on this
    thread."""
    from dsco_desktop.services.outbox import OutboxSender

    sender = OutboxSender(db, client)
    return sender.send_due
