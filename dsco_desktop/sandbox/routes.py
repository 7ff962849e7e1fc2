"""The sandbox's HTTP surface: DSCO v3 paths under /api/v3, as a Starlette application.

Handlers parse requests and shape responses the way the spec describes; the rules live in
`state.py`. A wrapper applies, in order, the added latency, bearer-token auth, injected 5xx
faults and per-endpoint rate limits. Unmatched routes answer 403 like DSCO's API gateway.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from dsco_desktop.sandbox.limits import RateLimiter
from dsco_desktop.sandbox.state import (
    Invalid,
    Json,
    NotFound,
    SandboxState,
    dumps,
    iso,
    message,
    now_ms,
    parse_iso,
)

Handler = Callable[[Request], Awaitable[Response]]
SMALL_BATCH_LIMIT = 5 * 1024 * 1024
UPLOAD_PREFIX = "/sandbox-upload"
# DSCO sends {"success": true}; the spec's SuccessFailResponse requires `status`. Send both.
SUCCESS: Json = {"success": True, "status": "success"}


@dataclass
class Knobs:
    """The runtime-adjustable behaviour of a running sandbox."""

    client_id: str
    client_secret: str
    token_lifetime_s: float
    rate_limits: bool
    error_rate: float
    latency_s: float
    duplicate_event_rate: float


class BadRequest(Exception):  # noqa: N818 - maps to HTTP 400
    """A malformed request (bad parameter, unparsable body)."""


def json_response(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def gateway_message(status: int, text: str) -> Response:
    """The `{"message": ...}` body AWS API Gateway uses for its own refusals."""
    return json_response({"message": text}, status)


def api_response(status_code: int, status: str, messages: list[Json] | None = None) -> Response:
    """DSCO's ApiResponse envelope: {status, requestId, eventDate, messages?}."""
    body: Json = {"status": status, "requestId": secrets.token_hex(16), "eventDate": iso(now_ms())}
    if messages:
        body["messages"] = messages
    return json_response(body, status_code)


class SandboxApi:
    """Builds the Starlette app over a `SandboxState` and the adjustable `Knobs`."""

    def __init__(self, state: SandboxState, knobs: Knobs, fault_rng: random.Random) -> None:
        self.state = state
        self.knobs = knobs
        self.fault_rng = fault_rng
        self.limiter = RateLimiter()
        self.tokens: dict[str, float] = {}
        self.tokens_lock = threading.Lock()
        self.public_url = ""  # "http://127.0.0.1:PORT", set once the server listens

    # ------------------------------------------------------------------ app

    def build(self) -> Starlette:
        op = self.op
        api = [
            Route("/oauth2/token", op(self.token, auth=False), methods=["POST"]),
            Route("/hello", op(self.hello), methods=["GET"]),
            Route("/order/page", op(self.order_page, "getOrder"), methods=["GET"]),
            Route("/order/log", op(self.log_endpoint("order")), methods=["GET"]),
            Route("/order/acknowledge", op(self.acknowledge, "acknowledge"), methods=["POST"]),
            Route("/order/item/cancel", op(self.cancel_single), methods=["POST"]),
            Route(
                "/order/item/cancel/batch/small",
                op(self.batch("order", "cancel", "cancelOrderItemSmallBatch")),
                methods=["POST"],
            ),
            Route(
                "/order/singleShipment",
                op(self.single_shipment, "singleShipment"),
                methods=["POST"],
            ),
            Route(
                "/order/shipment/batch/small",
                op(self.batch("order", "shipment", "createShipmentSmallBatch")),
                methods=["POST"],
            ),
            Route(
                "/order/batch/small",
                op(self.batch("order", "create", "createOrderSmallBatch")),
                methods=["POST"],
            ),
            Route("/order/", op(self.get_order, "getOrder"), methods=["GET"]),
            Route("/order", op(self.get_order, "getOrder"), methods=["GET"]),
            Route("/order/", op(self.create_order, "createOrder"), methods=["POST"]),
            Route("/order", op(self.create_order, "createOrder"), methods=["POST"]),
            Route("/inventory", op(self.get_item("inventory"), "getInventory"), methods=["GET"]),
            Route("/inventory/singleItem", op(self.single_item, "singleItem"), methods=["POST"]),
            Route(
                "/inventory/batch/small",
                op(self.batch("inventory", "update", "updateInventorySmallBatch")),
                methods=["POST"],
            ),
            Route(
                "/inventory/batch/large",
                op(self.large_batch("inventory", "update", "updateInventoryLargeBatch")),
                methods=["POST"],
            ),
            Route("/inventory/log", op(self.log_endpoint("inventory")), methods=["GET"]),
            Route("/catalog", op(self.get_item("catalog"), "getCatalog"), methods=["GET"]),
            Route(
                "/catalog/batch/small",
                op(self.batch("catalog", "update", "updateCatalogSmallBatch", lines_ok=True)),
                methods=["POST"],
            ),
            Route(
                "/catalog/batch/large",
                op(self.large_batch("catalog", "update", "updateCatalogLargeBatch")),
                methods=["POST"],
            ),
            Route("/catalog/log", op(self.log_endpoint("catalog")), methods=["GET"]),
            Route("/invoice", op(self.single_invoice, "invoice"), methods=["POST"]),
            Route("/invoice", op(self.get_invoice, "invoice"), methods=["GET"]),
            Route(
                "/invoice/batch/small",
                op(self.batch("invoice", "create", "createInvoiceSmallBatch")),
                methods=["POST"],
            ),
            Route("/invoice/log", op(self.log_endpoint("invoice")), methods=["GET"]),
            Route("/return/", op(self.create_return), methods=["POST"]),
            Route("/return/", op(self.complete_return), methods=["PUT"]),
            Route("/return/update", op(self.update_return), methods=["POST"]),
            Route("/return/page", op(self.return_page), methods=["GET"]),
            Route("/return/batch/small", op(self.return_batch), methods=["POST"]),
            Route("/return/batch/large", op(self.return_large_batch), methods=["POST"]),
            Route("/return/log", op(self.log_endpoint("return")), methods=["GET"]),
            Route("/warehouse/page", op(self.warehouse_page), methods=["GET"]),
            Route("/stream", op(self.create_stream), methods=["POST"]),
            Route("/stream", op(self.list_streams), methods=["GET"]),
            Route(
                "/stream/{rest:path}",
                self.stream_dispatch,
                methods=["GET", "PUT", "POST", "DELETE"],
            ),
        ]
        routes = [
            Mount("/api/v3", routes=api),
            Route(UPLOAD_PREFIX + "/{request_id}", self.upload, methods=["PUT", "POST"]),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={404: self.unknown_route, 405: self.unknown_route},
        )

    async def unknown_route(self, request: Request, exc: Exception) -> Response:
        """DSCO's gateway answers unknown paths and methods with 403, not 404."""
        if isinstance(exc, HTTPException) and exc.status_code not in (404, 405):
            return gateway_message(exc.status_code, str(exc.detail))
        header = request.headers.get("authorization", "")
        if header:
            return gateway_message(
                403,
                "Invalid key=value pair (missing equal-sign) in Authorization header "
                "(hashed with SHA-256 and encoded with Base64): "
                f"'{secrets.token_urlsafe(32)}='.",
            )
        return gateway_message(403, "Missing Authentication Token")

    def op(self, handler: Handler, group: str | None = None, *, auth: bool = True) -> Handler:
        """Wrap a handler with latency, auth, fault injection, rate limits and error mapping."""

        async def endpoint(request: Request) -> Response:
            knobs = self.knobs
            if knobs.latency_s > 0:
                await asyncio.sleep(knobs.latency_s)
            if auth:
                refused = self.check_auth(request)
                if refused is not None:
                    return refused
                if knobs.error_rate > 0 and self.fault_rng.random() < knobs.error_rate:
                    status = self.fault_rng.choice([500, 502, 503, 504])
                    return gateway_message(status, "Internal server error (injected fault)")
            if group and knobs.rate_limits and not self.limiter.allow(group):
                return gateway_message(429, "Too Many Requests")
            try:
                return await handler(request)
            except Invalid as exc:
                return api_response(400, "failure", exc.messages)
            except BadRequest as exc:
                return api_response(400, "failure", [message(str(exc), code="INVALID_REQUEST")])
            except NotFound as exc:
                return api_response(404, "failure", [message(str(exc), code="NOT_FOUND")])
            except sqlite3.ProgrammingError:
                # A value of the wrong JSON type (a list where an id belongs) reached a lookup:
                # DSCO answers that with a 400, never a 500.
                return api_response(
                    400,
                    "failure",
                    [message("A field has the wrong type for this call", code="INVALID_REQUEST")],
                )

        return endpoint

    def check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return gateway_message(401, "Unauthorized")
        with self.tokens_lock:
            expires = self.tokens.get(token.strip())
        if expires is None or expires <= time.time():
            return gateway_message(401, "Unauthorized")
        return None

    def revoke_tokens(self) -> None:
        with self.tokens_lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ helpers

    @staticmethod
    async def body_json(request: Request, *, limit: int | None = SMALL_BATCH_LIMIT) -> Any:
        raw = await request.body()
        if limit is not None and len(raw) > limit:
            raise BadRequest(f"The request body is larger than the {limit} byte limit")
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequest("The request body is not valid JSON") from None

    @staticmethod
    def param(request: Request, name: str, *, required: bool = False) -> str | None:
        value = request.query_params.get(name)
        if required and not value:
            raise BadRequest(f"Query parameter {name} is required")
        return value

    @staticmethod
    def date_param(request: Request, name: str) -> int | None:
        value = request.query_params.get(name)
        if not value:
            return None
        try:
            return parse_iso(value)
        except ValueError:
            raise BadRequest(f"{name} must be an ISO 8601 date-time") from None

    @staticmethod
    def bool_param(request: Request, name: str) -> bool:
        return (request.query_params.get(name) or "").lower() == "true"

    # ------------------------------------------------------------------ auth, hello

    async def token(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return json_response(
                {
                    "error": "invalid_request",
                    "error_description": "The body must be application/x-www-form-urlencoded",
                },
                400,
            )
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        missing = [
            k for k in ("grant_type", "client_id", "client_secret") if not values.get(k, "").strip()
        ]
        if missing:
            return json_response(
                {
                    "error": "invalid_request",
                    "error_description": f"Missing required parameter(s): {', '.join(missing)}",
                },
                400,
            )
        if values["grant_type"] != "client_credentials":
            return json_response(
                {
                    "error": "invalid_request",
                    "error_description": "grant_type must be client_credentials",
                },
                400,
            )
        if not (
            secrets.compare_digest(values["client_id"], self.knobs.client_id)
            and secrets.compare_digest(values["client_secret"], self.knobs.client_secret)
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "Invalid client credentials"},
                401,
            )
        token = secrets.token_urlsafe(32)
        lifetime = self.knobs.token_lifetime_s
        with self.tokens_lock:
            now = time.time()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[token] = now + lifetime
        return json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": max(0, round(lifetime))}
        )

    async def hello(self, request: Request) -> Response:
        return json_response({"hello": "World!"})

    # ------------------------------------------------------------------ async batches

    def batch(self, kind: str, operation: str, detail: str, *, lines_ok: bool = False) -> Handler:
        async def handler(request: Request) -> Response:
            raw = await request.body()
            if len(raw) > SMALL_BATCH_LIMIT:
                return gateway_message(413, "Request Too Long")
            records = _parse_records(raw, lines_ok=lines_ok)
            params = {"skipItemsThatDontExist": self.bool_param(request, "skipItemsThatDontExist")}
            request_id, ms = self.state.submit(kind, operation, detail, records, params)
            return json_response(
                {"status": "pending", "requestId": request_id, "eventDate": iso(ms)}, 202
            )

        return handler

    def large_batch(self, kind: str, operation: str, detail: str) -> Handler:
        async def handler(request: Request) -> Response:
            params = {"skipItemsThatDontExist": self.bool_param(request, "skipItemsThatDontExist")}
            request_id, ms = self.state.submit(kind, operation, detail, None, params)
            return json_response(
                {
                    "status": "success",
                    "requestId": request_id,
                    "eventDate": iso(ms),
                    "dataUrl": f"{self.public_url}{UPLOAD_PREFIX}/{request_id}",
                }
            )

        return handler

    async def upload(self, request: Request) -> Response:
        """The large-batch `dataUrl`: JSON Lines, one record per line."""
        raw = await request.body()
        try:
            records = _parse_records(raw, lines_ok=True)
        except BadRequest as exc:
            return gateway_message(400, str(exc))
        if not self.state.upload(request.path_params["request_id"], records):
            return gateway_message(404, "Unknown or already used upload URL")
        return Response(status_code=200)

    def log_endpoint(self, kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            scroll_id = self.param(request, "scrollId")
            status = self.param(request, "status")
            if status not in (None, "pending", "success", "failure", "success_or_failure"):
                raise BadRequest("status must be pending, success, failure or success_or_failure")
            if scroll_id:
                ids, scroll = self.state.next_page(scroll_id, f"log:{kind}")
                body: Json = {"logs": self.state.logs_by_ids(ids)}
                if scroll.offset < len(scroll.keys):
                    body["scrollId"] = scroll_id
                return json_response(body)
            request_id = self.param(request, "requestId")
            if request_id:
                done, logs = self.state.log_by_request(kind, request_id, status)
                return json_response({"status": done, "logs": logs})
            start = self.date_param(request, "startDate")
            end = self.date_param(request, "endDate")
            if start is None or end is None:
                raise BadRequest("Either requestId or both startDate and endDate are required")
            ids = self.state.log_ids_in_range(kind, start, end, status)
            return json_response(self._page(f"log:{kind}", ids, 100, "logs"))

        return handler

    def _page(self, kind: str, keys: list[Any], size: int, field: str) -> Json:
        """First page of a scrollable result; later pages come from `next_page`."""
        first, rest = keys[:size], keys[size:]
        if field == "logs":
            items: list[Any] = self.state.logs_by_ids(first)
        elif field == "orders":
            items = self.state.orders_by_ids(first)
        elif field == "returns":
            items = self.state.returns_by_ids(first)
        else:
            items = first
        body: Json = {field: items}
        if rest:
            body["scrollId"] = self.state.open_scroll(kind, rest, size)
        return body

    # ------------------------------------------------------------------ orders

    async def get_order(self, request: Request) -> Response:
        key = self.param(request, "orderKey", required=True)
        value = self.param(request, "value", required=True)
        orders = self.state.get_orders(key or "", value or "")
        if self.bool_param(request, "returnMultiple"):
            return json_response(orders)
        if not orders:
            raise NotFound(f"No order with {key}={value}")
        return json_response(orders[0])

    async def create_order(self, request: Request) -> Response:
        rec = await self.body_json(request)
        with self.state.tx():
            created, order = self.state.create_order(rec)
        return json_response(
            {
                "status": "success",
                "eventDate": iso(now_ms()),
                "dscoOrderIds": [order["dscoOrderId"]],
                "dscoOrders": [order],
            },
            201 if created else 200,
        )

    async def order_page(self, request: Request) -> Response:
        scroll_id = self.param(request, "scrollId")
        if scroll_id:
            ids, scroll = self.state.next_page(scroll_id, "orders")
            body: Json = {"orders": self.state.orders_by_ids(ids)}
            if scroll.offset < len(scroll.keys):
                body["scrollId"] = scroll_id
            return json_response(body)
        per_page_text = self.param(request, "ordersPerPage") or "1000"
        try:
            per_page = int(per_page_text)
        except ValueError:
            raise BadRequest("ordersPerPage must be a whole number") from None
        if not 10 <= per_page <= 1000:
            raise BadRequest("ordersPerPage must be between 10 and 1000")
        until = self.date_param(request, "until")
        if until is not None and until > now_ms() - 5000:
            raise BadRequest("until must be at least 5 seconds in the past")
        statuses: list[str] = []
        for value in request.query_params.getlist("status"):
            statuses.extend(s for s in value.split(",") if s)
        allowed = {"created", "shipment_pending", "shipped", "cancelled"}
        if any(s not in allowed for s in statuses):
            raise BadRequest(f"status must be one of {', '.join(sorted(allowed))}")
        filters = {
            "consumerOrderNumber": self.param(request, "consumerOrderNumber"),
            "ordersCreatedSince": self.date_param(request, "ordersCreatedSince"),
            "ordersUpdatedSince": self.date_param(request, "ordersUpdatedSince"),
            "until": until,
            "status": statuses,
            "includeTestOrders": self.bool_param(request, "includeTestOrders"),
            "returnedOnly": self.bool_param(request, "returnedOnly"),
        }
        ids = self.state.order_page_keys(filters)
        return json_response(self._page("orders", ids, per_page, "orders"))

    async def acknowledge(self, request: Request) -> Response:
        return await self.batch("order", "acknowledge", "acknowledgeOrders")(request)

    async def cancel_single(self, request: Request) -> Response:
        rec = await self.body_json(request)
        if not isinstance(rec, dict):
            raise BadRequest("The body must be one OrderForCancel object")
        try:
            with self.state.tx():
                results = self.state.cancel(rec)
        except Invalid as exc:
            self.state.record_sync("order", "cancelOrderItem", rec, exc.messages, False)
            raise
        request_id = self.state.record_sync("order", "cancelOrderItem", rec, results, True)
        body: Json = {"status": "success", "requestId": request_id, "eventDate": iso(now_ms())}
        return json_response(body, 200)

    async def single_shipment(self, request: Request) -> Response:
        rec = await self.body_json(request)
        if not isinstance(rec, dict):
            raise BadRequest("The body must be one ShipmentsForUpdate object")
        try:
            with self.state.tx():
                self.state.ship(rec)
        except Invalid as exc:
            self.state.record_sync("order", "singleShipment", rec, exc.messages, False)
            return json_response({"messages": exc.messages}, 400)
        self.state.record_sync("order", "singleShipment", rec, [], True)
        return json_response(SUCCESS, 201)

    # ------------------------------------------------------------------ items

    def get_item(self, part: str) -> Handler:
        async def handler(request: Request) -> Response:
            key = self.param(request, "itemKey", required=True) or ""
            value = self.param(request, "value", required=True) or ""
            docs = self.state.find_items(key, value, part)
            if self.bool_param(request, "returnMultiple"):
                return json_response(docs)
            if not docs:
                raise NotFound(f"No {part} item with {key}={value}")
            return json_response(docs[0])

        return handler

    async def single_item(self, request: Request) -> Response:
        rec = await self.body_json(request)
        if not isinstance(rec, dict):
            raise BadRequest("The body must be one ItemInventory object")
        try:
            with self.state.tx():
                results = self.state.apply_inventory(rec)
        except Invalid as exc:
            self.state.record_sync("inventory", "singleItem", rec, exc.messages, False)
            raise
        self.state.record_sync("inventory", "singleItem", rec, results, True)
        return json_response(SUCCESS, 201)

    # ------------------------------------------------------------------ invoices

    async def single_invoice(self, request: Request) -> Response:
        rec = await self.body_json(request)
        if not isinstance(rec, dict):
            raise BadRequest("The body must be one Invoice object")
        try:
            with self.state.tx():
                self.state.create_invoice(rec)
        except Invalid as exc:
            self.state.record_sync("invoice", "singleInvoice", rec, exc.messages, False)
            raise
        self.state.record_sync("invoice", "singleInvoice", rec, [], True)
        return json_response(SUCCESS, 201)

    async def get_invoice(self, request: Request) -> Response:
        key = self.param(request, "key", required=True) or ""
        value = self.param(request, "value", required=True) or ""
        return json_response({"invoices": self.state.find_invoices(key, value)})

    # ------------------------------------------------------------------ returns

    async def create_return(self, request: Request) -> Response:
        rec = await self.body_json(request)
        with self.state.tx():
            doc = self.state.create_return(rec)
        return json_response({"status": "success", "return": doc}, 201)

    async def complete_return(self, request: Request) -> Response:
        rec = await self.body_json(request)
        with self.state.tx():
            doc = self.state.complete_return(rec)
        return json_response({"status": "success", "return": doc}, 200)

    async def update_return(self, request: Request) -> Response:
        rec = await self.body_json(request)
        with self.state.tx():
            doc = self.state.update_return(rec)
        return json_response({"status": "success", "return": doc}, 201)

    def _return_operation(self, request: Request) -> str:
        operation = self.param(request, "operation", required=True)
        if operation not in ("create", "update", "complete"):
            raise BadRequest("operation must be create, update or complete")
        return operation

    async def return_batch(self, request: Request) -> Response:
        operation = self._return_operation(request)
        handler = self.batch("return", operation, "createOrCompleteReturnSmallBatch")
        return await handler(request)

    async def return_large_batch(self, request: Request) -> Response:
        operation = self._return_operation(request)
        handler = self.large_batch("return", operation, "createOrCompleteReturnLargeBatch")
        return await handler(request)

    async def return_page(self, request: Request) -> Response:
        scroll_id = self.param(request, "scrollId")
        if scroll_id:
            ids, scroll = self.state.next_page(scroll_id, "returns")
            body: Json = {"returns": self.state.returns_by_ids(ids)}
            if scroll.offset < len(scroll.keys):
                body["scrollId"] = scroll_id
            return json_response(body)
        statuses: list[str] = []
        for value in request.query_params.getlist("status"):
            statuses.extend(s for s in value.split(",") if s)
        filters = {
            "returnIdType": self.param(request, "returnIdType"),
            "returnIdValue": self.param(request, "returnIdValue"),
            "orderIdType": self.param(request, "orderIdType"),
            "orderIdValue": self.param(request, "orderIdValue"),
            "status": statuses,
            "returnsCreatedSince": self.date_param(request, "returnsCreatedSince"),
            "returnsUpdatedSince": self.date_param(request, "returnsUpdatedSince"),
            "until": self.date_param(request, "until"),
        }
        ids = self.state.return_page_keys(filters)
        return json_response(self._page("returns", ids, 100, "returns"))

    async def warehouse_page(self, request: Request) -> Response:
        scroll_id = self.param(request, "scrollId")
        if scroll_id:
            page, scroll = self.state.next_page(scroll_id, "warehouses")
            body: Json = {"warehouses": page}
            if scroll.offset < len(scroll.keys):
                body["scrollId"] = scroll_id
            return json_response(body)
        docs = self.state.warehouses()
        id_type = self.param(request, "idType")
        id_value = self.param(request, "idValue")
        if id_type and id_type not in ("code", "warehouseId"):
            raise BadRequest("idType must be code or warehouseId")
        if id_type and id_value:
            docs = [d for d in docs if d.get(id_type) == id_value]
        status = self.param(request, "status")
        if status:
            docs = [d for d in docs if d.get("status") == status]
        name = self.param(request, "name")
        if name:
            docs = [d for d in docs if name.lower() in str(d.get("name", "")).lower()]
        return json_response(self._page("warehouses", docs, 100, "warehouses"))

    # ------------------------------------------------------------------ streams

    async def create_stream(self, request: Request) -> Response:
        body = await self.body_json(request)
        return json_response(self.state.create_stream(body), 201)

    async def list_streams(self, request: Request) -> Response:
        stream_id = self.param(request, "id")
        pid_text = self.param(request, "partitionId")
        pid = _int_or_bad(pid_text, "partitionId") if pid_text else None
        if stream_id:
            return json_response([self.state.get_stream(stream_id, pid)])
        return json_response(self.state.list_streams(pid))

    async def stream_dispatch(self, request: Request) -> Response:
        """Routes under /stream/ parsed from the raw path, since positions contain `/`."""
        raw = request.scope.get("raw_path") or request.url.path.encode()
        rest = raw.decode("latin-1").split("/stream/", 1)[1]
        segments = [s for s in rest.split("/") if s != ""]
        single = bool(segments) and segments[0] == "single" and len(segments) >= 3
        if single:
            segments = segments[1:]
        if not segments:
            return await self.unknown_route(request, HTTPException(404))
        stream_id = unquote(segments[0])
        method = request.method
        if len(segments) == 1:
            handlers = {"PUT": self.update_stream, "POST": self.stream_operation}
            handlers["DELETE"] = self.delete_stream
            if method not in handlers:
                return await self.unknown_route(request, HTTPException(405))
            return await self.op(lambda r: handlers[method](r, stream_id))(request)
        positions = _positions([unquote(s) for s in segments[2:]])
        if len(positions) not in (1, 2) or (len(positions) == 2 and method != "GET"):
            return await self.unknown_route(request, HTTPException(404))
        if method not in ("GET", "PUT") or (single and (method != "GET" or len(positions) != 1)):
            return await self.unknown_route(request, HTTPException(405))

        async def handler(r: Request) -> Response:
            pid = _int_or_bad(unquote(segments[1]), "partitionId")
            if method == "PUT":
                self.state.set_position(stream_id, pid, positions[0])
                return json_response({"status": "success"})
            end = positions[1] if len(positions) == 2 else None
            limit = 1 if single else None
            bodies, owner = self.state.read_events(stream_id, pid, positions[0], end, limit=limit)
            return self._events_response(pid, owner, bodies)

        return await self.op(handler, "singleStreamEvent" if single else None)(request)

    def _events_response(self, pid: int, owner: str | None, bodies: list[str]) -> Response:
        rate = self.knobs.duplicate_event_rate
        if rate > 0:
            served: list[str] = []
            for body in bodies:
                served.append(body)
                if self.fault_rng.random() < rate:
                    served.append(body)
            bodies = served
        owner_part = f'"ownerId":{dumps(owner)},' if owner is not None else ""
        text = f'{{"partitionId":{pid},{owner_part}"events":[{",".join(bodies)}]}}'
        return Response(text, media_type="application/json")

    async def update_stream(self, request: Request, stream_id: str) -> Response:
        body = await self.body_json(request)
        increment = (self.param(request, "incrementVersionNumber") or "true").lower() != "false"
        return json_response(self.state.update_stream(stream_id, body, increment))

    async def stream_operation(self, request: Request, stream_id: str) -> Response:
        body = await self.body_json(request)
        return json_response(self.state.stream_operation(stream_id, body), 202)

    async def delete_stream(self, request: Request, stream_id: str) -> Response:
        return json_response(self.state.delete_stream(stream_id))


def _int_or_bad(text: str | None, name: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None


def _positions(tokens: list[str]) -> list[str]:
    """Rebuild positions from path segments, whether or not the client URL-encoded them."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "z" and i + 6 < len(tokens):
            out.append("/".join(tokens[i : i + 7]))
            i += 7
        else:
            out.append(tokens[i])
            i += 1
    return out


def _parse_records(raw: bytes, *, lines_ok: bool) -> list[Any]:
    """A JSON array body, or (where DSCO documents it) JSON Lines."""
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("["):
        try:
            records = json.loads(text)
        except ValueError:
            raise BadRequest("The request body is not valid JSON") from None
        if not isinstance(records, list):
            raise BadRequest("The request body must be a JSON array")
        return records
    if not lines_ok:
        raise BadRequest("The request body must be a JSON array")
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            raise BadRequest(f"Line {n} is not valid JSON") from None
    return records
