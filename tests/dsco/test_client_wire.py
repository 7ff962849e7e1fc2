"""The client against a scripted DSCO (httpx.MockTransport): tokens, retries, errors, records."""

from __future__ import annotations

import json
import logging
import socket
import threading

import httpx
import pytest

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.client import ChangeLogTimeoutError, DscoClient
from dsco_desktop.dsco.errors import (
    AuthError,
    ForbiddenError,
    InsecureUrlError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
    is_transient,
)
from dsco_desktop.errors import UserFacingError
from tests.dsco.fake_dsco import CLIENT_SECRET, FakeDsco

HELLO = httpx.Response(200, json={"hello": "World!"})


def test_one_token_is_reused_across_calls() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", HELLO)
    with fake.client() as client:
        for _ in range(3):
            assert client.hello() == {"hello": "World!"}
    assert fake.tokens_issued == ["tok-1"]
    token_call = fake.requests_to("POST", "/oauth2/token")[0]
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(x.split("=", 1) for x in token_call.content.decode().split("&"))
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == "client-id-123"


def test_token_expiring_mid_session_is_refreshed_once_and_the_call_succeeds() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", HELLO)
    records: list[CallRecord] = []
    with fake.client(records) as client:
        client.hello()
        fake.expire_tokens()  # DSCO now refuses tok-1 with a 401
        assert client.hello() == {"hello": "World!"}
    assert fake.tokens_issued == ["tok-1", "tok-2"]
    statuses = [(r.path, r.status) for r in records]
    assert statuses == [
        ("/oauth2/token", 200),
        ("/hello", 200),
        ("/hello", 401),
        ("/oauth2/token", 200),
        ("/hello", 200),
    ]


def test_a_second_401_after_refresh_is_an_auth_error() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", httpx.Response(401, json={"message": "Unauthorized"}))
    with fake.client() as client, pytest.raises(AuthError) as caught:
        client.hello()
    assert caught.value.status == 401
    assert len(fake.tokens_issued) == 2  # refreshed exactly once
    assert len(fake.requests_to("GET", "/hello")) == 2


def test_refused_credentials_say_so_without_the_secret() -> None:
    fake = FakeDsco()
    fake.token_replies = [
        httpx.Response(
            401, json={"error": "invalid_client", "error_description": "Bad client credentials"}
        )
    ]
    with fake.client() as client, pytest.raises(AuthError) as caught:
        client.hello()
    error = caught.value
    assert "client id and secret" in str(error)
    assert "Bad client credentials" in str(error)
    assert error.messages[0].code == "invalid_client"
    assert CLIENT_SECRET not in str(error) + repr(error) + str(error.detail)
    assert len(fake.requests_to("POST", "/oauth2/token")) == 1  # never retried


def test_429_then_success_waits_and_succeeds() -> None:
    fake = FakeDsco()
    fake.on(
        "GET",
        "/hello",
        httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "Too Many Requests"}),
        HELLO,
    )
    records: list[CallRecord] = []
    with fake.client(records) as client:
        assert client.hello() == {"hello": "World!"}
    assert [r.status for r in records if r.path == "/hello"] == [429, 200]
    assert records[1].error == "Too Many Requests"


def test_429_asking_for_a_long_pause_is_raised_at_once_with_the_hint() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", httpx.Response(429, headers={"Retry-After": "120"}))
    with fake.client(retry_wait_max_s=1.0) as client, pytest.raises(RateLimitedError) as caught:
        client.hello()
    assert caught.value.retry_after == 120
    assert is_transient(caught.value)
    assert len(fake.requests_to("GET", "/hello")) == 1


def test_503_storm_gives_up_after_the_retries_with_a_transient_server_error() -> None:
    fake = FakeDsco()
    fake.on("GET", "/order/page", httpx.Response(503, json={"message": "Service Unavailable"}))
    records: list[CallRecord] = []
    with fake.client(records, max_retries=3) as client, pytest.raises(ServerError) as caught:
        client.get_order_page(scrollId="abc")
    assert caught.value.status == 503
    assert is_transient(caught.value)
    assert "server problem (503)" in str(caught.value)
    assert len(fake.requests_to("GET", "/order/page")) == 4
    assert [r.status for r in records if r.path.startswith("/order/page")] == [503] * 4


def test_5xx_then_success_is_invisible_to_the_caller() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", httpx.Response(502), httpx.Response(504), HELLO)
    with fake.client() as client:
        assert client.hello() == {"hello": "World!"}


def test_read_timeouts_become_a_network_error_after_retries() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", httpx.ReadTimeout("timed out"))
    records: list[CallRecord] = []
    with (
        fake.client(records, max_retries=2, timeout=5) as client,
        pytest.raises(NetworkError) as caught,
    ):
        client.hello()
    assert "did not answer in time (5 s)" in str(caught.value)
    hello_records = [r for r in records if r.path == "/hello"]
    assert len(hello_records) == 3
    assert all(r.status is None and r.error for r in hello_records)


def test_408_is_retried_then_raised_as_request_timeout() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", httpx.Response(408))
    with fake.client(max_retries=1) as client, pytest.raises(RequestTimeoutError):
        client.hello()
    assert len(fake.requests_to("GET", "/hello")) == 2


def test_a_real_timeout_from_a_silent_server_is_a_network_error() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()  # accepts the connection, never answers
    port = server.getsockname()[1]
    try:
        client = DscoClient(
            f"http://127.0.0.1:{port}/api/v3", "id", "secret", timeout=0.2, max_retries=0
        )
        with client, pytest.raises(NetworkError) as caught:
            client.token()
        assert "did not answer in time" in str(caught.value)
    finally:
        server.close()


def test_connection_refused_is_a_network_error_naming_the_host() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    records: list[CallRecord] = []
    client = DscoClient(
        f"http://127.0.0.1:{port}/api/v3",
        "id",
        "secret",
        on_call=records.append,
        max_retries=1,
        retry_wait_max_s=0.01,
    )
    with client, pytest.raises(NetworkError) as caught:
        client.hello()
    assert "Could not reach DSCO at 127.0.0.1" in str(caught.value)
    assert is_transient(caught.value)
    assert [r.status for r in records] == [None, None]  # the token call, tried twice


def test_dsco_validation_messages_reach_the_caller_intact() -> None:
    fake = FakeDsco()
    body = {
        "status": "failure",
        "requestId": "9e7c1a52-0000-4000-8000-000000000001",
        "messages": [
            {
                "code": "VALIDATION_FAILED",
                "severity": "error",
                "description": "Ship carrier is required",
            },
            {
                "code": "VALIDATION_FAILED",
                "description": ["All of these fields are required: poNumber", "lineItems.sku"],
            },
        ],
    }
    fake.on("POST", "/order/singleShipment", httpx.Response(400, json=body))
    records: list[CallRecord] = []
    shipment = {"poNumber": "12345", "shipments": [{"trackingNumber": "1Z999"}]}
    with fake.client(records) as client, pytest.raises(ValidationError) as caught:
        client.single_shipment(shipment)
    error = caught.value
    assert str(error) == (
        "DSCO rejected the shipment for PO 12345: Ship carrier is required; "
        "All of these fields are required: poNumber; lineItems.sku"
    )
    assert [m.code for m in error.messages] == ["VALIDATION_FAILED", "VALIDATION_FAILED"]
    assert error.messages[0].severity == "error"
    assert error.messages[0].description == "Ship carrier is required"
    assert error.request_id == "9e7c1a52-0000-4000-8000-000000000001"
    assert not is_transient(error)
    assert len(fake.requests_to("POST", "/order/singleShipment")) == 1  # never retried
    assert records[-1].request_id == "9e7c1a52-0000-4000-8000-000000000001"
    sent = json.loads(fake.requests_to("POST", "/order/singleShipment")[0].content)
    assert sent == shipment


def test_unknown_path_403_and_404_are_typed() -> None:
    fake = FakeDsco()
    fake.on("GET", "/order/", httpx.Response(404, json={"message": "not found"}))
    with fake.client() as client:
        assert client.get_order("poNumber", "NOPE") is None
        with pytest.raises(ForbiddenError) as forbidden:
            client.get_order_page(scrollId="expired")  # not scripted: the gateway's 403
        assert "Invalid key=value pair" in str(forbidden.value)
        fake.on("GET", "/order/page", httpx.Response(404))
        with pytest.raises(NotFoundError):
            client.get_order_page(scrollId="expired")


@pytest.mark.parametrize(
    "url",
    ["http://api.dsco.io/api/v3", "http://192.168.1.20:8080/api/v3", "http://localhost.evil.com"],
)
def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(url: str) -> None:
    fake = FakeDsco()
    with pytest.raises(InsecureUrlError):
        fake.client(base_url=url)
    assert fake.requests == []


def test_activity_records_are_redacted_and_token_free(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeDsco()
    fake.on("GET", "/order/page", httpx.Response(200, json={"orders": []}))
    fake.on("GET", "/warehouse/page", httpx.Response(200, json={"warehouses": []}))
    fake.on(
        "GET",
        "/return/page",
        httpx.Response(400, json={"messages": [{"code": "X", "description": "bad jane@x.com"}]}),
    )
    records: list[CallRecord] = []
    caplog.set_level(logging.DEBUG)
    with fake.client(records) as client:
        client.get_order_page(consumerOrderNumber="jane.doe@example.com", status=["created"])
        client.get_warehouses(name="Jane Doe Garage", idType="code")
        with pytest.raises(ValidationError):
            client.get_returns(returnIdType="returnNumber", returnIdValue="R1")
        token = client.token()
        client_repr = repr(client) + repr(client.tokens)
    paths = [r.path for r in records]
    assert "/order/page?consumerOrderNumber=[redacted]&status=created" in paths
    assert "/warehouse/page?name=[redacted]&idType=code" in paths
    assert records[-1].error == "bad [redacted]"
    everything = " ".join(str(r) for r in records) + caplog.text + client_repr
    for secret in ("jane.doe@example.com", "Jane Doe", "jane@x.com", CLIENT_SECRET, token):
        assert secret not in everything


def test_a_failing_activity_callback_does_not_break_calls() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", HELLO)

    def broken(record: CallRecord) -> None:
        raise RuntimeError("activity log is full")

    client = DscoClient(
        "https://api.dsco.test/api/v3",
        "id",
        "secret",
        on_call=broken,
        transport=httpx.MockTransport(fake.handler),
    )
    with client:
        assert client.hello() == {"hello": "World!"}


def test_oversize_small_batch_is_refused_before_sending() -> None:
    fake = FakeDsco()
    fake.on("POST", "/inventory/batch/small", httpx.Response(202, json={"status": "pending"}))
    items = [
        {"sku": f"SKU-{i:06d}", "title": "x" * 500, "quantityAvailable": 1, "warehouses": []}
        for i in range(10_000)
    ]
    with fake.client() as client, pytest.raises(UserFacingError) as caught:
        client.update_inventory_small_batch(items)
    assert "DSCO accepts at most 5.0 MB" in str(caught.value)
    assert fake.requests_to("POST", "/inventory/batch/small") == []
    with fake.client() as client, pytest.raises(UserFacingError):
        client.acknowledge_orders([])


def test_large_batch_uploads_json_lines_to_the_data_url_with_the_same_headers() -> None:
    fake = FakeDsco()
    data_url = "https://api.dsco.test/upload/abc?X-Amz-Signature=deadbeef"
    fake.on(
        "POST",
        "/inventory/batch/large",
        httpx.Response(
            200,
            json={
                "status": "success",
                "requestId": "req-large-1",
                "eventDate": "2025-11-14T00:00:00Z",
                "dataUrl": data_url,
            },
        ),
    )
    fake.on("PUT", "/upload/abc", httpx.Response(200))
    records: list[CallRecord] = []
    items = [
        {
            "sku": "ABC123",
            "quantityAvailable": 45,
            "warehouses": [{"code": "WH01", "quantity": 45}],
        },
        {"sku": "EFG456", "quantityAvailable": 0, "warehouses": [{"code": "WH01", "quantity": 0}]},
    ]
    with fake.client(records) as client:
        answer = client.update_inventory_large_batch(items)
    assert answer.request_id == "req-large-1"
    upload = fake.requests[-1]
    assert upload.method == "PUT"
    assert str(upload.url) == data_url
    assert upload.headers["authorization"] == "Bearer tok-1"
    lines = upload.content.decode().splitlines()
    assert [json.loads(line) for line in lines] == items
    assert "deadbeef" not in " ".join(r.path for r in records)


def test_large_batch_refuses_an_insecure_upload_url() -> None:
    fake = FakeDsco()
    fake.on(
        "POST",
        "/catalog/batch/large",
        httpx.Response(
            200,
            json={"status": "success", "requestId": "r", "dataUrl": "http://evil.example/u"},
        ),
    )
    with fake.client() as client, pytest.raises(InsecureUrlError):
        client.update_catalog_large_batch([{"sku": "A", "title": "t", "productStatus": "active"}])
    assert all(r.url.host != "evil.example" for r in fake.requests)


def test_iter_orders_follows_scroll_id_until_an_empty_page() -> None:
    fake = FakeDsco()
    fake.on(
        "GET",
        "/order/page",
        httpx.Response(200, json={"scrollId": "S1", "orders": [{"dscoOrderId": "1"}]}),
        httpx.Response(200, json={"scrollId": "S1", "orders": [{"dscoOrderId": 2}]}),
        httpx.Response(200, json={"scrollId": "S1", "orders": []}),
    )
    with fake.client() as client:
        ids = [o.dsco_order_id for o in client.iter_orders(orders_updated_since="2025-01-01")]
    assert ids == ["1", "2"]
    queries = [r.url.params for r in fake.requests_to("GET", "/order/page")]
    assert queries[0]["ordersUpdatedSince"] == "2025-01-01"
    assert queries[1]["scrollId"] == "S1" and "ordersUpdatedSince" not in queries[1]


def test_wait_for_change_log_polls_until_completed_and_reports_each_record() -> None:
    fake = FakeDsco()
    processing = {"status": "PROCESSING", "logs": []}
    done = {
        "status": "COMPLETED",
        "logs": [
            {
                "payload": {"sku": "A"},
                "status": "success",
                "requestMethod": "api",
                "requestId": "r1",
                "results": None,
            },
            {
                "payload": {"sku": "B"},
                "status": "failure",
                "requestMethod": "api",
                "requestId": "r1",
                "results": [
                    {"code": "NOT_FOUND", "severity": "error", "description": "Unknown SKU B"}
                ],
            },
        ],
    }
    fake.on(
        "GET",
        "/inventory/log",
        httpx.Response(404),
        httpx.Response(200, json=processing),
        httpx.Response(200, json=done),
    )
    with fake.client() as client:
        result = client.wait_for_change_log("inventory", "r1", timeout_s=5, poll_s=0.01)
    assert result.completed
    assert [e.record_key for e in result.succeeded] == ["A"]
    assert [(e.record_key, e.message_text) for e in result.failed] == [("B", "Unknown SKU B")]
    assert not result.all_succeeded
    assert fake.requests_to("GET", "/inventory/log")[0].url.params["requestId"] == "r1"


def test_wait_for_change_log_times_out_with_a_readable_error() -> None:
    fake = FakeDsco()
    fake.on("GET", "/order/log", httpx.Response(200, json={"status": "PROCESSING", "logs": []}))
    with fake.client() as client, pytest.raises(ChangeLogTimeoutError) as caught:
        client.wait_for_change_log("order", "r9", timeout_s=0.2, poll_s=0.05)
    assert isinstance(caught.value, TimeoutError)
    assert "r9" in str(caught.value)
    assert caught.value.partial.status == "PROCESSING"


def test_wait_for_change_log_stops_when_asked() -> None:
    fake = FakeDsco()
    fake.on("GET", "/order/log", httpx.Response(200, json={"status": "PROCESSING", "logs": []}))
    polls: list[int] = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 3

    with fake.client() as client:
        result = client.wait_for_change_log(
            "order", "r9", timeout_s=30, poll_s=0.05, should_stop=should_stop
        )
    assert result.status == "PROCESSING"


def test_threads_share_one_token() -> None:
    fake = FakeDsco()
    fake.on("GET", "/hello", HELLO)
    errors: list[BaseException] = []
    with fake.client() as client:

        def work() -> None:
            try:
                for _ in range(5):
                    client.hello()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert fake.tokens_issued == ["tok-1"]
    assert len(fake.requests_to("GET", "/hello")) == 40


def test_stream_positions_are_percent_encoded_in_the_path() -> None:
    fake = FakeDsco()
    position = "z/2025/11/06/23/05/1762470312927-0000014"
    encoded = "z%2F2025%2F11%2F06%2F23%2F05%2F1762470312927-0000014"
    fake.on(
        "GET",
        f"/stream/orders-1/0/{encoded}",
        httpx.Response(
            200,
            json={
                "partitionId": 0,
                "events": [
                    {"id": "e1", "source": "stream", "eventReasons": ["create"], "payload": {}},
                    {"id": "e2", "source": "stream", "eventReasons": "update", "payload": None},
                ],
            },
        ),
    )
    fake.on("PUT", "/stream/orders-1/0/e2", httpx.Response(200, json={"status": "success"}))
    with fake.client() as client:
        page = client.get_stream_events("orders-1", 0, position)
        assert [e.event_reasons for e in page.events] == [["create"], ["update"]]
        assert page.last_position == "e2"
        assert len(client.get_stream_events("orders-1", 0, position, max_events=1).events) == 1
        assert client.checkpoint_stream("orders-1", 0, "e2").status == "success"
