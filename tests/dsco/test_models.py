"""The wire models accept what DSCO really sends and give back what it expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dsco_desktop.dsco.models import (
    AsyncResponse,
    ChangeLogPage,
    Inventory,
    Item,
    Order,
    ShipmentsForUpdate,
    StreamEvent,
    StreamEventsPage,
    parse_dsco_datetime,
)

# Shaped like a real order-stream payload (values invented): every key present, nulls where
# empty, deprecated address fields, lower-case orderType, snake_case tracking_url.
REAL_ORDER = {
    "dscoOrderId": "1022178919",
    "poNumber": "PM-5551",
    "orderType": "dropship",
    "dscoLifecycle": "acknowledged",
    "dscoStatus": "shipment_pending",
    "dscoLastUpdate": "2025-11-06T23:02:30+00:00",
    "buyer": None,
    "billTo": {},
    "testFlag": None,
    "giftFlag": "false",
    "orderTotalAmount": "42.50",
    "numberOfLineItems": "1",
    "shipping": {
        "address1": "1 MAIN ST",
        "address": ["1 MAIN ST"],
        "city": "SPRINGFIELD",
        "country": "US",
        "firstName": "Jane",
        "lastName": "Doe",
        "name": "Jane Doe",
        "phone": "15555550100",
        "postal": "07657",
        "region": None,
        "state": "NJ",
    },
    "lineItems": [
        {
            "quantity": 2,
            "lineNumber": "1",
            "sku": "TEE-RED-M",
            "dscoItemId": 1296623843,
            "expectedCost": "12.5",
            "cancelledQuantity": None,
            "activity": [{"action": "accept", "quantity": "2", "updateDate": "2025-11-06"}],
            "brandNewLineField": {"nested": True},
        }
    ],
    "packages": [
        {
            "dscoPackageId": 77,
            "trackingNumber": "9400111",
            "tracking_url": "https://tools.usps.com/?t=9400111",
            "shipWeightUnits": "LB",
            "items": [{"quantity": 2, "sku": "TEE-RED-M", "lineNumber": 1}],
        }
    ],
    "someFieldDscoAddedLastWeek": [1, 2, 3],
}


def test_a_real_looking_order_parses_with_its_quirks() -> None:
    order = Order.from_wire(REAL_ORDER)
    assert order.dsco_order_id == "1022178919"
    assert order.gift_flag is False
    assert order.order_total_amount == 42.5
    assert order.number_of_line_items == 1
    assert order.bill_to is not None and order.bill_to.lines == []
    line = order.line_items[0]
    assert line.dsco_item_id == "1296623843"  # a number on the wire, an id string here
    assert line.line_number == 1
    assert line.expected_cost == 12.5
    assert line.activity[0].quantity == 2
    assert order.packages[0].tracking_url == "https://tools.usps.com/?t=9400111"
    assert order.shipping is not None
    assert order.shipping.region_code == "NJ"
    assert order.shipping.display_name == "Jane Doe"
    assert order.last_update == datetime(2025, 11, 6, 23, 2, 30, tzinfo=UTC)


def test_unknown_fields_survive_a_round_trip() -> None:
    wire = Order.from_wire(REAL_ORDER).to_wire()
    assert wire["someFieldDscoAddedLastWeek"] == [1, 2, 3]
    assert wire["lineItems"][0]["brandNewLineField"] == {"nested": True}
    assert wire["packages"][0]["trackingUrl"] == "https://tools.usps.com/?t=9400111"
    assert "tracking_url" not in wire["packages"][0]
    assert wire["dscoOrderId"] == "1022178919"


def test_snake_case_construction_dumps_spec_names_and_only_what_was_set() -> None:
    shipment = ShipmentsForUpdate(
        po_number="PM-5551",
        shipments=[
            {
                "tracking_number": "1Z999",
                "ship_carrier": "UPS",
                "shipping_service_level_code": "UPCG",
                "line_items": [{"sku": "TEE-RED-M", "quantity": 2}],
            }
        ],
    )
    assert shipment.to_wire() == {
        "poNumber": "PM-5551",
        "shipments": [
            {
                "trackingNumber": "1Z999",
                "shipCarrier": "UPS",
                "shippingServiceLevelCode": "UPCG",
                "lineItems": [{"sku": "TEE-RED-M", "quantity": 2}],
            }
        ],
    }


def test_catalog_null_means_delete_and_is_kept_when_set() -> None:
    item = Item.from_wire({"sku": "A", "title": "Tee", "productStatus": "active", "brand": None})
    assert item.to_wire() == {"sku": "A", "title": "Tee", "productStatus": "active", "brand": None}
    assert Item(sku="A", map_price=9.99).to_wire() == {"sku": "A", "map": 9.99}


def test_inventory_without_warehouses_parses() -> None:
    inventory = Inventory.from_wire({"sku": "A", "quantityAvailable": "5", "warehouses": None})
    assert inventory.warehouses == []
    assert inventory.quantity_available == 5


def test_stream_events_accept_reasons_as_array_or_string() -> None:
    page = StreamEventsPage.from_wire(
        {
            "partitionId": 0,
            "events": [
                {"id": "a", "source": "stream", "eventReasons": ["create"], "payload": REAL_ORDER},
                {"id": "b", "source": "sync", "eventReasons": "update_status_lifecycle"},
                {"id": "c", "source": "stream", "eventReasons": None, "payload": None},
            ],
        }
    )
    assert [e.event_reasons for e in page.events] == [["create"], ["update_status_lifecycle"], []]
    assert page.events[0].payload_as_order().po_number == "PM-5551"
    assert page.last_position == "c"
    assert StreamEvent.from_wire({"id": "x"}).payload_as_inventory().sku is None


def test_api_messages_flatten_any_description_shape() -> None:
    answer = AsyncResponse.from_wire(
        {
            "status": "pending",
            "requestId": "r1",
            "messages": [
                {"code": "A", "description": "plain"},
                {"code": "B", "description": ["one", "two"]},
                {"code": "C", "description": {"field": "sku", "problem": "missing"}},
            ],
        }
    )
    assert [m.text for m in answer.messages] == [
        "plain",
        "one; two",
        "field: sku; problem: missing",
    ]


def test_change_log_entries_name_their_record() -> None:
    page = ChangeLogPage.from_wire(
        {
            "logs": [
                {"payload": {"id": 1022178919, "type": "DSCO_ORDER_ID"}, "status": "success"},
                {"payload": {"poNumber": "PO1", "shipments": []}, "status": "failure"},
                {"payload": {"message": {"sku": "TEE-1", "title": "Tee"}}, "status": "success"},
            ]
        }
    )
    assert [e.record_key for e in page.logs] == ["1022178919", "PO1", "TEE-1"]
    assert page.logs[2].record == {"sku": "TEE-1", "title": "Tee"}
    assert page.status is None


def test_dsco_date_forms_parse() -> None:
    plus_one = timezone(timedelta(hours=1))
    assert parse_dsco_datetime("2025-11-06T23:02:30+00:00") == datetime(
        2025, 11, 6, 23, 2, 30, tzinfo=UTC
    )
    assert parse_dsco_datetime("2025-11-06T23:02:30.000Z") == datetime(
        2025, 11, 6, 23, 2, 30, tzinfo=UTC
    )
    assert parse_dsco_datetime("2025-11-06T23:02:30+0100") == datetime(
        2025, 11, 6, 23, 2, 30, tzinfo=plus_one
    )
    assert parse_dsco_datetime("garbage") is None
    assert parse_dsco_datetime(None) is None
