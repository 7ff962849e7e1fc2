"""Tokens, bearer auth, the gateway's 403 for unknown routes, and the fault knobs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.sandbox import spec
from tests.sandbox.conftest import Api, wait_until

TOKEN = "/oauth2/token"


def _token(sb: Any, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "client_id": sb.client_id}
    data["client_secret"] = sb.client_secret
    data.update(form)
    return httpx.post(sb.base_url + TOKEN, data={k: v for k, v in data.items() if v != "-"})


def test_token_is_issued_for_the_configured_credentials(sb: Any) -> None:
    body = spec.check(_token(sb), TOKEN, "post", 200)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


@pytest.mark.parametrize(
    "form", [{"grant_type": "password"}, {"grant_type": "-"}, {"client_secret": "-"}]
)
def test_bad_token_request_is_invalid_request(sb: Any, form: dict[str, str]) -> None:
    body = spec.check(_token(sb, **form), TOKEN, "post", 400)
    assert body["error"] == "invalid_request"


def test_wrong_secret_is_invalid_client(sb: Any) -> None:
    body = spec.check(_token(sb, client_secret="nope"), TOKEN, "post", 401)
    assert body["error"] == "invalid_client"


def test_custom_credentials(sandbox_factory: Any) -> None:
    sb = sandbox_factory(client_id="me", client_secret="s3cret", seed_demo=False)
    assert _token(sb).status_code == 200
    assert sb.client_id == "me"


def test_hello_needs_a_valid_token(api: Api) -> None:
    assert spec.check(api.get("/hello"), "/hello", "get", 200) == {"hello": "World!"}
    assert api.http.get("/hello").status_code == 401
    assert api.http.get("/hello", headers={"Authorization": "bearer forged"}).status_code == 401
    # The scheme is case-insensitive, as real clients send "Bearer".
    r = api.http.get("/hello", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200


def test_token_expires_after_its_lifetime(sandbox_factory: Any) -> None:
    sb = sandbox_factory(token_lifetime_s=0.3, seed_demo=False)
    api = Api(sb)
    assert api.get("/hello").status_code == 200
    wait_until(lambda: api.get("/hello").status_code == 401, what="token expiry")
    api.token = api.new_token()
    assert api.get("/hello").status_code == 200


def test_revoked_tokens_are_refused_and_new_ones_work(api: Api) -> None:
    api.server.revoke_tokens()
    assert api.get("/hello").status_code == 401
    api.token = api.new_token()
    assert api.get("/hello").status_code == 200


def test_token_lifetime_can_change_at_runtime(api: Api) -> None:
    api.server.set_faults(token_lifetime_s=120)
    assert _token(api.server).json()["expires_in"] == 120


def test_unknown_routes_answer_403_like_the_gateway(api: Api) -> None:
    r = api.get("/order/changelog")
    assert r.status_code == 403
    assert "Authorization header" in r.json()["message"]
    r = api.http.get("/streams/abc/events")
    assert r.status_code == 403
    assert r.json() == {"message": "Missing Authentication Token"}
    assert api.delete("/order/page").status_code == 403  # known path, unknown method


def test_error_rate_answers_5xx_and_changes_nothing(api: Api) -> None:
    before = api.order(api.server.state.order_page_keys({})[0])
    api.server.set_faults(error_rate=1.0)
    r = api.post(
        "/order/acknowledge", json=[{"id": before["dscoOrderId"], "type": "DSCO_ORDER_ID"}]
    )
    assert r.status_code in (500, 502, 503, 504)
    assert api.get("/hello").status_code >= 500
    api.server.set_faults(error_rate=0.0)
    assert api.get("/hello").status_code == 200
    assert api.order(before["dscoOrderId"])["dscoLastUpdate"] == before["dscoLastUpdate"]


def test_latency_is_added_to_responses(api: Api) -> None:
    api.server.set_faults(latency_s=0.2)
    start = time.monotonic()
    assert api.get("/hello").status_code == 200
    assert time.monotonic() - start >= 0.2


def test_rate_limit_answers_429_then_recovers(sandbox_factory: Any) -> None:
    sb = sandbox_factory(seed_demo=True)
    api = Api(sb)
    sku = api.skus()[0]
    body = {"sku": sku, "warehouses": [{"code": "WH01", "quantity": 3}]}
    codes = [api.post("/inventory/singleItem", json=body).status_code for _ in range(8)]
    assert codes[:5] == [201] * 5  # the spec's 5/s for singleItem
    assert 429 in codes[5:]
    assert api.post("/inventory/singleItem", json=body).status_code in (201, 429)
    wait_until(
        lambda: api.post("/inventory/singleItem", json=body).status_code == 201,
        what="rate window to pass",
    )
    sb.set_faults(rate_limits=False)
    assert {api.post("/inventory/singleItem", json=body).status_code for _ in range(8)} == {201}
