"""Shipping rules: carrier-specific codes (never GCG), preselection from the order, and plans
whose quantities can never exceed what remains."""

from __future__ import annotations

from datetime import date

import pytest

from dsco_desktop.domain.shipping import (
    LineState,
    PackagePlan,
    check_plan,
    check_service_level,
    default_quantities,
    line_states,
    plan_payload,
    preselect,
    service_levels_for,
)
from dsco_desktop.domain.tracking import Carrier

UPS_OK = "1Z879E930346834440"
UPS_OK_2 = "1Z999AA10123456784"
USPS_OK = "9400111201080805483016"


def _lines() -> list[LineState]:
    return line_states(
        [
            {"lineNumber": 1, "sku": "A", "quantity": 3, "shippedQuantity": 1},
            {"lineNumber": 2, "sku": "B", "quantity": 2, "cancelledQuantity": 2},
            {"lineNumber": 3, "sku": "C", "quantity": 1, "shippedQuantity": 1},
            {"lineNumber": 4, "sku": "D", "quantity": 2},
        ]
    )


def test_generic_codes_are_refused_on_shipments() -> None:
    message = check_service_level("GCG", "USPS")
    assert message is not None and "generic" in message and "USGA" in message
    assert check_service_level("gcg", "UPS") is not None
    assert check_service_level("", "UPS") is not None
    assert check_service_level("USGA", "USPS") is None
    assert "FedEx code" in (check_service_level("FECG", "UPS") or "")
    # A ship-mapped code of the account's own is allowed.
    assert check_service_level("ACME_2DAY", "Other") is None


def test_every_known_code_is_carrier_specific() -> None:
    for carrier in (Carrier.USPS, Carrier.UPS, Carrier.FEDEX, Carrier.ONTRAC):
        codes = service_levels_for(carrier)
        assert codes
        assert all(check_service_level(s.code, carrier) is None for s in codes)
    assert [s.code for s in service_levels_for("FedEx")][:3] == ["FECG", "FEHD", "FESP"]


@pytest.mark.parametrize(
    ("order", "carrier", "code"),
    [
        ({"code": "USPM", "carrier": "USPS", "method": "Priority Mail"}, Carrier.USPS, "USPM"),
        ({"code": "GCG", "carrier": "UPS", "method": "Ground"}, Carrier.UPS, "UPCG"),
        ({"code": "GCG", "carrier": "FedEx", "method": "Home Delivery"}, Carrier.FEDEX, "FEHD"),
        ({"code": "GCG", "carrier": "FedEx", "method": "SmartPost"}, Carrier.FEDEX, "FESP"),
        ({"requested_carrier": "FedEx", "requested_method": "2Day"}, Carrier.FEDEX, "FE2D"),
        ({"requested_code": "FECG"}, Carrier.FEDEX, "FECG"),
        ({"code": "GCG"}, Carrier.USPS, "USGA"),
        ({}, Carrier.USPS, "USGA"),
        ({"carrier": "OnTrac"}, Carrier.ONTRAC, "ONCG"),
    ],
)
def test_preselection_follows_the_order_and_never_picks_gcg(
    order: dict[str, str], carrier: Carrier, code: str
) -> None:
    chosen = preselect(**order)
    assert chosen.carrier is carrier
    assert chosen.code == code
    assert chosen.code != "GCG"


def test_generic_order_code_is_explained() -> None:
    chosen = preselect(code="GCG")
    assert "generic code GCG" in chosen.note


def test_dhl_has_no_known_code_and_asks_for_the_ship_mapping() -> None:
    chosen = preselect(carrier="DHL", method="Express")
    assert chosen.carrier is Carrier.DHL
    assert chosen.code is None
    assert "ship mapping" in chosen.note


def test_remaining_and_why_a_line_cannot_ship() -> None:
    lines = _lines()
    assert [line.remaining for line in lines] == [2, 0, 0, 2]
    assert lines[0].not_shippable_reason() is None
    assert lines[1].not_shippable_reason() == "Cancelled."
    assert lines[2].not_shippable_reason() == "Already shipped."
    assert default_quantities(lines) == {"line:1": 2, "line:4": 2}


def test_pending_local_shipments_reduce_what_remains() -> None:
    lines = line_states([{"lineNumber": 1, "sku": "A", "quantity": 2}], {"line:1": 2})
    assert lines[0].remaining == 0
    assert lines[0].not_shippable_reason() == "2 already in a shipment waiting for DSCO."


def test_dsco_remaining_quantity_wins_when_smaller() -> None:
    lines = line_states([{"lineNumber": 1, "quantity": 3, "remainingQuantity": 1}])
    assert lines[0].remaining == 1


def _package(quantities: dict[str, int], **overrides: object) -> PackagePlan:
    values: dict[str, object] = {
        "carrier": "UPS",
        "service_level_code": "UPCG",
        "tracking_number": UPS_OK,
        "ship_date": date(2025, 11, 14),
        "weight": 2.0,
        "quantities": quantities,
    }
    values.update(overrides)
    return PackagePlan(**values)  # type: ignore[arg-type]


def test_a_good_plan_has_no_problems() -> None:
    assert check_plan(_lines(), [_package({"line:1": 2, "line:4": 2})]) == []


def test_over_shipment_is_refused_with_the_numbers() -> None:
    problems = check_plan(_lines(), [_package({"line:1": 3})])
    assert len(problems) == 1
    assert problems[0].line == "line:1"
    assert "3 to ship but only 2 remain" in problems[0].message
    assert "shipped 1" in problems[0].message


def test_quantities_across_packages_add_up() -> None:
    packages = [
        _package({"line:4": 1}),
        _package({"line:4": 1}, tracking_number=UPS_OK_2),
    ]
    assert check_plan(_lines(), packages) == []
    packages.append(_package({"line:4": 1}, tracking_number="1Z12345E6605272234"))
    problems = check_plan(_lines(), packages)
    assert [p.line for p in problems] == ["line:4"]
    assert "3 to ship but only 2 remain" in problems[0].message


def test_a_line_that_cannot_ship_says_why() -> None:
    problems = check_plan(_lines(), [_package({"line:2": 1})])
    assert problems[0].message == "Line 2 (B) cannot ship: Cancelled."


def test_package_problems_are_named_per_field() -> None:
    packages = [
        _package({"line:1": 1}, service_level_code="GCG"),
        _package({}, tracking_number=UPS_OK, carrier="UPS"),
        _package({"line:4": 1}, carrier="USPS", service_level_code="USGA", weight=0),
    ]
    problems = check_plan(_lines(), packages, existing_tracking=[])
    fields = {(p.package, p.field) for p in problems}
    assert (0, "code") in fields
    assert (1, "quantity") in fields  # ships nothing
    assert (1, "tracking") in fields  # same number as package 1
    assert (2, "tracking") in fields  # a UPS number under USPS
    assert (2, "weight") in fields
    usps = next(p for p in problems if p.package == 2 and p.field == "tracking")
    assert "This looks like a UPS number." in usps.message


def test_tracking_number_already_on_the_order() -> None:
    problems = check_plan(_lines(), [_package({"line:1": 1})], existing_tracking=[UPS_OK])
    assert problems[0].message == "This tracking number is already on the order."


def test_future_ship_date_is_a_warning() -> None:
    problems = check_plan(
        _lines(), [_package({"line:1": 1}, ship_date=date(2030, 1, 1))], today=date(2025, 1, 1)
    )
    assert [p.severity for p in problems] == ["warning"]


def test_payload_is_what_dsco_needs() -> None:
    lines = line_states(
        [{"lineNumber": 1, "sku": "A", "quantity": 2, "dscoItemId": 77}, {"sku": "B"}]
    )
    body = plan_payload(
        "1001",
        "PO1",
        lines,
        [
            _package(
                {"line:1": 2, "sku:B": 0},
                warehouse_code="WH01",
                tracking_number=" 1z879e930346834440",
            )
        ],
    )
    assert body["dscoOrderId"] == "1001" and body["poNumber"] == "PO1"
    (shipment,) = body["shipments"]
    assert shipment["trackingNumber"] == UPS_OK
    assert shipment["shipCarrier"] == "UPS"
    assert shipment["shippingServiceLevelCode"] == "UPCG"
    assert shipment["shipMethod"] == "Ground"
    assert shipment["shipDate"] == "2025-11-14T00:00:00Z"
    assert shipment["shipWeight"] == 2.0 and shipment["shipWeightUnits"] == "LB"
    assert shipment["warehouseCode"] == "WH01"
    assert shipment["lineItems"] == [
        {"quantity": 2, "lineNumber": 1, "sku": "A", "dscoItemId": "77"}
    ]
