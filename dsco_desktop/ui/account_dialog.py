"""The account dialog: which DSCO to talk to, the client id, and the secret kept in the keyring.

"Test connection" runs on the job helper (a token and a /hello call), never on the GUI thread,
and shows the outcome inline, with DSCO's own words when it refuses. "Save" stores the secret
in the OS keyring; without a usable keyring the dialog says plainly, before and after saving,
that the secret is kept for this session only.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from dsco_desktop.domain.settings import AppSettings
from dsco_desktop.dsco.errors import DscoError
from dsco_desktop.errors import UserFacingError
from dsco_desktop.services import account as account_service
from dsco_desktop.services.account import (
    NO_KEYRING_MESSAGE,
    AccountService,
    Credentials,
    SecretStorage,
    resolve_base_url,
)
from dsco_desktop.ui import layout
from dsco_desktop.ui.jobs import Job, JobContext, JobRunner
from dsco_desktop.ui.widgets import dialog_layout

ENVIRONMENT_LABELS: dict[str, str] = {
    "sandbox": "Local sandbox (no account needed)",
    "staging": "DSCO staging (test account)",
    "production": "DSCO production",
    "custom": "Custom address",
}


def describe_error(exc: BaseException) -> str:
    """The message to show inline for a failed test: ours, then DSCO's own messages."""
    message = str(exc) if isinstance(exc, UserFacingError) else f"Unexpected error: {exc!r}"
    if isinstance(exc, DscoError):
        dsco_lines = [m.description for m in exc.messages if m.description]
        extra = [line for line in dsco_lines if line not in message]
        if extra:
            message += "\nDSCO says: " + "; ".join(extra)
    return message


class AccountDialog(QDialog):
    """Edits the account; emits `saved(Credentials, SecretStorage)` when the user saves."""

    saved = Signal(object, object)

    def __init__(
        self,
        account: AccountService,
        settings: AppSettings,
        jobs: JobRunner,
        *,
        sandbox_base_url: str | None = None,
        sandbox_credentials: tuple[str, str] | None = None,
        on_call: object = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("DSCO account")
        self.setMinimumWidth(layout.DIALOG_MIN_WIDTH)
        self._account = account
        self._settings = settings
        self._jobs = jobs
        self._sandbox_base_url = sandbox_base_url
        self._sandbox_credentials = sandbox_credentials
        self._on_call = on_call
        self.test_job: Job[str] | None = None
        self.storage: SecretStorage | None = None

        intro_text = (
            "DSCO Desktop signs in to DSCO with the API client id and secret of your account."
        )
        if account.keyring_available:
            intro_text += " The secret is kept in your system's password store, never in a file."
        intro = QLabel(intro_text)
        intro.setWordWrap(True)

        self.keyring_notice = QLabel(NO_KEYRING_MESSAGE)
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setStyleSheet(
            f"background:{layout.WARNING_BACKGROUND}; border:1px solid {layout.WARNING_BORDER};"
            f" padding:{layout.INLINE_SPACING}px; color:#5c3c00;"
        )
        self.keyring_notice.setVisible(not account.keyring_available)

        self.environment = QComboBox()
        for name, label in ENVIRONMENT_LABELS.items():
            if name == "sandbox" and not sandbox_base_url:
                continue
            self.environment.addItem(label, name)
        self.custom_url = QLineEdit(settings.custom_base_url)
        self.custom_url.setPlaceholderText("https://…/api/v3")
        self.base_url_label = QLabel()
        self.base_url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The refusal of an http:// address is a full sentence: wrap it rather than cut it off.
        self.base_url_label.setWordWrap(True)
        self.base_url_label.setMinimumWidth(layout.FIELD_MIN_WIDTH)
        self.client_id = QLineEdit()
        self.client_id.setMinimumWidth(layout.FIELD_MIN_WIDTH)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)

        form = QFormLayout()
        form.setSpacing(layout.FORM_SPACING)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Environment", self.environment)
        form.addRow("Address", self.custom_url)
        form.addRow("", self.base_url_label)
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.secret)
        self._form = form

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setVisible(False)

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        box = dialog_layout(self)
        box.addWidget(intro)
        box.addWidget(self.keyring_notice)
        box.addLayout(form)
        box.addWidget(self.result_label)
        box.addStretch(1)
        box.addWidget(self.buttons)

        index = self.environment.findData(settings.environment)
        self.environment.setCurrentIndex(max(index, 0))
        self._fill_credentials()
        self.environment.currentIndexChanged.connect(self._environment_changed)
        self.custom_url.textChanged.connect(self._update_url)
        self._update_url()

    # Form state

    @property
    def environment_name(self) -> str:
        return str(self.environment.currentData())

    def _fill_credentials(self) -> None:
        env = self.environment_name
        if env == "sandbox" and self._sandbox_credentials:
            client_id, secret = self._sandbox_credentials
        else:
            client_id = self._settings.client_id if env == self._settings.environment else ""
            secret = self._account.load_secret(env, client_id) or "" if client_id else ""
        self.client_id.setText(client_id)
        self.secret.setText(secret)

    def _environment_changed(self) -> None:
        self._fill_credentials()
        self._update_url()
        self._clear_result()

    def _update_url(self) -> None:
        custom = self.environment_name == "custom"
        self._form.setRowVisible(self.custom_url, custom)
        try:
            url = self._base_url()
        except UserFacingError as exc:
            self.base_url_label.setText(
                f"<span style='color:{layout.ERROR_COLOR}'>{html.escape(str(exc))}</span>"
            )
            self.base_url_label.setVisible(bool(self.custom_url.text().strip()) or not custom)
            return
        self.base_url_label.setText(f"Calls go to <code>{html.escape(url)}</code>")
        self.base_url_label.setVisible(True)

    def _base_url(self) -> str:
        return resolve_base_url(
            self.environment_name, self.custom_url.text(), self._sandbox_base_url
        )

    def _credentials(self) -> Credentials:
        """The form's credentials, checked locally; raises `UserFacingError` to show inline."""
        base_url = self._base_url()
        client_id = self.client_id.text().strip()
        secret = self.secret.text().strip()
        if not client_id or not secret:
            raise UserFacingError("Enter both the client id and the client secret.")
        return Credentials(self.environment_name, base_url, client_id, secret)

    def _clear_result(self) -> None:
        self.result_label.setVisible(False)
        self.result_label.clear()

    def show_result(self, text: str, *, ok: bool) -> None:
        color = layout.OK_COLOR if ok else layout.ERROR_COLOR
        body = html.escape(text).replace("\n", "<br>")
        self.result_label.setText(f"<span style='color:{color}'>{body}</span>")
        self.result_label.setVisible(True)

    # Actions

    def test_connection(self) -> None:
        """Get a token and call /hello on a job thread; the result shows inline."""
        try:
            credentials = self._credentials()
        except UserFacingError as exc:
            self.show_result(str(exc), ok=False)
            return
        self.test_button.setEnabled(False)
        self.show_result("Testing the connection…", ok=True)
        on_call = self._on_call

        def run(_ctx: JobContext) -> str:
            return account_service.test_connection(
                credentials.base_url,
                credentials.client_id,
                credentials.client_secret,
                on_call=on_call,  # type: ignore[arg-type]
            )

        self.test_job = self._jobs.submit(
            run,
            name="test connection",
            on_success=lambda text: self.show_result(text, ok=True),
            on_error=lambda exc: self.show_result(describe_error(exc), ok=False),
        )
        self.test_job.finished.connect(lambda: self.test_button.setEnabled(True))

    def save(self) -> None:
        """Store the secret (keyring, or this session only) and the settings; then close."""
        try:
            credentials = self._credentials()
            storage = self._account.save_secret(
                credentials.environment, credentials.client_id, credentials.client_secret
            )
        except UserFacingError as exc:
            self.show_result(describe_error(exc), ok=False)
            return
        self.storage = storage
        self._settings.environment = credentials.environment  # type: ignore[assignment]
        self._settings.client_id = credentials.client_id
        if credentials.environment == "custom":
            self._settings.custom_base_url = credentials.base_url
        self.saved.emit(credentials, storage)
        self.accept()
