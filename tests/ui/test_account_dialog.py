"""The account dialog: keyring storage, the "no keyring" path, and Test connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from dsco_desktop.domain.settings import AppSettings, load_settings, save_settings
from dsco_desktop.services.account import AccountService, SecretStorage
from dsco_desktop.store.db import Database
from dsco_desktop.store.settings import SettingsRepository
from dsco_desktop.ui.account_dialog import AccountDialog
from dsco_desktop.ui.jobs import JobRunner
from tests.ui.shots import shot

SECRET = "very-secret-value-123"


def _dialog(qtbot: QtBot, jobs: JobRunner, **kwargs: Any) -> AccountDialog:
    dialog = AccountDialog(AccountService(), AppSettings(), jobs, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_saving_puts_the_secret_in_the_keyring_only(
    qtbot: QtBot, jobs: JobRunner, memory_keyring: Any, tmp_path: Path
) -> None:
    db = Database(tmp_path / "data" / "store.sqlite3")
    settings = AppSettings()
    dialog = AccountDialog(AccountService(), settings, jobs)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.keyring_notice.isVisible()
    dialog.environment.setCurrentIndex(dialog.environment.findData("staging"))
    dialog.client_id.setText("shop-client")
    dialog.secret.setText(SECRET)
    with qtbot.waitSignal(dialog.saved) as saved:
        dialog.save_button.click()
    credentials, storage = saved.args
    assert storage is SecretStorage.KEYRING
    assert credentials.base_url == "https://staging-api.dsco.io/api/v3"
    assert memory_keyring.secrets == {("DSCO Desktop (staging)", "shop-client"): SECRET}
    assert settings.environment == "staging" and settings.client_id == "shop-client"
    save_settings(SettingsRepository(db), settings)
    db.close_all()
    assert _files_containing(tmp_path, SECRET) == []
    reopened = Database(tmp_path / "data" / "store.sqlite3")
    assert load_settings(SettingsRepository(reopened)).client_id == "shop-client"
    reopened.close_all()
    assert not dialog.isVisible()


def test_saved_secret_is_filled_in_next_time(
    qtbot: QtBot, jobs: JobRunner, memory_keyring: Any
) -> None:
    AccountService().save_secret("production", "shop-client", SECRET)
    settings = AppSettings(environment="production", client_id="shop-client")
    dialog = AccountDialog(AccountService(), settings, jobs)
    qtbot.addWidget(dialog)
    assert dialog.client_id.text() == "shop-client"
    assert dialog.secret.text() == SECRET
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password


def test_without_a_keyring_the_dialog_says_session_only(
    qtbot: QtBot, jobs: JobRunner, tmp_path: Path
) -> None:
    keyring.set_keyring(fail.Keyring())
    dialog = _dialog(qtbot, jobs)
    assert dialog.keyring_notice.isVisible()
    assert "session only" in dialog.keyring_notice.text()
    assert "never" in dialog.keyring_notice.text()
    shot(dialog, "account_dialog_no_keyring")
    dialog.client_id.setText("shop-client")
    dialog.secret.setText(SECRET)
    with qtbot.waitSignal(dialog.saved) as saved:
        dialog.save_button.click()
    assert saved.args[1] is SecretStorage.SESSION_ONLY
    assert _files_containing(tmp_path, SECRET) == []


def test_missing_fields_are_reported_inline(qtbot: QtBot, jobs: JobRunner) -> None:
    dialog = _dialog(qtbot, jobs)
    dialog.client_id.setText("shop-client")
    dialog.save_button.click()
    assert dialog.isVisible()
    assert dialog.result_label.isVisible()
    assert "client secret" in dialog.result_label.text()


def test_an_insecure_custom_address_is_refused_inline(qtbot: QtBot, jobs: JobRunner) -> None:
    dialog = _dialog(qtbot, jobs)
    dialog.environment.setCurrentIndex(dialog.environment.findData("custom"))
    assert dialog.custom_url.isVisible()
    dialog.custom_url.setText("http://dsco.example.com/api/v3")
    assert "plain http" in dialog.base_url_label.text()
    dialog.client_id.setText("c")
    dialog.secret.setText("s")
    dialog.test_button.click()
    assert dialog.test_job is None  # nothing was sent anywhere
    assert "plain http" in dialog.result_label.text()


def test_test_connection_against_the_sandbox(qtbot: QtBot, jobs: JobRunner, sandbox: Any) -> None:
    calls: list[Any] = []
    dialog = _dialog(
        qtbot,
        jobs,
        sandbox_base_url=sandbox.base_url,
        sandbox_credentials=(sandbox.client_id, sandbox.client_secret),
        on_call=calls.append,
    )
    dialog.environment.setCurrentIndex(dialog.environment.findData("sandbox"))
    assert dialog.client_id.text() == sandbox.client_id
    dialog.test_button.click()
    assert dialog.test_job is not None
    assert not dialog.test_button.isEnabled()  # the GUI thread did not wait for the answer
    with qtbot.waitSignal(dialog.test_job.finished, timeout=10_000):
        pass
    assert "credentials accepted" in dialog.result_label.text()
    assert dialog.test_button.isEnabled()
    assert any(c.path.endswith("/hello") and c.status == 200 for c in calls)
    shot(dialog, "account_dialog_connected")


def test_a_wrong_secret_shows_dscos_refusal_inline(
    qtbot: QtBot, jobs: JobRunner, sandbox: Any
) -> None:
    dialog = _dialog(
        qtbot,
        jobs,
        sandbox_base_url=sandbox.base_url,
        sandbox_credentials=(sandbox.client_id, sandbox.client_secret),
    )
    dialog.environment.setCurrentIndex(dialog.environment.findData("sandbox"))
    dialog.secret.setText("wrong-secret")
    dialog.test_button.click()
    assert dialog.test_job is not None
    with qtbot.waitSignal(dialog.test_job.finished, timeout=10_000):
        pass
    text = dialog.result_label.text()
    assert "did not accept the client id and secret" in text
    assert dialog.isVisible()
    shot(dialog, "account_dialog_refused")
