"""Fixtures shared by the service tests: a fresh local store and a supplier client for the
test's sandbox (a test module that needs a different one defines its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.store.db import Database
from tests.services.orders_support import client_for


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "app.sqlite3")
    yield database
    database.close_all()


@pytest.fixture
def client(sandbox: Any) -> Iterator[DscoClient]:
    with client_for(sandbox) as dsco:
        yield dsco
