"""JSON columns: the fast encoder writes what the stdlib wrote, and falls back where it cannot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest

from dsco_desktop.store._util import dumps, loads

_STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [
        {"sku": "00123", "title": "Café ☕", "cost": 19.99, "qty": 3, "ok": True, "none": None},
        ["A", 1, 2.5, [1, {"b": []}]],
        [datetime(2025, 3, 31, 8, 30), date(2025, 3, 31), Decimal("1.10"), Point(1)],
        {"big": 2**70},  # beyond 64 bits: the stdlib writes it
        {1: "int key"},  # a non-text key: the stdlib turns it into "1"
    ],
)
def test_dumps_writes_what_the_stdlib_wrote(value: object) -> None:
    assert dumps(value) == _STDLIB(value)


def test_big_integers_survive_a_round_trip() -> None:
    assert loads(dumps({"n": 2**70})) == {"n": 2**70}
