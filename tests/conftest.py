"""Test-wide setup: offscreen Qt, an in-memory keyring, a throwaway data dir, and the sandbox.

Nothing here touches the real home directory or the real OS keyring.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh in-memory keyring."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app's data dir and the platform's home/config dirs at tmp_path."""
    data = tmp_path / "data"
    monkeypatch.setenv("DSCO_DESKTOP_DATA_DIR", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / ".local" / "state"))
    return data


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start local DSCO sandboxes on free loopback ports; all are stopped after the test.

    Keyword arguments override `SandboxConfig` fields (token lifetime, fault knobs, ...).
    """
    from dsco_desktop.sandbox.server import SandboxConfig, SandboxServer

    started: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        overrides.setdefault("data_dir", tmp_path / f"sandbox{len(started)}")
        overrides.setdefault("async_delay_s", 0.05)
        server = SandboxServer(SandboxConfig(**overrides))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    """A fresh local store in tmp_path (a test module needing another one defines its own)."""
    from dsco_desktop.store.db import Database

    database = Database(tmp_path / "app.sqlite3")
    yield database
    database.close_all()


@pytest.fixture
def client(sandbox: Any) -> Iterator[Any]:
    """A supplier client for the test's sandbox."""
    from tests.services.orders_support import client_for

    with client_for(sandbox) as dsco:
        yield dsco


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Any]) -> Any:
    """A running sandbox with its demo shop, fast async processing and no faults."""
    return sandbox_factory()
