"""Wrong types from DSCO never crash a read: the client returns a model or a DscoError.

Hypothesis feeds the client (through httpx.MockTransport, so nothing else is in the way)
bodies of any JSON shape where DSCO's objects should be, and objects whose well-known fields
hold the wrong types. A pydantic traceback would reach the user as a crash; a `DscoError`
names the call that went wrong and the app shows it like any other DSCO problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.dsco.models import Order, StreamEvent

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
ORDER_KEYS = [
    "dscoOrderId", "poNumber", "dscoLifecycle", "dscoStatus", "lineItems", "packages",
    "shipping", "shipTo", "quantity", "sku", "lineNumber", "dscoLastUpdate", "testFlag",
    "expectedCost", "cancelledQuantity", "trackingNumber", "eventReasons", "payload",
]  # fmt: skip
ORDERISH = st.recursive(
    st.dictionaries(st.sampled_from(ORDER_KEYS), SCALARS, max_size=6),
    lambda inner: st.dictionaries(
        st.sampled_from(ORDER_KEYS), inner | st.lists(inner, max_size=3) | SCALARS, max_size=6
    ),
    max_leaves=15,
)
BODIES = st.one_of(ANY_JSON, ORDERISH, st.lists(ORDERISH, max_size=3))
PROPS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def client_answering(body: Any) -> DscoClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    return DscoClient(
        "https://api.dsco.io/api/v3", "id", "secret",
        transport=httpx.MockTransport(handle), max_retries=0,
    )  # fmt: skip


READS: list[tuple[str, Callable[[DscoClient], Any]]] = [
    ("get_order", lambda c: c.get_order("dscoOrderId", "1")),
    ("iter_orders", lambda c: list(c.iter_orders(ordersUpdatedSince="2026-01-01T00:00:00Z"))),
    ("get_stream_events", lambda c: c.get_stream_events("s", 0, "0")),
    ("get_inventory", lambda c: c.get_inventory(itemKey="sku", value="A")),
    ("list_streams", lambda c: c.list_streams()),
    ("get_invoices", lambda c: c.get_invoices(dscoOrderId="1")),
    ("get_returns", lambda c: c.get_returns()),
    ("get_warehouses", lambda c: c.get_warehouses()),
    ("read_change_log", lambda c: c.read_change_log("inventory", "r1")),
]


@PROPS
@given(st.sampled_from(READS), BODIES)
def test_any_body_gives_a_model_or_a_dsco_error(read: Any, body: Any) -> None:
    name, call = read
    with client_answering(body) as client:
        try:
            call(client)
        except DscoError as exc:
            assert str(exc), name  # a sentence the status bar can show


@PROPS
@given(ORDERISH)
def test_an_order_of_any_shape_validates_or_says_which_field(data: dict[str, Any]) -> None:
    import pydantic

    try:
        order = Order.from_wire(data)
    except pydantic.ValidationError as exc:
        assert exc.errors() and all(e["loc"] for e in exc.errors())
        return
    # What did validate goes back to DSCO's names unchanged in kind.
    wire = order.to_wire()
    assert set(wire) <= set(data) | {"lineItems", "packages"} | set(wire)


@PROPS
@given(ORDERISH)
def test_a_stream_event_of_any_shape_validates_or_fails_with_a_location(data: Any) -> None:
    import pydantic

    try:
        StreamEvent.from_wire(data)
    except pydantic.ValidationError as exc:
        assert all(e["loc"] for e in exc.errors())
