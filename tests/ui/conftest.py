"""Fixtures shared by the UI tests: a fresh local store, a job runner that must stop cleanly
after the test, and a supplier client for the test's sandbox (a test module that needs a
different one, such as a store seeded with orders, defines its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop.dsco.client import DscoClient
from dsco_desktop.store.db import Database
from dsco_desktop.ui.jobs import JobRunner
from tests.services.orders_support import client_for


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "app.sqlite3")
    yield database
    database.close_all()


@pytest.fixture
def jobs(qtbot: QtBot) -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    assert runner.shutdown(10_000), "a background job did not stop"


@pytest.fixture
def client(sandbox: Any) -> Iterator[DscoClient]:
    with client_for(sandbox) as dsco:
        yield dsco
