"""The shipment repository: recorded once per key, pending units per line, searchable."""

from __future__ import annotations

from pathlib import Path

from dsco_desktop.store.db import Database
from dsco_desktop.store.shipments import (
    NewPackage,
    PackageLine,
    ShipmentRepository,
    ShipmentState,
)


def _package(tracking: str, quantity: int = 1) -> NewPackage:
    return NewPackage(
        tracking_number=tracking,
        ship_carrier="UPS",
        shipping_service_level_code="UPCG",
        ship_date="2025-11-14",
        weight=1.0,
        weight_unit="LB",
        warehouse_code="WH01",
        lines=[PackageLine("line:1", 1, "SKU-1", quantity), PackageLine("line:2", 2, "SKU-2", 0)],
    )


def _add(repo: ShipmentRepository, key: str, *trackings: str, order: str = "1001") -> int:
    return repo.add(
        dsco_order_id=order,
        po_number=f"PO-{order}",
        packages=[_package(t) for t in trackings],
        payload={"dscoOrderId": order},
        idempotency_key=key,
        outbox_id=None,
    )


def test_a_shipment_is_recorded_with_its_packages(tmp_path: Path) -> None:
    repo = ShipmentRepository(Database(tmp_path / "db.sqlite3"))
    shipment_id = _add(repo, "k1", "1ZA", "1ZB")
    assert _add(repo, "k1", "1ZA", "1ZB") == shipment_id
    record = repo.get(shipment_id)
    assert record is not None
    assert record.state is ShipmentState.PENDING
    assert record.tracking_numbers == ["1ZA", "1ZB"]
    # Lines with nothing in them are not stored.
    assert [line.line_key for line in record.packages[0].lines] == ["line:1"]
    assert record.units == 2


def test_pending_quantities_count_only_open_shipments(tmp_path: Path) -> None:
    repo = ShipmentRepository(Database(tmp_path / "db.sqlite3"))
    first = _add(repo, "k1", "1ZA")
    second = _add(repo, "k2", "1ZB")
    third = _add(repo, "k3", "1ZC")
    assert repo.pending_quantities("1001") == {"line:1": 3}
    repo.set_state(first, ShipmentState.CONFIRMED)
    repo.set_state(
        second, ShipmentState.REJECTED, message="no", messages=["Ship carrier is required"]
    )
    repo.set_state(third, ShipmentState.ACCEPTED_NOT_APPLIED, count_confirm_attempt=True)
    assert repo.pending_quantities("1001") == {"line:1": 1}
    rejected = repo.get(second)
    assert rejected is not None and rejected.messages == ("Ship carrier is required",)
    confirmed = repo.get(first)
    assert confirmed is not None and confirmed.confirmed_at and confirmed.sent_at
    assert repo.tracking_in_use(["1ZA", "1ZB", "1ZX"]) == {"1ZA": first}
    assert repo.counts()[ShipmentState.CONFIRMED] == 1


def test_list_filters_by_state_and_text(tmp_path: Path) -> None:
    repo = ShipmentRepository(Database(tmp_path / "db.sqlite3"))
    _add(repo, "k1", "1ZAAA", order="1001")
    other = _add(repo, "k2", "1ZBBB", order="2002")
    repo.set_state(other, ShipmentState.SENT)
    assert [r.id for r in repo.list(text="1zbbb")] == [other]
    assert [r.id for r in repo.list(text="po-2002")] == [other]
    assert [r.dsco_order_id for r in repo.list(states=[ShipmentState.PENDING])] == ["1001"]
    assert repo.list(states=[]) == []
    assert [r.dsco_order_id for r in repo.list()] == ["2002", "1001"]
    assert repo.warehouse_codes() == ["WH01"]
