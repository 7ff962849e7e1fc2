"""Fixtures for driving the sandbox over real HTTP with httpx (never the project's client)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest


class Api:
    """A thin authenticated httpx client for one sandbox."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=10)
        self.token = self.new_token()

    def new_token(self) -> str:
        r = self.http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.server.client_id,
                "client_secret": self.server.client_secret,
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers=self.headers, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.put(path, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, headers=self.headers, **kw)

    # -- conveniences used across tests

    def order(self, dsco_order_id: str) -> dict[str, Any]:
        r = self.get("/order/", params={"orderKey": "dscoOrderId", "value": dsco_order_id})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def skus(self) -> list[str]:
        return list(self.server.state.all_skus())

    def create_order(self, po: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
        body = {
            "poNumber": po,
            "lineItems": [
                {"sku": sku, "quantity": qty, "lineNumber": n}
                for n, (sku, qty) in enumerate(lines, start=1)
            ],
            "shipping": {
                "name": "Kayla Nguyen",
                "address": ["12 Maple Ave"],
                "city": "Austin",
                "region": "TX",
                "postal": "78704",
                "country": "US",
            },
        }
        r = self.post("/order/", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json()["dscoOrders"][0])

    def wait_log(self, kind: str, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Poll a change log by requestId until it reports COMPLETED."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(f"/{kind}/log", params={"requestId": request_id})
            assert r.status_code == 200, r.text
            body = dict(r.json())
            if body["status"] == "COMPLETED":
                return body
            assert time.monotonic() < deadline, f"{kind} request {request_id} never completed"
            time.sleep(0.02)

    def create_stream(self, object_type: str = "order", **extra: Any) -> dict[str, Any]:
        body = {"objectType": object_type, "query": {"queryType": object_type}, **extra}
        r = self.post("/stream", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def events(self, stream_id: str, pid: int, position: str) -> httpx.Response:
        return self.get(f"/stream/{stream_id}/{pid}/{quote(position, safe='')}")


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def sb(sandbox_factory: Callable[..., Any]) -> Any:
    """A sandbox without rate limits, so tests can call freely."""
    return sandbox_factory(rate_limits=False, seed=7)


@pytest.fixture
def api(sb: Any) -> Iterator[Api]:
    client = Api(sb)
    yield client
    client.http.close()
