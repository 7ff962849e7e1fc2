"""The return store: DSCO's newest version wins, the supplier's answers survive a pull until
DSCO completes the return, and a restock is recorded once."""

from __future__ import annotations

from typing import Any

from dsco_desktop.store.db import Database
from dsco_desktop.store.returns import ReturnRepository, ReturnState


def dsco_return(last_update: str, status: str = "created", **extra: Any) -> dict[str, Any]:
    doc = {
        "dscoReturnId": "300000001",
        "returnNumber": "RMA-1",
        "dscoOrderId": "1001",
        "poNumber": "PO-1",
        "status": status,
        "lastUpdate": last_update,
        "lineItems": [
            {"lineNumber": 1, "sku": "RED-S", "quantity": 2, "reasonCode": "DAMAGED"},
            {"lineNumber": 2, "sku": "BLU-M", "quantity": 1, "reasonCode": "DAMAGED"},
        ],
    }
    doc.update(extra)
    return doc


def test_newest_version_wins_and_answers_survive_until_completed(db: Database) -> None:
    repo = ReturnRepository(db)
    assert repo.upsert_from_dsco([dsco_return("2025-11-14T10:00:00Z")]) == ["RMA-1"]
    assert repo.upsert_from_dsco([dsco_return("2025-11-14T09:00:00Z", "completed")]) == []
    with db.transaction() as tx:
        repo.record_answers(
            "RMA-1",
            [(0, "accepted", "", True, "WH01"), (1, "rejected", "Worn", False, None)],
            outbox_id=7,
            conn=tx,
        )
    # A pull while the answers are on their way keeps them.
    repo.upsert_from_dsco([dsco_return("2025-11-14T10:30:00Z")])
    record = repo.get("RMA-1")
    assert record is not None and record.state is ReturnState.COMPLETING
    assert [(x.response, x.decision_reason, x.restock) for x in record.lines] == [
        ("accepted", None, True),
        ("rejected", "Worn", False),
    ]
    completed = dsco_return("2025-11-14T11:00:00Z", "completed")
    for line, answer in zip(completed["lineItems"], ("accepted", "rejected"), strict=True):
        line["response"] = answer
    repo.upsert_from_dsco([completed])
    record = repo.get("RMA-1")
    assert record is not None and record.state is ReturnState.OPEN and record.completed
    [summary] = repo.list(statuses=["completed"])
    assert (summary.units, summary.skus) == (3, "RED-S, BLU-M")
    assert repo.list(text="blu-m")[0].return_number == "RMA-1"
    assert repo.returned_units("1001") == {"line:1": 2, "line:2": 1}


def test_a_restock_is_recorded_once(db: Database) -> None:
    repo = ReturnRepository(db)
    assert repo.add_restocks("RMA-1", [("RED-S", "WH01", 2)]) == 1
    assert repo.add_restocks("RMA-1", [("RED-S", "WH01", 2)]) == 0
    assert [(r.sku, r.quantity) for r in repo.restocks(number="RMA-1")] == [("RED-S", 2)]


def test_the_same_number_from_two_retailers_is_kept_apart(db: Database) -> None:
    repo = ReturnRepository(db)
    repo.upsert_from_dsco([dsco_return("2025-11-14T10:00:00Z")])
    other = dsco_return("2025-11-14T10:00:00Z", dscoReturnId="300000099", dscoOrderId="2002")
    assert repo.upsert_from_dsco([other]) == ["RMA-1 (300000099)"]
