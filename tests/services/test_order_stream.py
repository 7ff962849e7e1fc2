"""The order stream poller against the sandbox: every order once, whatever the stream does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.dsco.errors import NotFoundError, ServerError
from dsco_desktop.services.order_stream import (
    STREAM_ID_KEY,
    OrderStreamService,
    StreamBatch,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.orders import OrderRepository
from dsco_desktop.store.settings import SettingsRepository
from dsco_desktop.store.streams import StreamCheckpointRepository
from tests.services.orders_support import (
    age_sandbox_orders,
    client_for,
    create_orders,
    retailer_order,
    sandbox_order_ids,
    stored_order_ids,
    wait_for,
)


def _service(db: Database, client: DscoClient, **kwargs: Any) -> OrderStreamService:
    """A poller without the first fill from /order/page (most tests look at the stream only)."""
    kwargs.setdefault("backfill_days", 0)
    return OrderStreamService(db, client, **kwargs)


def _new_orders(sandbox: Any, before: set[str]) -> list[str]:
    return sorted(set(sandbox_order_ids(sandbox)) - before)


def test_first_poll_creates_the_stream_and_fills_in_the_orders_from_before_it(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    service = OrderStreamService(db, client, until_margin_s=5.05)
    service.poll()
    streams = client.list_streams()
    assert [s.object_type for s in streams] == ["order"]
    assert streams[0].query == {"queryType": "order", "orderTypes": ["dropship", "marketplace"]}
    assert SettingsRepository(db).get(STREAM_ID_KEY) == streams[0].id
    # An order placed right after the stream was made comes through the stream...
    [fresh] = create_orders(client, sandbox, 1)
    service.poll()
    assert stored_order_ids(db) == [fresh]
    # ...and the demo shop's orders, older than the stream, through /order/page once DSCO's
    # "at least 5 s in the past" rule lets the read reach the stream's creation.
    wait_for(lambda: service.poll() is not None and service.backfilled, timeout=15, step=0.25)
    assert sorted(stored_order_ids(db)) == sorted(sandbox_order_ids(sandbox))
    # A restart finds the same stream instead of making another.
    OrderStreamService(db, client).poll()
    assert len(client.list_streams()) == 1


def test_an_order_created_by_the_retailer_arrives_within_one_poll(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    batches: list[StreamBatch] = []
    service = _service(db, client, on_batch=batches.append)
    service.poll()
    [order_id] = create_orders(client, sandbox, 1)
    report = service.poll()
    assert report.inserted == (order_id,)
    order = OrderRepository(db).get(order_id)
    assert order is not None and order.lifecycle == "created"
    assert [e.reasons for e in OrderRepository(db).events(order_id)] == [("create",)]
    assert batches and batches[-1].inserted == (order_id,)
    # DSCO's saved position is the local one, moved after the commit.
    stream_id = service.stream_id
    assert stream_id is not None
    local = StreamCheckpointRepository(db).get(stream_id, 0)
    assert client.get_stream(stream_id).partitions[0].position == local  # type: ignore[union-attr]


def test_five_hundred_orders_in_a_burst_all_arrive_once_across_capped_pages(
    sandbox_factory: Any, db: Database
) -> None:
    sandbox = sandbox_factory(rate_limits=False)
    before = set(sandbox_order_ids(sandbox))
    with client_for(sandbox) as client:
        service = _service(db, client)
        service.poll()
        client.update_stream(service.stream_id or "", max_events={"objectCount": 60})
        answer = client.create_orders_small_batch([retailer_order(sandbox) for _ in range(500)])
        assert client.wait_for_change_log("order", answer.request_id or "", timeout_s=20)
        report = service.poll()
    assert report.events == 500
    assert report.batches == 9  # 500 events, at most 60 per page
    stored = stored_order_ids(db)
    assert len(stored) == len(set(stored)) == 500
    assert sorted(stored) == _new_orders(sandbox, before)


def test_duplicated_events_change_nothing(sandbox_factory: Any, db: Database) -> None:
    sandbox = sandbox_factory(duplicate_event_rate=0.6, seed=7)
    before = set(sandbox_order_ids(sandbox))
    with client_for(sandbox) as client:
        service = _service(db, client)
        service.poll()
        ids = create_orders(client, sandbox, 20)
        report = service.poll()
    assert report.events > 20  # the sandbox served some events twice
    assert sorted(report.inserted) == sorted(ids)
    stored = stored_order_ids(db)
    assert len(stored) == len(set(stored)) == 20
    assert sorted(stored) == _new_orders(sandbox, before)
    # The history holds each event once, even though some were read twice.
    assert all(len(OrderRepository(db).events(i)) == 1 for i in ids)


def test_a_replayed_older_version_never_overwrites_a_newer_one(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    service = _service(db, client)
    service.poll()
    [order_id] = create_orders(client, sandbox, 1)
    client.acknowledge_orders([{"id": order_id, "type": "DSCO_ORDER_ID"}])
    repo = OrderRepository(db)
    wait_for(lambda: service.poll() and repo.get(order_id).lifecycle == "acknowledged")  # type: ignore[union-attr]
    # Re-read the whole stream from its start (as after losing the checkpoint): the create
    # event comes again, older than what is stored, and changes nothing.
    stream = client.get_stream(service.stream_id or "")
    assert stream is not None
    start = client.get_stream_events_in_range(
        stream.id or "", 0, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    )
    batch = service.apply_events(stream.id or "", 0, start.events)
    assert batch.inserted == () and batch.updated == ()
    assert OrderRepository(db).get(order_id).lifecycle == "acknowledged"  # type: ignore[union-attr]


def test_a_failed_checkpoint_costs_nothing(sandbox: Any, db: Database) -> None:
    class FlakyCheckpoints(DscoClient):
        def checkpoint_stream(self, *args: Any, **kwargs: Any) -> Any:
            raise ServerError("DSCO is having trouble", status=503)

    with (
        FlakyCheckpoints(
            sandbox.base_url, sandbox.client_id, sandbox.client_secret, max_retries=0
        ) as flaky,
        client_for(sandbox) as client,
    ):
        service = _service(db, flaky)
        service.poll()
        ids = create_orders(client, sandbox, 3)
        report = service.poll()
        assert report.checkpoint_error is not None
        assert sorted(report.inserted) == sorted(ids)
        # The next poll starts from the local position, not DSCO's stale one: nothing re-read.
        again = _service(db, client).poll()
    assert again.events == 0
    assert sorted(stored_order_ids(db)) == sorted(ids)


def test_resync_fills_gaps_and_says_what_the_stream_missed(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    service = _service(db, client)
    service.poll()
    ids = create_orders(client, sandbox, 4)
    service.poll()
    age_sandbox_orders(sandbox, 60)
    lost = ids[:3]
    with db.transaction() as tx:
        tx.executemany("DELETE FROM orders WHERE dsco_order_id = ?", [(i,) for i in lost])
    report = service.resync(datetime.now(UTC) - timedelta(days=2))
    # The demo shop's orders (older than the stream) and the three lost ones were missing.
    assert set(lost) <= set(report.missing)
    assert set(report.missing) == set(sandbox_order_ids(sandbox)) - {ids[3]}
    assert report.stale == ()
    assert f"{len(report.missing)} order(s) the stream had not delivered" in report.summary
    assert sorted(stored_order_ids(db)) == sorted(sandbox_order_ids(sandbox))
    again = service.resync(datetime.now(UTC) - timedelta(days=2))
    assert again.missing == ()
    assert "nothing was missing" in again.summary
    history = OrderRepository(db).events(lost[0])
    assert "resync" in [e.source for e in history]


def test_a_stream_deleted_on_dsco_is_replaced(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    service = _service(db, client)
    service.poll()
    old = service.stream_id
    client.delete_stream(old or "")
    with pytest.raises(NotFoundError):
        service.poll()
    ids = create_orders(client, sandbox, 2)
    service.poll()
    assert service.stream_id not in (None, old)
    more = create_orders(client, sandbox, 2)
    service.poll()
    assert sorted(stored_order_ids(db)) == sorted(more)  # the new stream starts when made
    assert not set(ids) & set(stored_order_ids(db))  # in the gap: a resync finds those


def test_a_retailer_cancel_request_is_reported_once(
    sandbox: Any, db: Database, client: DscoClient
) -> None:
    batches: list[StreamBatch] = []
    service = _service(db, client, on_batch=batches.append)
    service.poll()
    [order_id] = create_orders(client, sandbox, 1, cancelRequested=True, cancelRequestedCode="CXRR")
    service.poll()
    assert batches[-1].cancel_requests == (order_id,)
    summary = OrderRepository(db).summaries([order_id])[order_id]
    assert summary.cancel_requested and summary.cancel_requested_code == "CXRR"
