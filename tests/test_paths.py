"""Where the app keeps its files, what its log contains, and the one-instance lock."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dsco_desktop import paths
from dsco_desktop.paths import AlreadyRunningError, InstanceLock, resolve_paths, setup_logging


def test_env_var_moves_data_logs_and_cache_under_one_folder(isolated_dirs: Path) -> None:
    resolved = resolve_paths()
    assert resolved.data_dir == isolated_dirs.resolve()
    assert resolved.log_dir.parent == resolved.data_dir
    assert resolved.cache_dir.parent == resolved.data_dir
    assert resolved.database.parent == resolved.data_dir


def test_data_dir_argument_wins_over_env(tmp_path: Path) -> None:
    resolved = resolve_paths(tmp_path / "elsewhere")
    assert resolved.data_dir == (tmp_path / "elsewhere").resolve()
    assert resolved.log_file.is_relative_to(resolved.data_dir)


def test_default_dirs_come_from_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSCO_DESKTOP_DATA_DIR")
    resolved = resolve_paths()
    assert "DSCO Desktop" in str(resolved.data_dir)
    # The conftest points XDG/HOME at tmp_path, so the defaults land there, not in ~.
    assert resolved.data_dir.is_relative_to(tmp_path)
    assert resolved.log_dir != resolved.data_dir


@pytest.fixture
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_log_file_never_contains_secrets_or_tokens(restore_logging: object) -> None:
    resolved = resolve_paths()
    log_file = setup_logging(resolved)
    log = logging.getLogger("dsco_desktop.test")
    log.info("token body grant_type=client_credentials&client_id=abc&client_secret=s3cr3t-value")
    log.info("header %s", "Authorization: Bearer eyJhbGciOi.token-value")
    log.info('json {"access_token": "tok-123456", "expires_in": 3600}')
    try:
        raise ValueError("password=hunter2-value")
    except ValueError:
        log.exception("failed")
    _flush()
    text = log_file.read_text(encoding="utf-8")
    assert log_file.parent == resolved.log_dir
    for secret in ("s3cr3t-value", "eyJhbGciOi.token-value", "tok-123456", "hunter2-value"):
        assert secret not in text
    assert "client_id=abc" in text  # what is not a secret stays readable
    assert "expires_in" in text
    assert text.count(paths.REDACTED) >= 4


def test_log_file_rotates(monkeypatch: pytest.MonkeyPatch, restore_logging: object) -> None:
    monkeypatch.setattr(paths, "LOG_MAX_BYTES", 2000)
    log_file = setup_logging(resolve_paths())
    for i in range(200):
        logging.getLogger("dsco_desktop.test").info("line %d %s", i, "x" * 40)
    _flush()
    assert log_file.with_name(log_file.name + ".1").exists()
    assert log_file.stat().st_size <= 2000


def test_second_lock_on_the_same_folder_is_refused_until_released(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path / "app.lock")
    first.acquire()
    second = InstanceLock(tmp_path / "app.lock")
    with pytest.raises(AlreadyRunningError) as refused:
        second.acquire()
    assert str(tmp_path) in refused.value.message
    assert "already running" in refused.value.message
    assert not second.held
    first.release()
    with second:
        assert second.held


def test_locks_on_different_folders_do_not_interfere(tmp_path: Path) -> None:
    with InstanceLock(tmp_path / "a" / "app.lock"), InstanceLock(tmp_path / "b" / "app.lock"):
        pass
