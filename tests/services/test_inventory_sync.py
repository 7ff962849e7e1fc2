"""Inventory pushes against the sandbox: edits reach DSCO, refusals land on their row, orders
are pulled first so the quantity sent is what can really be sold, undone edits send nothing."""

from __future__ import annotations

from typing import Any

import pytest

from dsco_desktop.domain.inventory import DISCONTINUED, BulkOperation, LevelValues
from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.services.inventory_sync import (
    DelistingNotConfirmedError,
    InventorySync,
    OrderPull,
    UnpulledOrdersError,
    direct_delivery,
    stream_pull,
)
from dsco_desktop.store.db import Database
from dsco_desktop.store.inventory import InventoryFilter, InventoryLevel
from dsco_desktop.store.outbox import OutboxRepository


def make_sync(db: Database, client: DscoClient, **kw: Any) -> InventorySync:
    kw.setdefault("pull_orders", OrderPull)
    return InventorySync(db, client, deliver=direct_delivery(db, client), **kw)


def dsco_quantities(client: DscoClient, sku: str) -> dict[str, int]:
    item = client.get_inventory(itemKey="sku", value=sku)
    assert item is not None
    return {w.code or "": w.quantity or 0 for w in item.warehouses}


def test_an_edit_reaches_dsco_and_its_change_log_says_success(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    sku = sandbox.state.all_skus()[0]
    sync = make_sync(db, client)
    assert sync.refresh_from_dsco([sku]) == 2
    sync.editor.stage({(sku, "WH01"): LevelValues(17, buffer=2)})

    report = sync.push(poll_s=0.05)

    assert dsco_quantities(client, sku)["WH01"] == 15  # 17 on hand - 2 buffer
    assert report.accepted == 2 and report.rejected == 0
    row = sync.repo.rows(keys=[(sku, "WH01")])[0]
    assert row.push_state == "accepted" and row.dsco_quantity == 15
    assert row.last_confirmed_at and not row.pending
    (request_id,) = report.request_ids
    _status, entries = client.read_change_log("inventory", request_id)
    assert [e.status for e in entries] == ["success"]


def test_an_unknown_sku_comes_back_rejected_on_its_row(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    known = sandbox.state.all_skus()[1]
    sync = make_sync(db, client)
    sync.refresh_from_dsco([known])
    sync.editor.stage(
        {(known, "WH02"): LevelValues(9), ("NO-SUCH-SKU", "WH01"): LevelValues(4)}, create=True
    )

    report = sync.push(poll_s=0.05)

    bad = sync.repo.rows(keys=[("NO-SUCH-SKU", "WH01")])[0]
    assert bad.push_state == "rejected"
    assert "NO-SUCH-SKU" in (bad.push_message or "") and "does not exist" in (
        bad.push_message or ""
    )
    assert report.rejected == 1
    assert "does not exist" in report.messages[("NO-SUCH-SKU", "WH01")]
    assert report.accepted == 2 and report.request_ids  # both warehouses of the known SKU
    assert dsco_quantities(client, known)["WH02"] == 9
    errors = sync.repo.rows(InventoryFilter(errors=True))
    assert [r.sku for r in errors] == ["NO-SUCH-SKU"]


def test_a_push_pulls_unpulled_orders_first_and_sends_the_reduced_quantity(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    sku = sandbox.state.all_skus()[3]
    pull = stream_pull(db, client, backfill_days=0)
    assert pull().error is None  # the order stream exists from here on
    sync = make_sync(db, client, pull_orders=pull)
    sync.editor.levels.upsert_many(
        [InventoryLevel(sku, "WH01", 10), InventoryLevel(sku, "WH02", 0)]
    )
    # A retailer orders 3 units; the app has not pulled that order yet.
    client.create_order(
        {
            "poNumber": "PO-INV-1",
            "shipping": {
                "name": "A Buyer",
                "address": ["1 Main St"],
                "city": "Austin",
                "region": "TX",
                "postal": "78704",
            },
            "lineItems": [{"sku": sku, "quantity": 3, "lineNumber": 1}],
        }
    )

    report = sync.push(poll_s=0.05)

    assert report.pull.new_orders == 1
    assert dsco_quantities(client, sku) == {"WH01": 7, "WH02": 0}
    row = sync.repo.rows(keys=[(sku, "WH01")])[0]
    assert (row.quantity, row.allocated, row.available) == (10, 3, 7)


def test_a_push_stops_when_orders_could_not_be_pulled(db: Database, client: DscoClient) -> None:
    sync = make_sync(db, client, pull_orders=lambda: OrderPull(error="DSCO is down"))
    sync.editor.levels.upsert_many([InventoryLevel("X-1", "WH01", 4)])
    outbox = OutboxRepository(db)

    with pytest.raises(UnpulledOrdersError, match="oversell"):
        sync.push()

    assert outbox.counts().pending == 0 and outbox.counts().sent == 0


def test_undo_of_a_staged_edit_sends_nothing(
    db: Database, client: DscoClient, sandbox: Any
) -> None:
    sku = sandbox.state.all_skus()[2]
    sync = make_sync(db, client)
    sync.refresh_from_dsco([sku])
    sync.push(poll_s=0.05)  # DSCO and the app agree from here on
    before = dsco_quantities(client, sku)
    sent_before = OutboxRepository(db).counts().sent

    change = sync.editor.stage({(sku, "WH01"): LevelValues(before["WH01"] + 40)})
    sync.editor.undo(change)
    report = sync.push(poll_s=0.05)

    assert report.skus == 0
    assert OutboxRepository(db).counts().sent == sent_before
    assert dsco_quantities(client, sku) == before


def test_the_history_shows_before_and_after(db: Database, client: DscoClient, sandbox: Any) -> None:
    sku = sandbox.state.all_skus()[4]
    sync = make_sync(db, client)
    sync.editor.levels.upsert_many([InventoryLevel(sku, "WH01", 8), InventoryLevel(sku, "WH02", 1)])
    sync.editor.stage({(sku, "WH01"): LevelValues(12)})
    sync.push(poll_s=0.05)

    history = sync.editor.history(sku)
    edits = [(h.source, h.field, h.before, h.after) for h in history if h.warehouse_code == "WH01"]
    assert ("edit", "on hand", "8", "12") in edits
    assert ("push", "available sent", None, "12") in edits
    assert ("dsco", "DSCO quantity", None, "12") in edits
    # The next confirmation starts from what DSCO confirmed last time.
    sync.editor.stage({(sku, "WH01"): LevelValues(15)})
    sync.push(poll_s=0.05)
    history = sync.editor.history(sku)
    edits = [(h.source, h.field, h.before, h.after) for h in history if h.warehouse_code == "WH01"]
    assert ("dsco", "DSCO quantity", "12", "15") in edits


def test_delisting_needs_confirmation(db: Database, client: DscoClient, sandbox: Any) -> None:
    sku = sandbox.state.all_skus()[5]
    sync = make_sync(db, client)
    sync.refresh_from_dsco([sku])
    sync.push(poll_s=0.05)
    keys = [(sku, "WH01"), (sku, "WH02")]
    sync.editor.stage_bulk(keys, BulkOperation.DISCONTINUE)

    with pytest.raises(DelistingNotConfirmedError, match=sku):
        sync.push()
    held = sync.push(hold_back_delistings=True)
    assert held.held_back == (sku,) and held.skus == 0

    report = sync.push(confirm_delisting=True, poll_s=0.05)
    assert report.accepted == 2
    assert dsco_quantities(client, sku) == {"WH01": 0, "WH02": 0}
    rows = sync.repo.rows(skus=[sku])
    assert {r.status for r in rows} == {DISCONTINUED}


def test_batches_stay_small(db: Database, client: DscoClient, sandbox: Any) -> None:
    skus = sandbox.state.all_skus()[:12]
    sync = make_sync(db, client)
    sync.editor.levels.upsert_many([InventoryLevel(s, "WH01", 5) for s in skus])
    report = sync.push(max_batch_items=5, poll_s=0.05)
    assert report.batches == 3 and report.accepted == 12
    assert len(report.request_ids) == 3
