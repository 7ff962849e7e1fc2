"""`DscoClient`: typed methods for every DSCO v3 supplier operation the app uses.

Paths, parameters and bodies follow the vendor's OpenAPI spec (reference/dsco-api-v3-openapi.yaml).
Bodies are passed as JSON-ready dicts (spec field names) or as `models.DscoModel` instances;
answers come back as the pydantic models of `models.py`.

Behaviour shared by every call (see `session.py`): a bearer token from the `TokenManager`,
refreshed once on a 401 and the call retried once; short retries with backoff for network errors,
408, 429 and 5xx; typed errors carrying DSCO's messages; every HTTP attempt reported to `on_call`
with customer data redacted. One instance may be used from several threads at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic.alias_generators import to_camel

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.auth import TokenManager
from dsco_desktop.dsco.environments import check_base_url
from dsco_desktop.dsco.errors import AuthError, DscoError, NotFoundError, UnreadableAnswerError
from dsco_desktop.dsco.limits import check_large_batch, check_small_batch
from dsco_desktop.dsco.models import (
    AsyncResponse,
    ChangeLogEntry,
    ChangeLogPage,
    ChangeLogResult,
    DscoModel,
    Inventory,
    Invoice,
    InvoicesResponse,
    Item,
    Order,
    OrderCreatedResult,
    OrderPage,
    ReturnPage,
    ReturnResponse,
    Stream,
    StreamEventsPage,
    StreamOperationResponse,
    SuccessFailResponse,
    Warehouse,
    WarehousePage,
)
from dsco_desktop.dsco.session import QueryParams, Sent, Session
from dsco_desktop.errors import UserFacingError

ChangeLogName = Literal["order", "inventory", "catalog", "invoice", "return"]
Record = Mapping[str, Any] | DscoModel

_LOG_PATHS: dict[str, str] = {
    "order": "/order/log",
    "inventory": "/inventory/log",
    "catalog": "/catalog/log",
    "invoice": "/invoice/log",
    "return": "/return/log",
}


class ChangeLogTimeoutError(UserFacingError, TimeoutError):
    """DSCO had not finished processing an async request when the wait ran out."""

    def __init__(self, message: str, *, request_id: str, partial: ChangeLogResult) -> None:
        super().__init__(
            message,
            detail="DSCO accepted the request but has not applied it yet; check again later.",
        )
        self.request_id = request_id
        self.partial = partial


def to_wire(record: Record) -> dict[str, Any]:
    """A record as the JSON object DSCO expects."""
    if isinstance(record, DscoModel):
        return record.to_wire()
    return dict(record)


def format_query_value(value: Any) -> str:
    """One query value as DSCO reads it: ISO-8601 UTC dates, lower-case booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def build_query(filters: Mapping[str, Any]) -> QueryParams:
    """Query pairs from keyword filters: snake_case or spec names, lists repeated, None dropped."""
    pairs: QueryParams = []
    for key, value in filters.items():
        if value is None:
            continue
        name = to_camel(key) if "_" in key else key
        if isinstance(value, list | tuple | set | frozenset):
            pairs.extend((name, format_query_value(v)) for v in value if v is not None)
        else:
            pairs.append((name, format_query_value(value)))
    return pairs


def _segment(value: Any) -> str:
    """One path segment, fully percent-encoded (stream positions contain "/")."""
    return quote(format_query_value(value), safe="")


def _order_label(record: Mapping[str, Any]) -> str:
    """How a shop owner names an order: by PO number first."""
    for key, label in (
        ("poNumber", "PO"),
        ("dscoOrderId", "DSCO order"),
        ("supplierOrderNumber", "order"),
    ):
        if record.get(key):
            return f"{label} {record[key]}"
    if record.get("id"):
        kind = str(record.get("type") or "")
        label = "PO" if kind == "PO_NUMBER" else "DSCO order" if kind else "order"
        return f"{label} {record['id']}"
    return "the order"


_M = TypeVar("_M", bound=pydantic.BaseModel)


def _success(sent: Sent) -> dict[str, Any]:
    """A synchronous call's answer (DSCO may send no body: 201 means it worked)."""
    return sent.body if isinstance(sent.body, dict) else {"success": True}


def _parse(model: type[_M], data: Any) -> _M:
    """Validate a DSCO answer; a body of the wrong shape is a DscoError, never a traceback."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise UnreadableAnswerError(
            f"DSCO sent an answer this app cannot read ({model.__name__}, at {where}: "
            f"{first['msg']}).",
            detail="Trying again later usually gets a proper answer.",
        ) from None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class DscoClient:
    """The DSCO v3 API for one supplier account; thread-safe."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_wait_max_s: float = 8.0,
    ) -> None:
        self._base_url = check_base_url(base_url)
        self._client_id = client_id
        self._session = Session(
            self._base_url,
            on_call=on_call,
            transport=transport,
            timeout=timeout,
            max_retries=max_retries,
            retry_wait_max_s=retry_wait_max_s,
        )
        self._tokens = TokenManager(client_id, client_secret, self._fetch_token)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The checked base URL, e.g. https://api.dsco.io/api/v3."""
        return self._base_url

    @property
    def client_id(self) -> str:
        """The API client id (not a secret)."""
        return self._client_id

    @property
    def tokens(self) -> TokenManager:
        """The token manager (for diagnostics; it never reveals the secret)."""
        return self._tokens

    def __repr__(self) -> str:
        return f"DscoClient(base_url={self._base_url!r}, client_id={self._client_id!r})"

    def __getstate__(self) -> None:
        raise TypeError("DscoClient holds credentials and cannot be pickled")

    def close(self) -> None:
        """Forget the token and close connections."""
        self._tokens.clear()
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _fetch_token(self, form: Mapping[str, str]) -> Any:
        sent = self._session.send(
            "POST", "/oauth2/token", what="the token request", form=form, token_call=True
        )
        return sent.body

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: QueryParams | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Sent:
        """An authenticated call: on a 401 the token is refreshed once and the call retried once."""
        for attempt in range(2):
            token = self._tokens.token()
            call_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
            try:
                return self._session.send(
                    method,
                    path,
                    what=what,
                    params=params,
                    json_body=json_body,
                    content=content,
                    headers=call_headers,
                )
            except AuthError as exc:
                if exc.status != 401 or attempt == 1:
                    raise
                self._tokens.invalidate(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_optional(self, path: str, *, what: str, params: QueryParams) -> Any:
        """GET returning the body, or None when DSCO says 404 (or answers with nothing)."""
        try:
            return self._call("GET", path, what=what, params=params).body
        except NotFoundError:
            return None

    def _get_one(self, path: str, model: type[_M], *, what: str, params: QueryParams) -> _M | None:
        """GET one object (the first when DSCO answers with a list); None when it is unknown."""
        body = self._get_optional(path, what=what, params=params)
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict) or not body:
            return None
        return _parse(model, body)

    def _post_batch(
        self,
        path: str,
        records: Sequence[Record],
        *,
        noun: str,
        params: QueryParams | None = None,
    ) -> AsyncResponse:
        body = [to_wire(r) for r in records]
        check_small_batch(body, noun + "s")
        what = f"the batch of {_plural(len(body), noun)}"
        sent = self._call("POST", path, what=what, params=params, json_body=body)
        return _parse(AsyncResponse, sent.body or {})

    def _large_batch(
        self,
        path: str,
        records: Iterable[Record],
        *,
        noun: str,
        params: QueryParams | None = None,
    ) -> AsyncResponse:
        """Both steps of a large batch: ask DSCO for an upload URL, then PUT JSON Lines to it."""
        lines = [json.dumps(to_wire(r), separators=(",", ":")) for r in records]
        data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        check_large_batch(len(data), len(lines), noun + "s")
        what = f"the large batch of {_plural(len(lines), noun)}"
        sent = self._call("POST", path, what=what, params=params)
        answer = _parse(AsyncResponse, sent.body or {})
        if (answer.status or "").lower() == "failure" or not answer.data_url:
            raise DscoError(
                f"DSCO did not accept {what}"
                + (f": {'; '.join(m.text for m in answer.messages)}" if answer.messages else "."),
                status=sent.status,
                request_id=answer.request_id,
            )
        upload_url = answer.data_url
        # The upload URL comes from DSCO but the token goes with it: same HTTPS rule as the base.
        check_base_url(upload_url.split("?", 1)[0])
        # "With the same HTTP headers as the original API call" (spec).
        self._call(
            "PUT",
            upload_url,
            what=f"the upload of {what}",
            content=data,
            headers={"Content-Type": "application/json"},
        )
        return answer

    # -- health -------------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token (cached until shortly before expiry)."""
        return self._tokens.token()

    def hello(self) -> dict[str, Any]:
        """`GET /hello`: proves the address and the credentials work."""
        body = self._call("GET", "/hello", what="the connection test").body
        return body if isinstance(body, dict) else {"hello": body}

    # -- orders -------------------------------------------------------------------------------

    def get_order_page(self, **filters: Any) -> OrderPage:
        """`GET /order/page`: one page of orders (scrollId, consumerOrderNumber or dates).

        Filters use the spec names or snake_case (`orders_updated_since=`, `until=`,
        `status=[...]`, `orders_per_page=`); datetimes are sent as ISO-8601 UTC.
        """
        body = self._call(
            "GET", "/order/page", what="the order search", params=build_query(filters)
        ).body
        return _parse(OrderPage, body or {})

    def iter_orders(self, **filters: Any) -> Iterator[Order]:
        """Every order matching `filters`, following scrollId until an empty page."""
        page = self.get_order_page(**filters)
        while True:
            yield from page.orders
            # DSCO may keep the same scrollId across pages; an empty page means the end.
            if not page.orders or not page.scroll_id:
                return
            page = self.get_order_page(scrollId=page.scroll_id)

    def get_order(self, key: str, value: str, **extra: Any) -> Order | None:
        """`GET /order/` by `key` (dscoOrderId, poNumber or supplierOrderNumber); None if absent."""
        label = {"poNumber": "PO", "dscoOrderId": "DSCO order"}.get(key, key)
        params = build_query({"orderKey": key, "value": value, **extra})
        return self._get_one("/order/", Order, what=f"{label} {value}", params=params)

    def acknowledge_orders(self, orders: Sequence[Record]) -> AsyncResponse:
        """`POST /order/acknowledge` (async): `[{id, type, supplierOrderNumber?}]`."""
        return self._post_batch("/order/acknowledge", orders, noun="order acknowledgement")

    def acknowledge_order_items(self, orders: Sequence[Record]) -> AsyncResponse:
        """`POST /order/acknowledge/items` (async): per-line acknowledgements."""
        return self._post_batch("/order/acknowledge/items", orders, noun="line acknowledgement")

    def cancel_order_item(self, order: Record) -> AsyncResponse:
        """`POST /order/item/cancel`: cancel quantities of one order's lines (200 or 202)."""
        body = to_wire(order)
        check_small_batch([body], "cancellations")
        sent = self._call(
            "POST",
            "/order/item/cancel",
            what=f"the cancellation for {_order_label(body)}",
            json_body=body,
        )
        return _parse(AsyncResponse, sent.body or {})

    def cancel_order_items_small_batch(self, orders: Sequence[Record]) -> AsyncResponse:
        """`POST /order/item/cancel/batch/small` (async)."""
        return self._post_batch("/order/item/cancel/batch/small", orders, noun="cancellation")

    def single_shipment(self, shipment: Record) -> dict[str, Any]:
        """`POST /order/singleShipment` (sync, 201 `{"success": true}`).

        On a 400 raises `ValidationError` with DSCO's messages, e.g. "DSCO rejected the shipment
        for PO 12345: Ship carrier is required".
        """
        body = to_wire(shipment)
        check_small_batch([body], "shipments")
        sent = self._call(
            "POST",
            "/order/singleShipment",
            what=f"the shipment for {_order_label(body)}",
            json_body=body,
        )
        return _success(sent)

    def shipment_small_batch(self, shipments: Sequence[Record]) -> AsyncResponse:
        """`POST /order/shipment/batch/small` (async): `[ShipmentsForUpdate]`."""
        return self._post_batch("/order/shipment/batch/small", shipments, noun="shipment")

    def update_orders_small_batch(self, updates: Sequence[Record]) -> AsyncResponse:
        """`POST /orderupdate/batch/small` (async): status or estimated-ship-date updates."""
        return self._post_batch("/orderupdate/batch/small", updates, noun="order update")

    def create_order(self, order: Record) -> OrderCreatedResult:
        """`POST /order/` (retailer side; seeds the sandbox for tests and demos)."""
        body = to_wire(order)
        sent = self._call(
            "POST", "/order/", what=f"the new order {_order_label(body)}", json_body=body
        )
        return _parse(OrderCreatedResult, sent.body or {})

    def create_orders_small_batch(self, orders: Sequence[Record]) -> AsyncResponse:
        """`POST /order/batch/small` (retailer side, async)."""
        return self._post_batch("/order/batch/small", orders, noun="order")

    def get_order_log(self, **query: Any) -> ChangeLogPage:
        """`GET /order/log` by requestId, startDate+endDate or scrollId (+ status)."""
        return self._get_log("order", query)

    # -- inventory ----------------------------------------------------------------------------

    def get_inventory(self, **query: Any) -> Inventory | None:
        """`GET /inventory` by `item_key`/`itemKey` (sku, dscoItemId, upc, ...) and `value`.

        None when DSCO does not know the item. With `returnMultiple` the first match is returned.
        """
        return self._get_one(
            "/inventory", Inventory, what=self._item_label(query), params=build_query(query)
        )

    def update_inventory_single_item(self, item: Record) -> dict[str, Any]:
        """`POST /inventory/singleItem` (sync, 201)."""
        body = to_wire(item)
        check_small_batch([body], "inventory updates")
        sent = self._call(
            "POST",
            "/inventory/singleItem",
            what=f"the inventory of SKU {body.get('sku') or '?'}",
            json_body=body,
        )
        return _success(sent)

    def update_inventory_small_batch(
        self, items: Sequence[Record], *, skip_items_that_dont_exist: bool | None = None
    ) -> AsyncResponse:
        """`POST /inventory/batch/small` (async): a JSON array of ItemInventory."""
        return self._post_batch(
            "/inventory/batch/small",
            items,
            noun="inventory update",
            params=build_query({"skipItemsThatDontExist": skip_items_that_dont_exist}),
        )

    def update_inventory_large_batch(
        self, items: Iterable[Record], *, skip_items_that_dont_exist: bool | None = None
    ) -> AsyncResponse:
        """`POST /inventory/batch/large`, then PUT the items as JSON Lines to the `dataUrl`."""
        return self._large_batch(
            "/inventory/batch/large",
            items,
            noun="inventory update",
            params=build_query({"skipItemsThatDontExist": skip_items_that_dont_exist}),
        )

    def get_inventory_log(self, **query: Any) -> ChangeLogPage:
        """`GET /inventory/log`."""
        return self._get_log("inventory", query)

    # -- catalog ------------------------------------------------------------------------------

    def get_catalog(self, **query: Any) -> Item | None:
        """`GET /catalog` by `item_key`/`itemKey` and `value`; None when unknown."""
        return self._get_one(
            "/catalog", Item, what=self._item_label(query), params=build_query(query)
        )

    def update_catalog_small_batch(self, items: Sequence[Record]) -> AsyncResponse:
        """`POST /catalog/batch/small` (async), sent as a JSON array (the spec's schema)."""
        return self._post_batch("/catalog/batch/small", items, noun="catalog item")

    def update_catalog_large_batch(self, items: Iterable[Record]) -> AsyncResponse:
        """`POST /catalog/batch/large`, then PUT JSON Lines to the `dataUrl`."""
        return self._large_batch("/catalog/batch/large", items, noun="catalog item")

    def get_catalog_log(self, **query: Any) -> ChangeLogPage:
        """`GET /catalog/log`."""
        return self._get_log("catalog", query)

    @staticmethod
    def _item_label(query: Mapping[str, Any]) -> str:
        key = query.get("itemKey") or query.get("item_key") or "item"
        return f"the item with {key} {query.get('value', '?')}"

    # -- streams ------------------------------------------------------------------------------

    def create_stream(
        self,
        object_type: str,
        *,
        stream_id: str | None = None,
        query: Mapping[str, Any] | None = None,
        description: str | None = None,
        num_partitions: int | None = None,
        max_events: Mapping[str, Any] | None = None,
    ) -> Stream:
        """`POST /stream` (201). `query` defaults to `{"queryType": object_type}`."""
        body: dict[str, Any] = {
            "objectType": object_type,
            "query": dict(query) if query is not None else {"queryType": object_type},
        }
        optional = {
            "id": stream_id,
            "description": description,
            "numPartitions": num_partitions,
            "maxEvents": dict(max_events) if max_events is not None else None,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        sent = self._call("POST", "/stream", what=f"the new {object_type} stream", json_body=body)
        return _parse(Stream, sent.body or {})

    def list_streams(
        self, stream_id: str | None = None, partition_id: int | None = None
    ) -> list[Stream]:
        """`GET /stream`: all streams, or the one with `stream_id` (always a list)."""
        params = build_query({"id": stream_id, "partitionId": partition_id})
        what = f"stream {stream_id}" if stream_id else "the list of streams"
        body = self._get_optional("/stream", what=what, params=params)
        if isinstance(body, dict):
            body = [body]
        if not isinstance(body, list):
            body = [] if body is None else [body]
        return [_parse(Stream, s) for s in body if isinstance(s, dict)]

    def get_stream(self, stream_id: str) -> Stream | None:
        """The stream with `stream_id`, or None."""
        streams = [s for s in self.list_streams(stream_id) if s.id in (None, stream_id)]
        return streams[0] if streams else None

    def update_stream(
        self,
        stream_id: str,
        *,
        description: str | None = None,
        num_partitions: int | None = None,
        query: Mapping[str, Any] | None = None,
        max_events: Mapping[str, Any] | None = None,
        increment_version_number: bool | None = None,
    ) -> Stream:
        """`PUT /stream/{id}`: change description, partitions, query or maxEvents.

        The spec's body is a whole Stream (objectType and query required, objectType unchanged),
        so the current stream is read first and the changes applied to it.
        """
        current = self.get_stream(stream_id)
        if current is None:
            raise NotFoundError(f"DSCO could not find stream {stream_id}.", status=404)
        body: dict[str, Any] = {
            "id": stream_id,
            "objectType": current.object_type,
            "query": dict(query) if query is not None else (current.query or {}),
        }
        if current.description is not None:
            body["description"] = current.description
        if current.max_events is not None:
            body["maxEvents"] = current.max_events.to_wire()
        changes = {
            "description": description,
            "numPartitions": num_partitions,
            "maxEvents": dict(max_events) if max_events is not None else None,
        }
        body.update({k: v for k, v in changes.items() if v is not None})
        sent = self._call(
            "PUT",
            f"/stream/{_segment(stream_id)}",
            what=f"stream {stream_id}",
            params=build_query({"incrementVersionNumber": increment_version_number}),
            json_body=body,
        )
        return _parse(Stream, sent.body or {})

    def delete_stream(self, stream_id: str) -> Stream:
        """`DELETE /stream/{id}`; returns the deleted stream."""
        sent = self._call("DELETE", f"/stream/{_segment(stream_id)}", what=f"stream {stream_id}")
        return _parse(Stream, sent.body if isinstance(sent.body, dict) else {})

    def stream_operation(
        self, stream_id: str, operation_type: str, **fields: Any
    ) -> StreamOperationResponse:
        """`POST /stream/{id}` (async 202): sync, setpartitionowner or repartition.

        Extra fields use spec or snake_case names (`partition_id=0, owner_id="pc-1"`, `sku=[...]`).
        """
        body: dict[str, Any] = {"operationType": operation_type}
        for key, value in fields.items():
            body[to_camel(key) if "_" in key else key] = value
        sent = self._call(
            "POST",
            f"/stream/{_segment(stream_id)}",
            what=f"the {operation_type} operation on stream {stream_id}",
            json_body=body,
        )
        return _parse(StreamOperationResponse, sent.body or {})

    def get_stream_events(
        self,
        stream_id: str,
        partition_id: int,
        position: str,
        max_events: int | None = None,
    ) -> StreamEventsPage:
        """`GET /stream/{id}/{partitionId}/{position}`: events strictly after `position`.

        The position is percent-encoded in the path (it contains "/"). DSCO caps the answer at
        the stream's `maxEvents`; `max_events` caps it further here, which is safe because the
        next read starts after the last event returned.
        """
        path = f"/stream/{_segment(stream_id)}/{_segment(partition_id)}/{_segment(position)}"
        sent = self._call("GET", path, what=f"the events of stream {stream_id}")
        page = _parse(StreamEventsPage, sent.body or {})
        if max_events is not None and len(page.events) > max_events:
            page.events = page.events[: max(0, max_events)]
        return page

    def get_stream_events_in_range(
        self,
        stream_id: str,
        partition_id: int,
        start: str | datetime,
        end: str | datetime,
    ) -> StreamEventsPage:
        """`GET /stream/{id}/{pid}/{start}/{end}`: start inclusive, end exclusive.

        Either bound may be an event id or a datetime; the saved position does not move.
        """
        path = (
            f"/stream/{_segment(stream_id)}/{_segment(partition_id)}"
            f"/{_segment(start)}/{_segment(end)}"
        )
        sent = self._call("GET", path, what=f"a range of events of stream {stream_id}")
        return _parse(StreamEventsPage, sent.body or {})

    def get_single_stream_event(
        self, stream_id: str, partition_id: int, position: str
    ) -> StreamEventsPage:
        """`GET /stream/single/{id}/{pid}/{position}` (DSCO allows 15 a minute)."""
        path = f"/stream/single/{_segment(stream_id)}/{_segment(partition_id)}/{_segment(position)}"
        sent = self._call("GET", path, what=f"an event of stream {stream_id}")
        return _parse(StreamEventsPage, sent.body or {})

    def checkpoint_stream(
        self, stream_id: str, partition_id: int, position: str
    ) -> SuccessFailResponse:
        """`PUT /stream/{id}/{pid}/{position}`: save the partition's position on DSCO's side."""
        path = f"/stream/{_segment(stream_id)}/{_segment(partition_id)}/{_segment(position)}"
        sent = self._call("PUT", path, what=f"the position of stream {stream_id}")
        answer = _parse(SuccessFailResponse, sent.body or {"status": "success"})
        if (answer.status or "").lower() == "failure":
            raise DscoError(
                f"DSCO did not save the position of stream {stream_id}.", status=sent.status
            )
        return answer

    # -- invoices -----------------------------------------------------------------------------

    def create_invoice(self, invoice: Record) -> dict[str, Any]:
        """`POST /invoice` (sync, 201 `{"success": true}`)."""
        body = to_wire(invoice)
        check_small_batch([body], "invoices")
        sent = self._call(
            "POST",
            "/invoice",
            what=f"invoice {body.get('invoiceId') or '?'} for {_order_label(body)}",
            json_body=body,
        )
        return _success(sent)

    def invoice_small_batch(self, invoices: Sequence[Record]) -> AsyncResponse:
        """`POST /invoice/batch/small` (async)."""
        return self._post_batch("/invoice/batch/small", invoices, noun="invoice")

    def get_invoices(self, **query: Any) -> list[Invoice]:
        """`GET /invoice` by `key` (dscoInvoiceId, invoiceId, poNumber, ...) and `value`."""
        what = f"invoices with {query.get('key', 'key')} {query.get('value', '?')}"
        body = self._get_optional("/invoice", what=what, params=build_query(query))
        if isinstance(body, list):
            body = {"invoices": body}
        return _parse(InvoicesResponse, body or {}).invoices

    def get_invoice_log(self, **query: Any) -> ChangeLogPage:
        """`GET /invoice/log`."""
        return self._get_log("invoice", query)

    # -- returns ------------------------------------------------------------------------------

    def create_return(self, ret: Record) -> ReturnResponse:
        """`POST /return/` (201 `{status, return}`)."""
        body = to_wire(ret)
        check_small_batch([body], "returns")
        sent = self._call(
            "POST",
            "/return/",
            what=f"return {body.get('returnNumber') or '?'} for {_order_label(body)}",
            json_body=body,
        )
        return _parse(ReturnResponse, sent.body or {})

    def complete_return(self, ret: Record) -> ReturnResponse:
        """`PUT /return/`: accept or reject the returned lines."""
        body = to_wire(ret)
        check_small_batch([body], "returns")
        label = body.get("dscoReturnId") or body.get("partnerReturnNumber") or "?"
        sent = self._call(
            "PUT", "/return/", what=f"the completion of return {label}", json_body=body
        )
        return _parse(ReturnResponse, sent.body or {})

    def return_small_batch(
        self, returns: Sequence[Record], operation: Literal["create", "update", "complete"]
    ) -> AsyncResponse:
        """`POST /return/batch/small?operation=` (async)."""
        return self._post_batch(
            "/return/batch/small",
            returns,
            noun="return",
            params=build_query({"operation": operation}),
        )

    def get_returns(self, **query: Any) -> ReturnPage:
        """`GET /return/page` (returnIdType/Value, orderIdType/Value, dates or scrollId)."""
        body = self._call(
            "GET", "/return/page", what="the return search", params=build_query(query)
        ).body
        return _parse(ReturnPage, body or {})

    def get_return_log(self, **query: Any) -> ChangeLogPage:
        """`GET /return/log`."""
        return self._get_log("return", query)

    # -- warehouses ---------------------------------------------------------------------------

    def get_warehouses(self, **query: Any) -> list[Warehouse]:
        """`GET /warehouse/page`, following scrollId: every matching warehouse."""
        found: list[Warehouse] = []
        params = build_query(query)
        while True:
            body = self._call(
                "GET", "/warehouse/page", what="the list of warehouses", params=params
            ).body
            page = _parse(WarehousePage, body or {})
            found.extend(page.warehouses)
            if not page.warehouses or not page.scroll_id:
                return found
            params = [("scrollId", page.scroll_id)]

    # -- change logs --------------------------------------------------------------------------

    def _get_log(self, log: str, query: Mapping[str, Any]) -> ChangeLogPage:
        request_id = query.get("requestId") or query.get("request_id")
        what = f"the {log} change log" + (f" of request {request_id}" if request_id else "")
        body = self._call("GET", _LOG_PATHS[log], what=what, params=build_query(query)).body
        return _parse(ChangeLogPage, body or {})

    def read_change_log(
        self, log: ChangeLogName, request_id: str
    ) -> tuple[str | None, list[ChangeLogEntry]]:
        """All pages of the change log of one request: (status, entries).

        A 404 (not visible yet) reads as no entries and no status.
        """
        if log not in _LOG_PATHS:
            raise ValueError(f"unknown change log {log!r}")
        try:
            page = self._get_log(log, {"requestId": request_id})
        except NotFoundError:
            return None, []
        status = page.status
        entries = list(page.logs)
        while page.scroll_id and page.logs:
            try:
                page = self._get_log(log, {"scrollId": page.scroll_id})
            except NotFoundError:
                break
            entries.extend(page.logs)
            status = status or page.status
        return status, entries

    def wait_for_change_log(
        self,
        log: ChangeLogName,
        request_id: str,
        *,
        timeout_s: float = 300,
        poll_s: float = 2.0,
        should_stop: Callable[[], bool] | None = None,
    ) -> ChangeLogResult:
        """Poll the change log of an async request until DSCO has processed it.

        Returns the per-record outcomes with status COMPLETED, or with status PROCESSING if
        `should_stop` asked to stop first. Raises `ChangeLogTimeoutError` (a `TimeoutError` and a
        `UserFacingError`) after `timeout_s`, and the client's typed errors if DSCO fails.
        """
        deadline = time.monotonic() + timeout_s
        entries: list[ChangeLogEntry] = []
        while True:
            if should_stop is not None and should_stop():
                return ChangeLogResult(request_id=request_id, status="PROCESSING", entries=entries)
            status, entries = self.read_change_log(log, request_id)
            upper = (status or "").upper()
            pending = any((e.status or "").lower() == "pending" for e in entries)
            if upper == "COMPLETED" or (not upper and entries and not pending):
                return ChangeLogResult(request_id=request_id, status="COMPLETED", entries=entries)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial = ChangeLogResult(
                    request_id=request_id, status="PROCESSING", entries=entries
                )
                raise ChangeLogTimeoutError(
                    f"DSCO had not finished processing request {request_id} after "
                    f"{timeout_s:g} s ({len(entries)} records logged so far).",
                    request_id=request_id,
                    partial=partial,
                )
            self._pause(min(poll_s, remaining), should_stop)

    @staticmethod
    def _pause(seconds: float, should_stop: Callable[[], bool] | None) -> None:
        """Sleep, waking early when `should_stop` turns true (checked every 0.1 s)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if should_stop is not None and should_stop():
                return
            time.sleep(min(0.1, left))
