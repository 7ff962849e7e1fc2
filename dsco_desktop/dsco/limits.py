"""DSCO's published request limits, checked before sending, and a splitter that respects them.

The spec limits every small-batch body (inventory, catalog, orders, shipments, cancels,
acknowledgements, invoices, returns) to five megabytes, and large-batch files to two gigabytes.
It names no record-count limit for small batches; the byte limit is the one to respect.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dsco_desktop.errors import UserFacingError

# "Up to five megabytes": taken as decimal megabytes, the stricter reading.
SMALL_BATCH_MAX_BYTES = 5_000_000
LARGE_BATCH_MAX_BYTES = 2_000_000_000
ORDERS_PER_PAGE_MIN = 10
ORDERS_PER_PAGE_MAX = 1000
STREAM_MAX_PARTITIONS = 20


def json_size(value: Any) -> int:
    """Bytes of `value` as the client serialises it (compact JSON, UTF-8)."""
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def check_small_batch(records: Sequence[Any], what: str) -> int:
    """Refuse an empty or oversize small batch before it is sent; return its size in bytes."""
    if not records:
        raise UserFacingError(f"There are no {what} to send.")
    size = json_size(list(records))
    if size > SMALL_BATCH_MAX_BYTES:
        raise UserFacingError(
            f"This batch of {len(records)} {what} is {_megabytes(size)}; DSCO accepts at most "
            f"{_megabytes(SMALL_BATCH_MAX_BYTES)} per batch.",
            detail="Send it in smaller batches (the app splits batches automatically), "
            "or use the large-batch upload.",
        )
    return size


def check_large_batch(size: int, count: int, what: str) -> None:
    """Refuse an empty or oversize large-batch file before it is uploaded."""
    if count == 0:
        raise UserFacingError(f"There are no {what} to send.")
    if size > LARGE_BATCH_MAX_BYTES:
        raise UserFacingError(
            f"This file of {count} {what} is {_megabytes(size)}; DSCO accepts at most "
            f"{_megabytes(LARGE_BATCH_MAX_BYTES)} per large batch. Split it into several uploads."
        )


def split_small_batches(
    records: Iterable[Any], max_bytes: int = SMALL_BATCH_MAX_BYTES
) -> Iterator[list[Any]]:
    """Group records (JSON-ready dicts) into batches whose JSON array fits in `max_bytes`.

    A single record larger than the limit is yielded alone, so the send refuses it with a clear
    message instead of it silently disappearing.
    """
    batch: list[Any] = []
    size = 2  # the enclosing "[]"
    for record in records:
        record_size = json_size(record) + 1  # and its comma
        if batch and size + record_size > max_bytes:
            yield batch
            batch, size = [], 2
        batch.append(record)
        size += record_size
    if batch:
        yield batch
