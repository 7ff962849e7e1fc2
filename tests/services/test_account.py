"""The account: secrets in the OS keyring per environment, a clear "no keyring" condition,
and a connection test against the local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.errors import AuthError, InsecureUrlError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services import account
from dsco_desktop.services.account import (
    AccountService,
    AccountSession,
    Credentials,
    SecretStorage,
    keyring_service_name,
    resolve_base_url,
)


def test_secret_is_saved_in_the_keyring_under_the_environment(memory_keyring: Any) -> None:
    service = AccountService()
    assert service.keyring_available
    stored = service.save_secret("production", "client-1", "prod-secret")
    assert stored is SecretStorage.KEYRING
    service.save_secret("staging", "client-1", "staging-secret")
    assert memory_keyring.secrets[("DSCO Desktop (production)", "client-1")] == "prod-secret"
    assert memory_keyring.secrets[(keyring_service_name("staging"), "client-1")] == (
        "staging-secret"
    )
    # A fresh service (the next app start) reads it back from the keyring.
    assert AccountService().load_secret("production", "client-1") == "prod-secret"
    assert AccountService().load_secret("production", "other") is None


def test_forget_removes_the_secret(memory_keyring: Any) -> None:
    service = AccountService()
    service.save_secret("production", "client-1", "prod-secret")
    service.forget_secret("production", "client-1")
    assert memory_keyring.secrets == {}
    assert AccountService().load_secret("production", "client-1") is None
    service.forget_secret("production", "client-1")  # twice is fine


def test_without_a_keyring_the_secret_lives_for_this_session_only(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    service = AccountService()
    assert not service.keyring_available
    assert service.save_secret("production", "client-1", "only-in-memory") is (
        SecretStorage.SESSION_ONLY
    )
    assert service.load_secret("production", "client-1") == "only-in-memory"
    assert AccountService().load_secret("production", "client-1") is None
    assert "session only" in account.NO_KEYRING_MESSAGE
    assert not any(b"only-in-memory" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_empty_credentials_are_refused() -> None:
    with pytest.raises(UserFacingError, match="client id and the client secret"):
        AccountService().save_secret("production", "client-1", "")


def test_base_urls_per_environment() -> None:
    assert resolve_base_url("production") == "https://api.dsco.io/api/v3"
    assert resolve_base_url("staging") == "https://staging-api.dsco.io/api/v3"
    assert resolve_base_url("custom", "https://dsco.example.com/api/v3/") == (
        "https://dsco.example.com/api/v3"
    )
    assert resolve_base_url("sandbox", sandbox_base_url="http://127.0.0.1:8123/api/v3")
    with pytest.raises(UserFacingError, match="sandbox is not running"):
        resolve_base_url("sandbox")
    with pytest.raises(InsecureUrlError):
        resolve_base_url("custom", "http://dsco.example.com/api/v3")


def test_connection_test_against_the_sandbox(sandbox: Any) -> None:
    calls: list[CallRecord] = []
    text = account.test_connection(
        sandbox.base_url, sandbox.client_id, sandbox.client_secret, on_call=calls.append
    )
    assert "credentials accepted" in text
    assert [c.path.rsplit("/", 1)[-1] for c in calls] == ["token", "hello"]
    assert all(c.status == 200 for c in calls)


def test_connection_test_with_a_wrong_secret_reports_dscos_refusal(sandbox: Any) -> None:
    with pytest.raises(AuthError) as refused:
        account.test_connection(sandbox.base_url, sandbox.client_id, "wrong-secret")
    assert "did not accept" in refused.value.message


def test_session_builds_one_client_and_retires_the_old(sandbox: Any) -> None:
    calls: list[CallRecord] = []
    session = AccountSession(on_call=calls.append)
    assert session.client() is None
    creds = Credentials("sandbox", sandbox.base_url, sandbox.client_id, sandbox.client_secret)
    session.configure(creds)
    first = session.client()
    assert first is not None and session.credentials == creds
    assert first.hello()
    assert calls and calls[-1].status == 200
    session.configure(Credentials("sandbox", sandbox.base_url, sandbox.client_id, ""))
    assert session.client() is None  # incomplete credentials: no client
    assert "client_secret" not in repr(creds) and sandbox.client_secret not in repr(creds)
    session.close()
