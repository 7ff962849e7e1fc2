"""Base URLs, request limits, redaction and the token manager, each on its own."""

from __future__ import annotations

import pytest

from dsco_desktop.dsco.auth import TokenManager
from dsco_desktop.dsco.environments import Environment, base_url_for, check_base_url
from dsco_desktop.dsco.errors import AuthError, InsecureUrlError
from dsco_desktop.dsco.limits import (
    SMALL_BATCH_MAX_BYTES,
    check_small_batch,
    json_size,
    split_small_batches,
)
from dsco_desktop.dsco.redaction import redact_path, redact_text
from dsco_desktop.errors import UserFacingError


def test_fixed_environments_point_at_dsco() -> None:
    assert base_url_for(Environment.PRODUCTION) == "https://api.dsco.io/api/v3"
    assert base_url_for(Environment.STAGING) == "https://staging-api.dsco.io/api/v3"
    assert (
        base_url_for(Environment.SANDBOX, "http://127.0.0.1:8123/api/v3/")
        == "http://127.0.0.1:8123/api/v3"
    )
    assert base_url_for(Environment("custom"), "HTTPS://Proxy.Example.com/api/v3") == (
        "https://proxy.example.com/api/v3"
    )
    with pytest.raises(UserFacingError, match="sandbox is not running"):
        base_url_for(Environment.SANDBOX)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/api/v3",
        "http://127.8.9.10/api/v3",
        "http://localhost:9000/api/v3",
        "http://[::1]:9000/api/v3",
        "https://api.dsco.io/api/v3",
    ],
)
def test_https_or_loopback_is_accepted(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url", ["http://api.dsco.io/api/v3", "http://10.0.0.5/api/v3", "http://[2001:db8::1]/"]
)
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(InsecureUrlError, match="plain http"):
        check_base_url(url)


@pytest.mark.parametrize(
    "url", ["", "api.dsco.io", "ftp://api.dsco.io", "https://user:pw@api.dsco.io/api/v3"]
)
def test_malformed_urls_are_refused_with_a_readable_message(url: str) -> None:
    with pytest.raises(UserFacingError):
        check_base_url(url)


def test_split_small_batches_keeps_every_batch_under_the_limit() -> None:
    records = [{"sku": f"S{i}", "title": "t" * 90} for i in range(1000)]
    batches = list(split_small_batches(records, max_bytes=10_000))
    assert [r for batch in batches for r in batch] == records
    assert all(json_size(batch) <= 10_000 for batch in batches)
    assert len(batches) > 1
    assert check_small_batch(batches[0], "items") <= SMALL_BATCH_MAX_BYTES


def test_redaction_hides_customer_data_but_keeps_ids() -> None:
    assert (
        redact_path("/order/", [("orderKey", "poNumber"), ("value", "1022178919")])
        == "/order/?orderKey=poNumber&value=1022178919"
    )
    assert redact_path("/x", [("buyerEmail", "a"), ("phone", "1")]) == (
        "/x?buyerEmail=[redacted]&phone=[redacted]"
    )
    assert redact_text("order 1022178919 for +1 555 555 0100 / a@b.co") == (
        "order 1022178919 for [redacted] / [redacted]"
    )
    assert "abc.def" not in redact_text("Authorization: Bearer abc.def")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_refreshed_shortly_before_expiry_not_after() -> None:
    clock = Clock()
    minted: list[dict[str, str]] = []

    def fetch(form: object) -> dict[str, object]:
        minted.append(dict(form))  # type: ignore[call-overload]
        return {"access_token": f"t{len(minted)}", "expires_in": 3600}

    manager = TokenManager("id", "secret", fetch, clock=clock)
    assert manager.token() == "t1"
    clock.now += 3500  # 100 s before expiry: still reused
    assert manager.token() == "t1"
    clock.now += 60  # inside the refresh margin
    assert manager.token() == "t2"
    manager.invalidate("t1")  # a stale 401 from another thread does not drop the new token
    assert manager.token() == "t2"
    manager.invalidate("t2")
    assert manager.token() == "t3"
    assert minted[0] == {
        "grant_type": "client_credentials",
        "client_id": "id",
        "client_secret": "secret",
    }
    assert "secret" not in repr(manager)


def test_missing_credentials_are_an_auth_error_without_a_request() -> None:
    calls: list[object] = []
    manager = TokenManager("", "", calls.append)
    with pytest.raises(AuthError, match="No DSCO client id"):
        manager.token()
    assert calls == []
