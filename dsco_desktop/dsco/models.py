"""Pydantic v2 models of what DSCO sends and accepts on the wire (v3 spec names).

Attributes are snake_case; on the wire they are the spec's camelCase names (aliases), and both
are accepted on input. Every model keeps unknown fields (`extra="allow"`) because DSCO adds
attributes without notice, and dumping with `to_wire()` gives them back untouched.

The models are lenient on purpose, because losing an order to a parsing nit is worse than an odd
value: nulls are accepted everywhere, numbers may arrive as strings (and ids as numbers),
`eventReasons` may be an array or a single string, packages may say `tracking_url`, and dates are
kept as the strings DSCO wrote (parse them with `parse_dsco_datetime` when needed).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _lenient_str(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def _lenient_int(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value  # let pydantic report it
        return int(number) if math.isfinite(number) and number.is_integer() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _lenient_bool(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("y", "yes", "true", "1", "t"):
            return True
        if lowered in ("n", "no", "false", "0", "f"):
            return False
    return value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _one_or_many(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


Str = Annotated[str | None, BeforeValidator(_lenient_str)]
Int = Annotated[int | None, BeforeValidator(_lenient_int)]
Float = Annotated[float | None, BeforeValidator(_blank_to_none)]
Bool = Annotated[bool | None, BeforeValidator(_lenient_bool)]
DateStr = Annotated[str | None, BeforeValidator(_lenient_str)]
StrList = Annotated[list[str], BeforeValidator(_one_or_many)]


def parse_dsco_datetime(value: str | None) -> datetime | None:
    """Parse one of DSCO's ISO-8601 forms (`Z`, `+00:00`, `+0000`, fractions); None if unparsable.

    A value without an offset is taken as UTC.
    """
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # "+0100" is valid ISO-8601 basic format; fromisoformat wants "+01:00" before 3.11's fixes.
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class DscoModel(BaseModel):
    """Base of every wire model: camelCase aliases, unknown fields kept, nothing strict."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        serialize_by_alias=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict DSCO expects: spec names, only the fields that were set.

        Fields never set are left out rather than sent as null, because a JSON null deletes the
        attribute on DSCO's side (catalog and inventory updates).
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate one object as DSCO sent it."""
        return cls.model_validate(data)


# ---------------------------------------------------------------------------------------------
# Common


class ApiMessage(DscoModel):
    """One entry of DSCO's `messages` / `results` arrays (ApiResponseMessage)."""

    code: Str = None
    severity: Str = None
    description: Any = None  # string, object or array of strings per the spec

    @property
    def text(self) -> str:
        """The description as one readable line."""
        return describe(self.description)


def describe(value: Any) -> str:
    """Flatten a DSCO description (string, list of strings or object) into one line."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "; ".join(part for part in (describe(v) for v in value) if part)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {describe(v)}" for k, v in value.items())
    return str(value)


Messages = Annotated[list[ApiMessage], BeforeValidator(_none_to_list)]


class AsyncResponse(DscoModel):
    """ApiResponse of an async call (202) or LargeBatchUpdateResponse (with `data_url`)."""

    status: Str = None  # success | failure | pending
    request_id: Str = None
    event_date: DateStr = None
    messages: Messages = Field(default_factory=list)
    data_url: Str = None


class SuccessResponse(DscoModel):
    """`{"success": true}` from the sync single-object calls."""

    success: Bool = None


class SuccessFailResponse(DscoModel):
    """`{"status": "success" | "failure"}`, e.g. from a stream checkpoint."""

    status: Str = None


class Address(DscoModel):
    """OrderShipping and its relatives (billTo, buyer, packageShipTo, ...).

    Real payloads still carry the deprecated `address1`/`firstName`/`state` beside the new ones.
    """

    name: Str = None
    company: Str = None
    attention: Str = None
    first_name: Str = None
    last_name: Str = None
    address: StrList = Field(default_factory=list)
    address1: Str = Field(default=None, alias="address1")
    address2: Str = Field(default=None, alias="address2")
    city: Str = None
    region: Str = None
    state: Str = None
    postal: Str = None
    country: Str = None
    phone: Str = None
    email: Str = None
    address_type: Str = None
    store_number: Str = None

    @property
    def lines(self) -> list[str]:
        """Street lines, from `address` or else the deprecated address1/address2."""
        if self.address:
            return [line for line in self.address if line]
        return [line for line in (self.address1, self.address2) if line]

    @property
    def display_name(self) -> str:
        """The recipient's name, from `name` or the deprecated first/last names."""
        if self.name:
            return self.name
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def region_code(self) -> str | None:
        """State/province, from `region` or the deprecated `state`."""
        return self.region or self.state


# ---------------------------------------------------------------------------------------------
# Orders


class LineActivity(DscoModel):
    """One entry of a line's `activity` history."""

    action: Str = None
    quantity: Int = None
    reason: Str = None
    uuid: Str = None
    activity_date: DateStr = None


class OrderLineItem(DscoModel):
    """One line of an order."""

    quantity: Int = None
    line_number: Int = None
    dsco_item_id: Str = None
    sku: Str = None
    partner_sku: Str = None
    upc: Str = None
    ean: Str = None
    mpn: Str = None
    isbn: Str = None
    gtin: Str = None
    title: Str = None
    color: Str = None
    size: Str = None
    personalization: Str = None
    expected_cost: Float = None
    consumer_price: Float = None
    retail_price: Float = None
    status: Str = None
    status_reason: Str = None
    dsco_lifecycle: Str = None
    accepted_quantity: Int = None
    cancelled_quantity: Int = None
    cancelled_reason: Str = None
    cancel_code: Str = None
    rejected_quantity: Int = None
    shipped_quantity: Int = None
    remaining_quantity: Int = None
    cancel_requested: Bool = None
    warehouse_code: Str = None
    estimated_ship_date: DateStr = None
    ship_by_date: DateStr = None
    gift_message: Str = None
    activity: Annotated[list[LineActivity], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class PackageItem(DscoModel):
    """One line inside a package (`packages[].items[]`)."""

    quantity: Int = None
    line_number: Int = None
    dsco_item_id: Str = None
    sku: Str = None
    partner_sku: Str = None
    upc: Str = None
    ean: Str = None
    serial_numbers: StrList = Field(default_factory=list)


class Package(DscoModel):
    """A shipment as stored on an order (`order.packages[]`).

    Real payloads have carried `tracking_url` where the spec says `trackingUrl`; both are read,
    `trackingUrl` is written.
    """

    dsco_package_id: Int = None
    tracking_number: Str = None
    tracking_url: Str = Field(
        default=None,
        validation_alias=AliasChoices("trackingUrl", "tracking_url"),
        serialization_alias="trackingUrl",
    )
    untracked: Bool = None
    ship_date: DateStr = None
    ship_carrier: Str = None
    ship_method: Str = None
    shipping_service_level_code: Str = None
    ship_cost: Float = None
    ship_weight: Float = None
    ship_weight_units: Str = None
    warehouse_code: Str = None
    returned_flag: Bool = None
    items: Annotated[list[PackageItem], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class Order(DscoModel):
    """An order as DSCO returns it (page, get, stream payload)."""

    dsco_order_id: Str = None
    po_number: Str = None
    consumer_order_number: Str = None
    supplier_order_number: Str = None
    channel: Str = None
    order_type: Str = None
    dsco_lifecycle: Str = None
    dsco_status: Str = None
    test_flag: Bool = None
    cancel_requested: Bool = None
    dsco_retailer_id: Str = None
    dsco_supplier_id: Str = None
    dsco_trading_partner_id: Str = None
    dsco_trading_partner_name: Str = None
    dsco_create_date: DateStr = None
    dsco_last_update: DateStr = None
    retailer_create_date: DateStr = None
    consumer_order_date: DateStr = None
    ship_by_date: DateStr = None
    acknowledge_by_date: DateStr = None
    cancel_after_date: DateStr = None
    invoice_by_date: DateStr = None
    expected_delivery_date: DateStr = None
    ship_carrier: Str = None
    ship_method: Str = None
    shipping_service_level_code: Str = None
    requested_ship_carrier: Str = None
    requested_ship_method: Str = None
    requested_shipping_service_level_code: Str = None
    signature_required_flag: Bool = None
    ship_instructions: Str = None
    ship_warehouse_code: Str = None
    requested_warehouse_code: Str = None
    shipping: Address | None = None
    bill_to: Address | None = None
    gift_flag: Bool = None
    gift_message: Str = None
    packing_slip_message: Str = None
    currency_code: Str = None
    order_total_amount: Float = None
    number_of_line_items: Int = None
    line_items: Annotated[list[OrderLineItem], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    packages: Annotated[list[Package], BeforeValidator(_none_to_list)] = Field(default_factory=list)

    @property
    def last_update(self) -> datetime | None:
        """`dscoLastUpdate` parsed; what "newest wins" compares."""
        return parse_dsco_datetime(self.dsco_last_update)


class OrderPage(DscoModel):
    """PagedOrderResult from `GET /order/page`."""

    scroll_id: Str = None
    orders: Annotated[list[Order], BeforeValidator(_none_to_list)] = Field(default_factory=list)


class OrderCreatedResult(DscoModel):
    """What `POST /order/` (retailer side) answers."""

    status: Str = None
    dsco_order_ids: StrList = Field(default_factory=list)
    dsco_orders: Annotated[list[Order], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    event_date: DateStr = None


class ShipmentLineItem(DscoModel):
    """One line of a shipment being submitted."""

    quantity: Int = None
    line_number: Int = None
    dsco_item_id: Str = None
    sku: Str = None
    partner_sku: Str = None
    upc: Str = None
    ean: Str = None
    serial_numbers: StrList = Field(default_factory=list)


class Shipment(DscoModel):
    """ShipmentForUpdate: one package being submitted (singleShipment / shipment batch)."""

    tracking_number: Str = None
    tracking_url: Str = Field(
        default=None,
        validation_alias=AliasChoices("trackingUrl", "tracking_url"),
        serialization_alias="trackingUrl",
    )
    untracked: Bool = None
    ship_date: DateStr = None
    ship_carrier: Str = None
    ship_method: Str = None
    shipping_service_level_code: Str = None
    ship_cost: Float = None
    ship_weight: Float = None
    ship_weight_units: Str = None
    warehouse_code: Str = None
    line_items: Annotated[list[ShipmentLineItem], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class ShipmentsForUpdate(DscoModel):
    """The order (by dscoOrderId, poNumber or supplierOrderNumber) and its new shipments."""

    dsco_order_id: Str = None
    po_number: Str = None
    supplier_order_number: Str = None
    shipments: Annotated[list[Shipment], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


# ---------------------------------------------------------------------------------------------
# Inventory and catalog


class ItemWarehouse(DscoModel):
    """Quantity of one item in one warehouse (`ItemInventory.warehouses[]`)."""

    code: Str = None
    dsco_id: Str = None
    retailer_code: Str = None
    quantity: Int = None
    quantity_on_order: Int = None
    cost: Float = None
    status: Str = None
    estimated_availability_date: DateStr = None


class Inventory(DscoModel):
    """ItemInventory: stock and cost of one SKU, per warehouse.

    Items without a `warehouses` array have been seen despite the spec; it parses as [].
    """

    sku: Str = None
    dsco_item_id: Str = None
    upc: Str = None
    ean: Str = None
    mpn: Str = None
    isbn: Str = None
    gtin: Str = None
    partner_sku: Str = None
    quantity_available: Int = None
    status: Str = None
    cost: Float = None
    currency_code: Str = None
    estimated_availability_date: DateStr = None
    quantity_on_order: Int = None
    title: Str = None
    dsco_last_quantity_update_date: DateStr = None
    dsco_last_update_date: DateStr = None
    warehouses: Annotated[list[ItemWarehouse], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class Item(DscoModel):
    """ItemCatalog: the product data of one SKU (about 145 attributes; the rest stay extras)."""

    sku: Str = None
    dsco_item_id: Str = None
    dsco_product_id: Str = None
    product_status: Str = None
    title: Str = None
    description: Str = None
    short_description: Str = None
    long_text_description: Str = None
    brand: Str = None
    product_group: Str = None
    product_title: Str = None
    cost: Float = None
    msrp: Float = None
    map_price: Float = Field(default=None, alias="map")
    currency_code: Str = None
    upc: Str = None
    ean: Str = None
    gtin: Str = None
    mpn: Str = None
    isbn: Str = None
    color_primary_description: Str = None
    size_primary_description: Str = None
    weight: Float = None
    weight_units: Str = None
    length: Float = None
    width: Float = None
    height: Float = None
    dimension_units: Str = None
    country_of_origin: Str = None
    listing_status: Str = None
    dsco_last_update_date: DateStr = None


class Warehouse(DscoModel):
    """A supplier warehouse from `GET /warehouse/page`."""

    warehouse_id: Str = None
    code: Str = None
    supplier_id: Str = None
    retailer_code: Str = None
    status: Str = None
    name: Str = None
    address: StrList = Field(default_factory=list)
    city: Str = None
    region: Str = None
    postal: Str = None
    country: Str = None


class WarehousePage(DscoModel):
    """PagedWarehouseResult."""

    scroll_id: Str = None
    warehouses: Annotated[list[Warehouse], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


# ---------------------------------------------------------------------------------------------
# Invoices and returns


class InvoiceLineItem(DscoModel):
    """One invoiced line; `unit_price` is required by DSCO since January 2025."""

    quantity: Int = None
    unit_price: Float = None
    line_number: Int = None
    dsco_item_id: Str = None
    sku: Str = None
    partner_sku: Str = None
    upc: Str = None
    ean: Str = None
    title: Str = None
    extended_amount: Float = None
    tracking_number: Str = None


class Invoice(DscoModel):
    """An invoice for one order."""

    invoice_id: Str = None
    dsco_invoice_id: Str = None
    dsco_order_id: Str = None
    po_number: Str = None
    supplier_order_number: Str = None
    consumer_order_number: Str = None
    invoice_date: DateStr = None
    currency_code: Str = None
    total_amount: Float = None
    line_items_subtotal: Float = None
    handling_amount: Float = None
    freight_amount: Float = None
    sales_tax_amount: Float = None
    create_date: DateStr = None
    last_update: DateStr = None
    line_items: Annotated[list[InvoiceLineItem], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class InvoicesResponse(DscoModel):
    """GetInvoicesByIdResponse."""

    invoices: Annotated[list[Invoice], BeforeValidator(_none_to_list)] = Field(default_factory=list)


class ReturnLineItem(DscoModel):
    """One returned line; `response` (accepted | rejected) is set when completing."""

    quantity: Int = None
    reason_code: Str = None
    item_id: Str = None
    line_number: Int = None
    sku: Str = None
    partner_sku: Str = None
    upc: Str = None
    ean: Str = None
    mpn: Str = None
    title: Str = None
    response: Str = None


class Return(DscoModel):
    """A return (RMA) of some lines of an order."""

    dsco_return_id: Str = None
    return_number: Str = None
    partner_return_number: Str = None
    dsco_order_id: Str = None
    po_number: Str = None
    dsco_retailer_id: Str = None
    dsco_supplier_id: Str = None
    status: Str = None
    reason: Str = None
    response_reason: Str = None
    return_date: DateStr = None
    create_date: DateStr = None
    last_update: DateStr = None
    tracking_numbers: StrList = Field(default_factory=list)
    line_items: Annotated[list[ReturnLineItem], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class ReturnResponse(DscoModel):
    """`{status, return}` from create / complete return."""

    status: Str = None
    return_: Return | None = Field(default=None, alias="return")


class ReturnPage(DscoModel):
    """PagedReturnResult."""

    scroll_id: Str = None
    returns: Annotated[list[Return], BeforeValidator(_none_to_list)] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Change logs


class ChangeLogEntry(DscoModel):
    """One processed (or pending) object of an async request, from a `/*/log` call."""

    payload: Any = None
    date_processed: DateStr = None
    status: Str = None  # pending | success | failure
    request_method: Str = None
    request_method_detail: Any = None
    request_id: Str = None
    process_id: Str = None
    results: Messages = Field(default_factory=list)

    @property
    def record(self) -> dict[str, Any]:
        """The submitted object itself.

        Catalog change logs wrap it as `{"message": ItemCatalog}` (spec); the others do not.
        """
        payload = self.payload if isinstance(self.payload, dict) else {}
        inner = payload.get("message")
        if isinstance(inner, dict) and len(payload) == 1:
            return inner
        return payload

    @property
    def record_key(self) -> str | None:
        """The identifier of the object this entry is about (sku, order, invoice, return)."""
        payload = self.record
        if payload.get("type") and payload.get("id") not in (None, ""):
            return str(payload["id"])  # an OrderId (acknowledge, cancel): {id, type, ...}
        for key in (
            "sku",
            "invoiceId",
            "returnNumber",
            "dscoReturnId",
            "partnerReturnNumber",
            "poNumber",
            "dscoOrderId",
            "supplierOrderNumber",
            "id",
        ):
            value = payload.get(key)
            if value not in (None, ""):
                return str(value)
        return None

    @property
    def message_text(self) -> str:
        """DSCO's results for this record as one line."""
        return "; ".join(m.text for m in self.results if m.text)


class ChangeLogPage(DscoModel):
    """One page of a change log; `status` is set only when queried by requestId."""

    scroll_id: Str = None
    status: Str = None  # PROCESSING | COMPLETED
    logs: Annotated[list[ChangeLogEntry], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class ChangeLogResult(DscoModel):
    """The outcome of one async request, per record, as its change log reports it."""

    request_id: str
    status: str  # COMPLETED, or PROCESSING when the wait was stopped early
    entries: list[ChangeLogEntry] = Field(default_factory=list)

    @property
    def completed(self) -> bool:
        """Whether DSCO finished processing the request."""
        return self.status == "COMPLETED"

    @property
    def succeeded(self) -> list[ChangeLogEntry]:
        """Records DSCO applied."""
        return [e for e in self.entries if (e.status or "").lower() == "success"]

    @property
    def failed(self) -> list[ChangeLogEntry]:
        """Records DSCO rejected; `results` says why."""
        return [e for e in self.entries if (e.status or "").lower() == "failure"]

    @property
    def pending(self) -> list[ChangeLogEntry]:
        """Records accepted but not applied yet."""
        return [e for e in self.entries if (e.status or "").lower() == "pending"]

    @property
    def all_succeeded(self) -> bool:
        """Completed, with at least one record and every record a success."""
        return self.completed and bool(self.entries) and len(self.succeeded) == len(self.entries)


# ---------------------------------------------------------------------------------------------
# Streams


class StreamPartition(DscoModel):
    """One partition of a stream, with its saved position."""

    partition_id: Int = None
    status: Str = None
    owner_id: Str = None
    position: Str = None
    max_position: Str = None
    last_update: DateStr = None


class StreamMaxEvents(DscoModel):
    """Caps on one read of a stream partition; the first cap reached applies."""

    object_count: Int = None
    num_bytes: Int = None
    duration_sec: Int = None


class Stream(DscoModel):
    """A stream of one object type (order, inventory, catalog, invoice, ...)."""

    id: Str = None
    description: Str = None
    object_type: Str = None
    query: dict[str, Any] | None = None
    num_partitions: Int = None
    stream_version: Int = None
    max_events: StreamMaxEvents | None = None
    partitions: Annotated[list[StreamPartition], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class StreamOperationResponse(DscoModel):
    """What `POST /stream/{id}` (sync, setpartitionowner, repartition) answers."""

    operation_type: Str = None
    operation_uuid: Str = None


class StreamEvent(DscoModel):
    """One event of a stream; `id` is its position (for checkpoints and range reads)."""

    id: Str = None
    source: Str = None  # stream | sync
    event_reasons: StrList = Field(default_factory=list)
    partition_id: Int = None
    stream_version: Int = None
    payload: Any = None

    def payload_as_order(self) -> Order:
        """The payload read as an Order."""
        return Order.model_validate(self.payload or {})

    def payload_as_inventory(self) -> Inventory:
        """The payload read as an ItemInventory."""
        return Inventory.model_validate(self.payload or {})

    def payload_as_item(self) -> Item:
        """The payload read as an ItemCatalog."""
        return Item.model_validate(self.payload or {})

    def payload_as_invoice(self) -> Invoice:
        """The payload read as an Invoice."""
        return Invoice.model_validate(self.payload or {})

    def payload_as_return(self) -> Return:
        """The payload read as a Return."""
        return Return.model_validate(self.payload or {})


class StreamEventsPage(DscoModel):
    """StreamEventWrapper: the events read from one partition."""

    partition_id: Int = None
    owner_id: Str = None
    events: Annotated[list[StreamEvent], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )

    @property
    def last_position(self) -> str | None:
        """The id of the last event, i.e. where the next read (and the checkpoint) goes."""
        return self.events[-1].id if self.events else None
