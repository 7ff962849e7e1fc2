"""The Activity tab: the call log from the store, filterable by text and errors only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.store.activity import ActivityRepository
from dsco_desktop.store.db import Database
from dsco_desktop.ui.activity_tab import ActivityModel, ActivityTab
from dsco_desktop.ui.jobs import JobRunner
from dsco_desktop.ui.table_model import RawRole, RecordRole
from tests.ui.shots import shot

CALLS = [
    CallRecord("2025-01-02T10:00:00+00:00", "POST", "/oauth2/token", 200, 120.0, None, None),
    CallRecord("2025-01-02T10:00:01+00:00", "GET", "/hello", 200, 35.5, "req-hello", None),
    CallRecord(
        "2025-01-02T10:00:02+00:00",
        "POST",
        "/inventory/batch/small",
        400,
        80.0,
        "req-bad",
        "quantity must be >= 0",
    ),
    CallRecord(
        "2025-01-02T10:00:03+00:00",
        "GET",
        "/order/page",
        None,
        10000.0,
        None,
        "DSCO could not be reached",
    ),
]


@pytest.fixture
def tab(qtbot: QtBot, db: Database) -> Iterator[ActivityTab]:
    repo = ActivityRepository(db)
    for call in CALLS:
        repo.record(call)
    jobs = JobRunner()

    def load(text: str | None, errors_only: bool, limit: int) -> list[CallRecord]:
        return ActivityRepository(db).recent(limit=limit, text=text, errors_only=errors_only)

    widget = ActivityTab(load, jobs)
    qtbot.addWidget(widget)
    widget.resize(1100, 500)
    widget.show()
    yield widget
    assert jobs.shutdown(5000)


def _paths(tab: ActivityTab) -> list[str]:
    return [record.path for record in tab.model.rows]


def test_shows_the_recorded_calls_newest_first(qtbot: QtBot, tab: ActivityTab) -> None:
    tab.refresh_now()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4)
    assert _paths(tab) == ["/order/page", "/inventory/batch/small", "/hello", "/oauth2/token"]
    model = tab.model
    status = model.index(1, 3)
    assert model.data(status) == "400"
    assert model.data(status, RawRole) == 400
    assert model.data(model.index(0, 3)) == "—"  # no answer at all
    assert model.data(model.index(1, 6)) == "quantity must be >= 0"
    assert model.data(model.index(2, 5), RawRole) == "req-hello"
    assert model.data(model.index(2, 0), RecordRole) == CALLS[1]
    assert tab.summary.text() == "4 calls"
    shot(tab, "activity_tab")


def test_errors_only_and_text_filters(qtbot: QtBot, tab: ActivityTab) -> None:
    tab.refresh_now()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4)
    tab.errors_only.setChecked(True)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    assert _paths(tab) == ["/order/page", "/inventory/batch/small"]
    tab.filter_edit.setText("inventory")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    assert _paths(tab) == ["/inventory/batch/small"]
    tab.errors_only.setChecked(False)
    tab.filter_edit.setText("req-hello")
    qtbot.waitUntil(lambda: _paths(tab) == ["/hello"])
    tab.filter_edit.setText("no such call")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0)
    assert tab.table.isVisible()  # an empty filter result still shows the (empty) table
    assert tab.summary.text() == "0 calls"


def test_a_burst_of_new_calls_is_coalesced(qtbot: QtBot, tab: ActivityTab, db: Database) -> None:
    tab.refresh_now()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4)
    before = tab.refresh_count
    repo = ActivityRepository(db)
    for i in range(200):
        call = CallRecord("2025-01-02T11:00:00+00:00", "GET", f"/burst/{i}", 200, 1.0)
        repo.record(call)
        tab.notify_new_calls(call)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 204)
    assert tab.refresh_count - before <= 3


def test_empty_log_explains_itself(qtbot: QtBot, db: Database) -> None:
    jobs = JobRunner()
    widget = ActivityTab(lambda *_: [], jobs)
    qtbot.addWidget(widget)
    widget.show()
    widget.refresh_now()
    qtbot.waitUntil(lambda: widget.refresh_count == 1)
    assert widget.empty_label.isVisible() and not widget.table.isVisible()
    assert "No calls to DSCO yet" in widget.empty_label.text()
    assert jobs.shutdown(5000)


def test_model_passes_qtmodeltester(qtmodeltester: object) -> None:
    model = ActivityModel()
    model.set_rows(CALLS)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    model.set_rows([])
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time"
