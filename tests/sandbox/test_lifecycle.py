"""The sandbox as a process: persistence across restarts, the order generator, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer
from tests.sandbox.conftest import Api, wait_until


def test_state_survives_a_restart_without_reseeding(tmp_path: Path) -> None:
    config = SandboxConfig(data_dir=tmp_path / "sb", async_delay_s=0.05, rate_limits=False)
    with SandboxServer(config) as first:
        api = Api(first)
        order = api.create_order("KEEP-1", [(api.skus()[0], 1)])
        stream = api.create_stream("order")
        count = len(api.get("/order/page").json()["orders"])
    with SandboxServer(config) as second:
        api = Api(second)
        assert api.order(order["dscoOrderId"])["poNumber"] == "KEEP-1"
        assert len(api.get("/order/page").json()["orders"]) == count
        assert [s["id"] for s in api.get("/stream").json()] == [stream["id"]]
        newer = api.create_order("KEEP-2", [(api.skus()[0], 1)])
        assert int(newer["dscoOrderId"]) > int(order["dscoOrderId"])


def test_stop_is_idempotent(sandbox_factory: Any) -> None:
    sb = sandbox_factory(seed_demo=False)
    sb.stop()
    sb.stop()
    try:
        httpx.get(sb.base_url + "/hello", timeout=1)
        raise AssertionError("still serving after stop()")
    except httpx.TransportError:
        pass


def test_order_generator_creates_marketplace_orders(sandbox_factory: Any) -> None:
    sb = sandbox_factory(rate_limits=False, seed=3)
    api = Api(sb)
    stream = api.create_stream("order")
    before = {o["dscoOrderId"] for o in api.get("/order/page").json()["orders"]}
    sb.set_order_rate(1200)  # about one every 50 ms
    wait_until(
        lambda: len(api.get("/order/page").json()["orders"]) >= len(before) + 3, what="orders"
    )
    sb.set_order_rate(0)
    new = [o for o in api.get("/order/page").json()["orders"] if o["dscoOrderId"] not in before]
    skus = set(api.skus())
    for order in new:
        assert 1 <= len(order["lineItems"]) <= 3
        assert {li["sku"] for li in order["lineItems"]} <= skus
        assert order["shipping"]["name"] and order["shipping"]["postal"]
    events = api.events(stream["id"], 0, stream["partitions"][0]["position"]).json()["events"]
    assert {e["payload"]["dscoOrderId"] for e in events} >= {o["dscoOrderId"] for o in new}


def test_command_line_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dsco_desktop.sandbox",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
            "--client-id",
            "cli-id",
            "--client-secret",
            "cli-secret",
            "--no-seed",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "http://127.0.0.1:" in first and first.strip().endswith("/api/v3")
        base_url = first.split()[-1]
        assert "cli-id" in proc.stdout.readline()
        assert "cli-secret" in proc.stdout.readline()
        token = httpx.post(
            base_url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "cli-id",
                "client_secret": "cli-secret",
            },
        ).json()["access_token"]
        r = httpx.get(base_url + "/hello", headers={"Authorization": f"bearer {token}"})
        assert r.json() == {"hello": "World!"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "sandbox.sqlite3").exists()
