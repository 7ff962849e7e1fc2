"""The sandbox answers fuzzed requests to every route without a 500 of its own making.

Hypothesis generates requests for each route the sandbox serves (taken from its Starlette
app, so a new route is fuzzed without editing this file): random query parameters among the
spec's names and junk, JSON bodies of any shape, broken bytes, odd content types, and a valid
token or none. With fault injection off, any 5xx is a bug in the sandbox; 4xx is a fine
answer to nonsense. A second test turns `error_rate` on and checks that the only 5xx then are
the injected ones, which say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route

from dsco_desktop.sandbox.routes import SandboxApi

QUERY_NAMES = [
    "orderId", "poNumber", "dscoOrderId", "itemKey", "value", "sku", "scrollId",
    "ordersCreatedSince", "ordersUpdatedSince", "until", "requestId", "includeTestOrders",
    "status", "createdSince", "pageSize", "returnNumber", "dscoReturnId", "invoiceId",
    "key", "warehouseCode", "consumerOrderNumber", "x",
]  # fmt: skip
TEXT = st.text(max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# Objects shaped a little like DSCO's, so the fuzz reaches past "not an object".
DSCO_KEYS = [
    "dscoOrderId", "poNumber", "lineItems", "sku", "quantity", "lineNumber", "shipments",
    "trackingNumber", "warehouses", "code", "cancelCode", "invoiceId", "totalAmount",
    "items", "objectType", "query", "description", "returnNumber", "position", "shipping",
]  # fmt: skip
DSCO_OBJECTS = st.dictionaries(st.sampled_from(DSCO_KEYS), JSON_VALUES, max_size=6)
BODIES = st.one_of(
    st.none(),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    DSCO_OBJECTS.map(lambda v: json.dumps(v).encode()),
    st.lists(DSCO_OBJECTS, max_size=3).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/x"]
)
PATH_PARTS = st.text(alphabet="abcdef0123456789-_.%~", min_size=1, max_size=12)


def sandbox_routes() -> list[tuple[str, str]]:
    """(method, path) for every route of the sandbox's app, path templates filled later."""
    app = SandboxApi.__new__(SandboxApi)
    app.state = None  # type: ignore[assignment]
    out: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(list(route.routes), prefix + route.path)
            elif isinstance(route, Route):
                for method in sorted(route.methods or ()):
                    if method != "HEAD":
                        out.append((method, prefix + route.path))

    walk(list(SandboxApi.build(app).routes), "")
    return out


ROUTES = sandbox_routes()


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method, template = draw(st.sampled_from(ROUTES))
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        if ":path}" in path[start : end + 1]:
            filler = "/".join(draw(st.lists(PATH_PARTS, min_size=1, max_size=4)))
        else:
            filler = draw(PATH_PARTS)
        path = path[:start] + filler + path[end + 1 :]
    params = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), TEXT, max_size=4))
    return {
        "method": method,
        "path": path,
        "params": params,
        "body": draw(BODIES),
        "content_type": draw(CONTENT_TYPES),
        "authorized": draw(st.booleans().map(lambda b: b or method == "POST")),
    }


class Fuzzer:
    """Sends generated requests to one sandbox and counts what came back."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{sandbox.port}", timeout=10)
        token = self.http.post(
            "/api/v3/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
            },
        ).json()["access_token"]
        self.token = token
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def send(self, request: dict[str, Any]) -> httpx.Response:
        headers = {}
        if request["content_type"]:
            headers["content-type"] = request["content_type"]
        if request["authorized"]:
            headers["authorization"] = f"Bearer {self.token}"
        answer = self.http.request(
            request["method"],
            request["path"],
            params=request["params"],
            content=request["body"],
            headers=headers,
        )
        self.sent += 1
        self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
        return answer


@pytest.fixture
def fuzzer(sandbox_factory: Callable[..., Any]) -> Iterator[Fuzzer]:
    fuzz = Fuzzer(sandbox_factory(rate_limits=False, async_delay_s=0.01, seed=3))
    yield fuzz
    fuzz.http.close()


@pytest.mark.e2e
def test_every_route_answers_fuzzed_requests_without_a_500(
    fuzzer: Fuzzer, record_figures: Callable[[str, dict[str, Any]], None]
) -> None:
    assert len(ROUTES) >= 40  # the whole surface, not a handful

    @settings(
        max_examples=600,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(requests())
    def check(request: dict[str, Any]) -> None:
        answer = fuzzer.send(request)
        assert answer.status_code < 500, (request, answer.status_code, answer.text[:300])

    check()
    record_figures("sandbox_fuzz", {"requests": fuzzer.sent, "routes": len(ROUTES)})
    # Nonsense was refused as nonsense, and some requests got through to real handlers.
    assert any(400 <= s < 500 for s in fuzzer.statuses)
    assert any(200 <= s < 300 for s in fuzzer.statuses)


@pytest.mark.e2e
def test_with_faults_on_the_only_5xx_are_the_injected_ones(fuzzer: Fuzzer) -> None:
    fuzzer.sandbox.set_faults(error_rate=0.5)

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(requests())
    def check(request: dict[str, Any]) -> None:
        answer = fuzzer.send(request)
        if answer.status_code >= 500:
            assert "injected fault" in answer.text, (request, answer.text[:300])

    check()
    assert sum(n for s, n in fuzzer.statuses.items() if s >= 500) > 0
