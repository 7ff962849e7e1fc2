"""The outbox table: idempotency keys, counts, claims and the user's retry/discard actions."""

from __future__ import annotations

import pytest

from dsco_desktop.store.db import Database
from dsco_desktop.store.outbox import OutboxMessage, OutboxRepository, OutboxState


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_same_idempotency_key_twice_queues_one_row(db: Database) -> None:
    repo = OutboxRepository(db)
    first = repo.enqueue("order.acknowledge", {"orders": [{"id": "1"}]}, "ack:1")
    second = repo.enqueue("order.acknowledge", {"orders": [{"id": "1"}, {"id": "x"}]}, "ack:1")
    assert first == second
    assert repo.counts().pending == 1
    row = repo.get(first)
    assert row is not None
    assert row.payload == {"orders": [{"id": "1"}]}
    assert row.state is OutboxState.PENDING
    assert repo.get_by_key("ack:1") == row
    with pytest.raises(ValueError):
        repo.enqueue("order.acknowledge", {}, "")


def test_enqueue_inside_the_callers_transaction_rolls_back_with_it(db: Database) -> None:
    repo = OutboxRepository(db)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        repo.enqueue("invoice", {"invoiceId": "INV-1"}, "inv:1", conn=tx)
        raise RuntimeError("the local save failed")
    assert repo.counts().pending == 0


def test_claims_are_due_first_and_committed(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    a = repo.enqueue("k", {"n": 1}, "a")
    clock.now += 1
    b = repo.enqueue("k", {"n": 2}, "b")
    claimed = repo.claim_next("me", clock.now)
    assert claimed is not None
    assert (claimed.id, claimed.state, claimed.attempts) == (a, OutboxState.SENDING, 1)
    # Committed: another connection (another process) sees the claim.
    other = Database(db.path)
    assert OutboxRepository(other).counts().sending == 1
    other.close_all()
    # Not due yet: nothing to claim before its time.
    assert repo.mark_retry(a, clock.now + 60, "503", clock.now)
    nxt = repo.claim_next("me", clock.now)
    assert nxt is not None
    assert nxt.id == b
    assert repo.claim_next("me", clock.now) is None
    assert repo.next_due_at() == clock.now + 60
    retried = repo.claim_next("me", clock.now + 60)
    assert retried is not None
    assert (retried.id, retried.attempts, retried.last_error) == (a, 2, "503")


def test_state_changes_only_from_sending(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("k", {}, "a")
    assert not repo.mark_sent(row_id, {"requestId": "r"}, clock.now)  # never claimed
    assert repo.claim_next("me", clock.now) is not None
    assert repo.mark_sent(row_id, {"requestId": "r"}, clock.now)
    assert not repo.mark_failed(row_id, "late", clock.now)
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.SENT
    assert row.result == {"requestId": "r"}


def test_rejected_rows_keep_messages_per_record_and_can_be_discarded(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("catalog.batch", {"items": []}, "cat:1")
    repo.claim_next("me", clock.now)
    messages = [
        OutboxMessage("title is required", code="VALIDATION_FAILED", record="SKU-1"),
        OutboxMessage("bad upc", record="SKU-2", severity="error"),
    ]
    assert repo.mark_rejected(row_id, "DSCO refused 2 records", messages, clock.now)
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.REJECTED
    assert row.messages == tuple(messages)
    assert not repo.retry(row_id)  # rejected content is not sent again as it is
    assert repo.counts().needs_attention == 1
    assert repo.discard(row_id)
    assert repo.get(row_id) is None


def test_retry_of_a_failed_row_starts_a_fresh_window(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("invoice", {}, "inv:1")
    repo.claim_next("me", clock.now)
    repo.mark_failed(row_id, "gave up after 2 hours", clock.now)
    assert repo.counts().failed == 1
    assert not repo.discard(repo.enqueue("invoice", {}, "inv:2"))  # pending rows stay
    clock.now += 9_000
    assert repo.retry(row_id)
    row = repo.get(row_id)
    assert row is not None
    assert row.state is OutboxState.PENDING
    assert row.window_started_at == clock.now
    assert row.next_attempt_at == clock.now
    assert row.last_error == "gave up after 2 hours"
    assert not repo.retry(row_id)


def test_in_doubt_rows_are_taken_over_once(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    row_id = repo.enqueue("order.shipment", {}, "ship:1")
    repo.claim_next("dead-sender", clock.now)
    assert repo.in_doubt(exclude_claimed_by="dead-sender") == []
    doubtful = repo.in_doubt()
    assert [r.id for r in doubtful] == [row_id]
    taken = repo.reclaim(doubtful[0], "new-sender", clock.now)
    assert taken is not None
    assert taken.attempts == 2
    # A second sender that saw the same row in doubt does not get it too.
    assert repo.reclaim(doubtful[0], "other-sender", clock.now) is None


def test_counts_list_and_prune(db: Database) -> None:
    clock = Clock()
    repo = OutboxRepository(db, clock=clock)
    ids = [repo.enqueue("k", {"n": n}, f"k{n}") for n in range(4)]
    for _ in range(2):
        row = repo.claim_next("me", clock.now)
        assert row is not None
        repo.mark_sent(row.id, None, clock.now)
    counts = repo.counts()
    assert (counts.pending, counts.sent, counts.failed, counts.waiting) == (2, 2, 0, 2)
    assert [r.id for r in repo.list([OutboxState.PENDING])] == [ids[3], ids[2]]
    assert len(repo.list()) == 4
    assert repo.list([]) == []
    assert repo.prune_sent(clock.now + 1) == 2
    assert repo.counts().sent == 0
