"""Benchmark: how fast the local sandbox serves stream events over loopback.

Creates 10,000 order events in a fresh sandbox, then reads them all with maxEvents=1000 and
prints ONE JSON line: events/s, token-to-first-event latency, and a same-run baseline of
GET /hello round trips per second (machines are noisy; compare ratios, not absolutes).

    uv run python benchmarks/sandbox_stream.py
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from dsco_desktop.sandbox import seed
from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer

EVENTS = 10_000
HELLO_CALLS = 300


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = SandboxConfig(data_dir=Path(tmp), rate_limits=False, seed=1)
        with SandboxServer(config) as server:
            http = httpx.Client(base_url=server.base_url, timeout=30)
            form = {
                "grant_type": "client_credentials",
                "client_id": server.client_id,
                "client_secret": server.client_secret,
            }
            headers = {
                "Authorization": "bearer "
                + http.post("/oauth2/token", data=form).json()["access_token"]
            }
            stream = http.post(
                "/stream",
                headers=headers,
                json={"objectType": "order", "query": {"queryType": "order"}},
            ).json()
            start_position = stream["partitions"][0]["position"]

            # Fill the stream directly through the sandbox's state: it is the read side we time.
            state = server.state
            rng = random.Random(2)
            skus = state.all_skus()
            fill_start = time.perf_counter()
            with state.tx():
                for n in range(EVENTS):
                    state.create_order(seed.random_order(rng, skus, 1_000_000 + n))
            fill_s = time.perf_counter() - fill_start

            t0 = time.perf_counter()
            for _ in range(HELLO_CALLS):
                http.get("/hello", headers=headers)
            hello_per_s = HELLO_CALLS / (time.perf_counter() - t0)

            t0 = time.perf_counter()
            token = http.post("/oauth2/token", data=form).json()["access_token"]
            read_headers = {"Authorization": f"bearer {token}"}
            position = start_position
            first_event_s = None
            count = 0
            calls = 0
            byte_count = 0
            while True:
                r = http.get(
                    f"/stream/{stream['id']}/0/{quote(position, safe='')}", headers=read_headers
                )
                calls += 1
                byte_count += len(r.content)
                events = r.json()["events"]
                if not events:
                    break
                if first_event_s is None:
                    first_event_s = time.perf_counter() - t0
                count += len(events)
                position = events[-1]["id"]
            read_s = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "benchmark": "sandbox_stream",
                "events": count,
                "events_per_s": round(count / read_s, 1),
                "read_s": round(read_s, 3),
                "calls": calls,
                "mb_read": round(byte_count / 1e6, 2),
                "token_to_first_event_ms": round((first_event_s or 0) * 1000, 1),
                "baseline_hello_per_s": round(hello_per_s, 1),
                "fill_events_per_s": round(EVENTS / fill_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
