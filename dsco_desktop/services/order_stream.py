"""The order stream poller: DSCO's order events into the local store, never lost or doubled.

On first use it finds (or creates) the supplier's order stream (dropship and marketplace
orders), remembers its id in the settings table, and fills the store with recent orders through
`GET /order/page` (the stream only carries what happens after its creation). Each poll then
reads every partition from its saved position until DSCO answers an empty page, and applies
each page in ONE SQLite transaction: orders upserted by dscoOrderId (newest dscoLastUpdate
wins, so replays and duplicates change nothing), the event history, optional
auto-acknowledgements, and the new position. Only after that commit is the position
checkpointed on DSCO (`PUT /stream/...`), so a crash at any point re-reads at most one page,
which the upsert absorbs.

`resync` re-reads orders through `GET /order/page` since a date and reports what it found that
the stream had not delivered. No Qt here: `ui/stream_worker.py` drives `poll` from a thread.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dsco_desktop.dsco.errors import DscoError, NotFoundError
from dsco_desktop.services.order_actions import enqueue_acknowledgements
from dsco_desktop.store._util import normalize_timestamp, text_or_none
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderEventRecord, OrderRepository
from dsco_desktop.store.settings import SettingsRepository
from dsco_desktop.store.streams import StreamCheckpointRepository

if TYPE_CHECKING:
    from dsco_desktop.dsco.client import DscoClient
    from dsco_desktop.dsco.models import StreamEvent

log = logging.getLogger(__name__)

STREAM_ID_KEY = "order_stream.stream_id"
BACKFILLED_KEY = "order_stream.backfilled"
BACKFILL_AFTER_KEY = "order_stream.backfill_after"
STREAM_DESCRIPTION = "DSCO Desktop order inbox"
# Without orderTypes DSCO streams dropship orders only; marketplaces (Poshmark) are the rest.
STREAM_QUERY: dict[str, Any] = {"queryType": "order", "orderTypes": ["dropship", "marketplace"]}
# Pages of at most this many events: a 1,000-event page (DSCO's default) is parsed in one go
# while holding Python's GIL, which stalls the window for a quarter of a second.
STREAM_MAX_EVENTS: dict[str, Any] = {"objectCount": 250}
# How far back the first connection fetches orders the stream cannot carry.
DEFAULT_BACKFILL_DAYS = 30
# /order/page refuses an `until` less than 5 s in the past; keep a margin for clock skew.
UNTIL_MARGIN_S = 10.0

_EVENT_MS = re.compile(r"/(\d{10,})(?:-\d+)?$")


@dataclass(frozen=True)
class StreamBatch:
    """What one applied page of events changed (plain data for the UI)."""

    events: int
    inserted: tuple[str, ...]
    updated: tuple[str, ...]
    position: str
    cancel_requests: tuple[str, ...] = ()  # orders whose retailer newly asks to cancel
    skipped: int = 0  # events without an order in them
    at: float = 0.0  # epoch seconds when it was applied


@dataclass(frozen=True)
class PollReport:
    """What one poll (every partition read until an empty page) did."""

    events: int = 0
    inserted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    batches: int = 0
    checkpoint_error: str | None = None
    stopped: bool = False


@dataclass(frozen=True)
class ResyncReport:
    """What a resync found: orders the stream had not delivered, and stale local copies."""

    since: str
    checked: int = 0
    missing: tuple[str, ...] = ()  # dscoOrderIds that were not stored at all
    stale: tuple[str, ...] = ()  # stored, but DSCO had a newer version
    missing_po: tuple[str, ...] = ()  # the same orders as `missing`, by PO number
    stale_po: tuple[str, ...] = ()
    cancelled: bool = False

    @property
    def summary(self) -> str:
        """One sentence for the status bar."""
        if not self.missing and not self.stale:
            return (
                f"Resync checked {self.checked:,} order(s) since {self.since[:10]}: "
                "nothing was missing."
            )
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing):,} order(s) the stream had not delivered")
        if self.stale:
            parts.append(f"{len(self.stale):,} out-of-date order(s)")
        return (
            f"Resync checked {self.checked:,} order(s) since {self.since[:10]} and filled in "
            + " and ".join(parts)
            + "."
        )


@dataclass
class _StreamInfo:
    stream_id: str
    positions: dict[int, str] = field(default_factory=dict)  # server's position per partition


def event_time(event_id: str | None, payload: Mapping[str, Any]) -> str | None:
    """When an event happened: the epoch-ms inside its id, else the order's dscoLastUpdate."""
    match = _EVENT_MS.search(event_id or "")
    if match:
        stamp = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
        return normalize_timestamp(stamp)
    return normalize_timestamp(payload.get("dscoLastUpdate"))


class OrderStreamService:
    """Keeps the local orders in step with DSCO's order stream; one instance per thread."""

    def __init__(
        self,
        db: Database,
        client: DscoClient,
        *,
        auto_acknowledge: Callable[[], bool] = lambda: False,
        backfill_days: float = DEFAULT_BACKFILL_DAYS,
        until_margin_s: float = UNTIL_MARGIN_S,
        on_batch: Callable[[StreamBatch], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`backfill_days` 0 skips the first fill; `until_margin_s` is how far behind now a
        /order/page read stops (DSCO refuses less than 5 s)."""
        self._db = db
        self._client = client
        self._orders = OrderRepository(db)
        self._checkpoints = StreamCheckpointRepository(db)
        self._settings = SettingsRepository(db)
        self._auto_acknowledge = auto_acknowledge
        self._backfill_days = backfill_days
        self._until_margin = timedelta(seconds=until_margin_s)
        self._on_batch = on_batch
        self._clock = clock
        self._stream: _StreamInfo | None = None

    # -- the stream ---------------------------------------------------------------------------

    @property
    def stream_id(self) -> str | None:
        """The order stream in use, once known."""
        return None if self._stream is None else self._stream.stream_id

    def ensure_stream(self) -> str:
        """Find the saved stream (or one of ours on DSCO), or create it; fill in once.

        The stream carries only what happens after its creation, so the orders before it come
        from /order/page. That read must end at least a few seconds in the past, so for a new
        stream it waits until the stream's creation is that far behind: no order falls between.
        """
        if self._stream is None:
            self._stream = self._find_or_create()
        stream_id = self._stream.stream_id
        if self._backfill_days > 0 and not self._settings.get(f"{BACKFILLED_KEY}.{stream_id}"):
            after = float(self._settings.get(f"{BACKFILL_AFTER_KEY}.{stream_id}", 0.0) or 0.0)
            if self._clock() >= after:
                since = datetime.fromtimestamp(self._clock(), tz=UTC) - timedelta(
                    days=self._backfill_days
                )
                report = self.resync(since)
                log.info("First fill of the order inbox: %s", report.summary)
                self._settings.set(f"{BACKFILLED_KEY}.{stream_id}", True)
        return stream_id

    @property
    def backfilled(self) -> bool:
        """Whether the orders from before the stream have been fetched (or needn't be)."""
        if self._backfill_days <= 0:
            return True
        stream_id = self.stream_id
        return bool(stream_id and self._settings.get(f"{BACKFILLED_KEY}.{stream_id}"))

    def _find_or_create(self) -> _StreamInfo:
        saved = self._settings.get(STREAM_ID_KEY)
        if isinstance(saved, str) and saved:
            stream = self._client.get_stream(saved)
            if stream is not None:
                return _info(stream)
            log.warning("The saved order stream %s is gone on DSCO; looking for another", saved)
        for stream in self._client.list_streams():
            if stream.object_type == "order" and stream.description == STREAM_DESCRIPTION:
                self._settings.set(STREAM_ID_KEY, stream.id)
                return _info(stream)
        created = self._client.create_stream(
            "order",
            query=STREAM_QUERY,
            description=STREAM_DESCRIPTION,
            max_events=STREAM_MAX_EVENTS,
        )
        if not created.id:
            raise DscoError("DSCO created the order stream but did not say its id.")
        log.info("Created the order stream %s", created.id)
        self._settings.set(STREAM_ID_KEY, created.id)
        self._settings.set(
            f"{BACKFILL_AFTER_KEY}.{created.id}",
            self._clock() + self._until_margin.total_seconds() + 0.5,
        )
        return _info(created)

    def forget_stream(self) -> None:
        """Drop the remembered stream (DSCO no longer knows it); the next poll finds another."""
        self._stream = None
        self._settings.delete(STREAM_ID_KEY)

    # -- polling ------------------------------------------------------------------------------

    def poll(self, should_stop: Callable[[], bool] = lambda: False) -> PollReport:
        """Read every partition until DSCO has nothing more; apply and checkpoint each page."""
        try:
            stream_id = self.ensure_stream()
        except NotFoundError:
            self.forget_stream()
            raise
        assert self._stream is not None
        events = batches = 0
        inserted: list[str] = []
        updated: list[str] = []
        checkpoint_error: str | None = None
        for partition_id, server_position in sorted(self._stream.positions.items()):
            position = self._checkpoints.get(stream_id, partition_id) or server_position
            while True:
                if should_stop():
                    return PollReport(
                        events, tuple(inserted), tuple(updated), batches, checkpoint_error, True
                    )
                try:
                    page = self._client.get_stream_events(stream_id, partition_id, position)
                except NotFoundError:
                    self.forget_stream()
                    raise
                if not page.events:
                    break
                batch = self.apply_events(stream_id, partition_id, page.events)
                position = batch.position
                events += batch.events
                batches += 1
                inserted.extend(batch.inserted)
                updated.extend(batch.updated)
                checkpoint_error = self._checkpoint(stream_id, partition_id, position)
                if self._on_batch is not None:
                    self._on_batch(batch)
        return PollReport(events, tuple(inserted), tuple(updated), batches, checkpoint_error)

    def _checkpoint(self, stream_id: str, partition_id: int, position: str) -> str | None:
        """Move DSCO's position after the local commit; a failure only costs a re-read."""
        try:
            self._client.checkpoint_stream(stream_id, partition_id, position)
        except DscoError as exc:
            log.info("Checkpoint of stream %s not saved on DSCO: %s", stream_id, exc)
            return str(exc)
        return None

    def apply_events(
        self,
        stream_id: str,
        partition_id: int,
        events: Sequence[StreamEvent | Mapping[str, Any]],
    ) -> StreamBatch:
        """Store a page of events and the position after it, in one transaction."""
        payloads: list[dict[str, Any]] = []
        history: list[OrderEventRecord] = []
        position: str | None = None
        skipped = 0
        for event in events:
            data = _event_dict(event)
            event_id = text_or_none(data.get("id"))
            if event_id is not None:
                position = event_id
            payload = data.get("payload")
            order_id = (
                text_or_none(payload.get("dscoOrderId")) if isinstance(payload, dict) else None
            )
            if not isinstance(payload, dict) or order_id is None:
                skipped += 1
                log.warning("Stream event %s carries no order; skipped", event_id)
                continue
            payloads.append(payload)
            reasons = data.get("eventReasons") or []
            history.append(
                OrderEventRecord(
                    dsco_order_id=order_id,
                    event_id=event_id or f"update:{payload.get('dscoLastUpdate')}",
                    at=event_time(event_id, payload),
                    reasons=tuple(
                        str(r)
                        for r in (reasons if isinstance(reasons, list) else [reasons])
                        if r is not None
                    ),
                    source=text_or_none(data.get("source")),
                    lifecycle=text_or_none(payload.get("dscoLifecycle")),
                )
            )
        if position is None:
            raise DscoError("DSCO sent stream events without ids; the position cannot advance.")
        with self._db.transaction() as tx:
            requested_before = _cancel_requested(tx, [p["dscoOrderId"] for p in payloads])
            result = self._orders.upsert_many(payloads, conn=tx)
            self._orders.record_events(history, conn=tx)
            if self._auto_acknowledge() and result.inserted:
                enqueue_acknowledgements(self._db, tx, result.inserted, auto=True)
            requested_now = _cancel_requested(tx, result.changed)
            self._checkpoints.set(stream_id, partition_id, position, conn=tx)
        return StreamBatch(
            events=len(events),
            inserted=tuple(result.inserted),
            updated=tuple(result.updated),
            position=position,
            cancel_requests=tuple(sorted(requested_now - requested_before)),
            skipped=skipped,
            at=self._clock(),
        )

    # -- resync -------------------------------------------------------------------------------

    def resync(
        self,
        since: datetime,
        *,
        progress: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ResyncReport:
        """Re-read orders updated since `since` via /order/page; store what the stream missed."""
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        until = datetime.fromtimestamp(self._clock(), tz=UTC) - self._until_margin
        since_text = normalize_timestamp(since) or ""
        if since >= until:
            return ResyncReport(since=since_text)
        missing: list[str] = []
        stale: list[str] = []
        po_by_id: dict[str, str] = {}
        checked = 0
        page: list[dict[str, Any]] = []

        def flush() -> None:
            result = self._store_resynced(page)
            missing.extend(result[0])
            stale.extend(result[1])
            page.clear()

        orders = self._client.iter_orders(
            orders_updated_since=since, until=until, orders_per_page=1000
        )
        for order in orders:
            data = order.model_dump(mode="json", by_alias=True)
            order_id = text_or_none(data.get("dscoOrderId"))
            if order_id is None:
                continue
            po_by_id[order_id] = text_or_none(data.get("poNumber")) or order_id
            page.append(data)
            checked += 1
            if len(page) >= 500:
                flush()
                if progress is not None:
                    progress(checked)
                if should_stop():
                    return _resync_report(
                        since_text, checked, missing, stale, po_by_id, cancelled=True
                    )
        if page:
            flush()
        if progress is not None:
            progress(checked)
        return _resync_report(since_text, checked, missing, stale, po_by_id, cancelled=False)

    def _store_resynced(self, orders: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        with self._db.transaction() as tx:
            result = self._orders.upsert_many(orders, conn=tx)
            changed = set(result.changed)
            self._orders.record_events(
                [
                    OrderEventRecord(
                        dsco_order_id=str(o["dscoOrderId"]),
                        event_id=f"resync:{o.get('dscoLastUpdate')}",
                        at=normalize_timestamp(o.get("dscoLastUpdate")),
                        reasons=("resync",),
                        source="resync",
                        lifecycle=text_or_none(o.get("dscoLifecycle")),
                    )
                    for o in orders
                    if str(o["dscoOrderId"]) in changed
                ],
                conn=tx,
            )
        return result.inserted, result.updated


def _info(stream: Any) -> _StreamInfo:
    positions: dict[int, str] = {}
    for partition in stream.partitions or []:
        if partition.partition_id is None or (partition.status or "active") != "active":
            continue
        positions[int(partition.partition_id)] = partition.position or ""
    if not positions:
        positions[0] = ""
    return _StreamInfo(stream_id=str(stream.id), positions=positions)


def _event_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, Mapping):
        return dict(event)
    return {
        "id": event.id,
        "source": event.source,
        "eventReasons": list(event.event_reasons),
        "payload": event.payload,
    }


def _cancel_requested(conn: Any, ids: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        found.update(
            row[0]
            for row in conn.execute(
                "SELECT dsco_order_id FROM orders WHERE cancel_requested = 1 "
                f"AND qty_remaining > 0 AND dsco_order_id IN ({marks})",
                chunk,
            )
        )
    return found


def _resync_report(
    since: str,
    checked: int,
    missing: list[str],
    stale: list[str],
    po_by_id: Mapping[str, str],
    *,
    cancelled: bool,
) -> ResyncReport:
    return ResyncReport(
        since=since,
        checked=checked,
        missing=tuple(missing),
        stale=tuple(stale),
        missing_po=tuple(po_by_id.get(i, i) for i in missing),
        stale_po=tuple(po_by_id.get(i, i) for i in stale),
        cancelled=cancelled,
    )
