"""The composition root: start-up refusals, the sandbox mode, remembered state, clean shutdown."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from dsco_desktop import app as app_module
from dsco_desktop.app import DscoDesktop, main
from dsco_desktop.domain.settings import AppSettings, load_settings, save_settings
from dsco_desktop.paths import InstanceLock, resolve_paths
from dsco_desktop.store.db import Database
from dsco_desktop.store.settings import SettingsRepository
from dsco_desktop.ui.status_bar import ConnectionState

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_app(qtbot: QtBot) -> Iterator[Any]:
    started: list[DscoDesktop] = []

    def make(*, use_sandbox: bool = False) -> DscoDesktop:
        paths = resolve_paths()
        paths.create()
        desktop = DscoDesktop(paths, log_file=paths.log_file, use_sandbox=use_sandbox)
        started.append(desktop)
        desktop.start()
        assert desktop.window is not None
        qtbot.addWidget(desktop.window)
        return desktop

    yield make
    for desktop in started:
        desktop.shutdown()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert "DSCO Desktop" in capsys.readouterr().out


def test_a_newer_database_is_refused_and_left_untouched(
    qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "shop"
    db_file = resolve_paths(data).database
    db_file.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_file)
    conn.execute("CREATE TABLE future (x)")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    assert main(["--data-dir", str(data)]) == app_module.EXIT_STARTUP_FAILED
    err = capsys.readouterr().err
    assert "newer version of DSCO Desktop" in err
    assert "Traceback" not in err
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before
    # The lock was released: the folder is free again.
    with InstanceLock(resolve_paths(data).lock_file):
        pass


def test_a_second_launch_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "shop"
    with InstanceLock(resolve_paths(data).lock_file):
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        result = subprocess.run(
            [sys.executable, "-m", "dsco_desktop.app", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env=env,
            check=False,
        )
    assert result.returncode == app_module.EXIT_ALREADY_RUNNING
    assert "DSCO Desktop is already running with this data folder" in result.stderr
    assert str(data) in result.stderr


def test_first_start_without_credentials_opens_the_account_dialog(
    qtbot: QtBot, make_app: Any
) -> None:
    desktop = make_app()
    desktop.show()
    assert desktop.account_dialog is not None and desktop.account_dialog.isVisible()
    assert desktop.window.status.connection_state == ConnectionState.NOT_CONFIGURED
    desktop.window.grab().save("/tmp/shots/first_start.png")


def test_sandbox_mode_works_with_no_account(qtbot: QtBot, make_app: Any) -> None:
    desktop = make_app(use_sandbox=True)
    with qtbot.waitSignal(desktop.connection_checked, timeout=15_000) as checked:
        desktop.show()
    assert checked.args == [ConnectionState.CONNECTED]
    assert desktop.account_dialog is None
    assert "Local sandbox" in desktop.window.status.environment_label.text()
    assert desktop.sandbox.state is not None
    assert desktop.paths.sandbox_dir.is_dir()
    # Its retailer requires a brand, so a supplier can see how DSCO rejects an item.
    assert desktop.sandbox.config.catalog_required == ("brand",)
    # The calls of the check are in the Activity tab.
    tab = desktop.window.activity_tab
    qtbot.waitUntil(lambda: any(r.path.endswith("/hello") for r in tab.model.rows), timeout=5000)


def test_shutdown_stops_every_thread_and_the_sandbox(qtbot: QtBot, make_app: Any) -> None:
    desktop = make_app(use_sandbox=True)
    with qtbot.waitSignal(desktop.connection_checked, timeout=15_000):
        desktop.show()
    worker = desktop.worker
    base_url = desktop.sandbox.base_url
    assert worker.isRunning()
    desktop.shutdown()
    assert worker.isFinished()
    assert desktop.jobs.active_count == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/hello", timeout=2)
    desktop.shutdown()  # twice is harmless


def test_window_geometry_and_tab_are_remembered(qtbot: QtBot, make_app: Any) -> None:
    desktop = make_app()
    desktop.window.resize(800, 640)
    desktop.window.tabs.setCurrentWidget(desktop.window.pages["Activity"])
    desktop.shutdown()
    again = make_app()
    assert again.window.size().width() == 800
    assert again.window.size().height() == 640
    assert again.window.tabs.currentWidget() is again.window.pages["Activity"]


def test_settings_round_trip_through_the_store(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite3")
    repo = SettingsRepository(db)
    assert load_settings(repo) == AppSettings()
    assert AppSettings().stream_poll_interval_s == 5.0
    save_settings(repo, AppSettings(environment="staging", client_id="c-1", low_stock_threshold=3))
    loaded = load_settings(SettingsRepository(db))
    assert (loaded.environment, loaded.client_id, loaded.low_stock_threshold) == (
        "staging",
        "c-1",
        3,
    )
    # A damaged value falls back to its default; the others survive.
    repo.set("settings.stream_poll_interval_s", "every now and then")
    loaded = load_settings(repo)
    assert loaded.stream_poll_interval_s == 5.0 and loaded.client_id == "c-1"
    db.close_all()


def test_main_with_sandbox_shows_the_window_and_exits_cleanly(tmp_path: Path) -> None:
    # A real process: QApplication.exec() + quit() leave Qt's "quit now" flag set for the rest
    # of a process, so running main() inside the test process would break later tests.
    env = {**os.environ, app_module.QUIT_AFTER_SHOW_ENV: "1", "QT_QPA_PLATFORM": "offscreen"}
    data = tmp_path / "main-data"
    done = subprocess.run(
        [sys.executable, "-m", "dsco_desktop", "--sandbox", "--data-dir", str(data)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["event"] == "first_window" and line["in_process_s"] > 0
    log_file = resolve_paths(str(data)).log_file
    assert "DSCO Desktop stopped" in log_file.read_text(encoding="utf-8")
