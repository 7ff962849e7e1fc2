"""Fixtures shared by the UI tests: a job runner that must stop cleanly after the test
(the store `db` and the sandbox `client` come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop.ui.jobs import JobRunner


@pytest.fixture
def jobs(qtbot: QtBot) -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    assert runner.shutdown(10_000), "a background job did not stop"
