"""The DSCO account: where the client secret is kept, and checking that credentials work.

The secret lives in the OS keyring under a service name per environment (for example
"DSCO Desktop (production)"), keyed by client id, so staging and production credentials never
overwrite each other. When the machine has no usable keyring backend, the secret is kept in this
process only and the caller is told so (`SecretStorage.SESSION_ONLY`): it is never written to
disk as a fallback. No Qt here; the account dialog drives it from a background job.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import keyring
import keyring.errors

from dsco_desktop.errors import UserFacingError

log = logging.getLogger(__name__)

KEYRING_SERVICE_PREFIX = "DSCO Desktop"

NO_KEYRING_MESSAGE = (
    "This computer has no password store (keyring) the app can use, so the client secret is "
    "kept for this session only: you will be asked for it again next time. It is never "
    "written to disk."
)


def keyring_service_name(environment: str) -> str:
    """The keyring service under which one environment's secrets are stored."""
    return f"{KEYRING_SERVICE_PREFIX} ({environment})"


class NoKeyringError(UserFacingError):
    """No usable OS keyring backend: secrets can only be kept for this session."""

    def __init__(self) -> None:
        super().__init__(NO_KEYRING_MESSAGE)


class SecretStorage(enum.Enum):
    """Where a saved secret ended up."""

    KEYRING = "keyring"
    SESSION_ONLY = "session only"


@dataclass(frozen=True)
class Credentials:
    """What the client needs to talk to one DSCO environment."""

    environment: str
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)

    @property
    def complete(self) -> bool:
        return bool(self.base_url and self.client_id and self.client_secret)


def keyring_usable() -> bool:
    """Whether the active keyring backend can really store secrets (not the fail/null ones)."""
    try:
        backend = keyring.get_keyring()
    except keyring.errors.KeyringError:
        return False
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    # The chainer with no usable backend behind it is as good as none.
    backends = getattr(backend, "backends", None)
    return not (module.startswith("keyring.backends.chainer") and not backends)


class AccountService:
    """Loads, saves and forgets client secrets; falls back to memory only without a keyring."""

    def __init__(self) -> None:
        self._session: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @property
    def keyring_available(self) -> bool:
        return keyring_usable()

    def save_secret(self, environment: str, client_id: str, secret: str) -> SecretStorage:
        """Store the secret for this environment and client id; says where it went."""
        if not client_id or not secret:
            raise UserFacingError("Enter both the client id and the client secret.")
        with self._lock:
            self._session[(environment, client_id)] = secret
        if not self.keyring_available:
            return SecretStorage.SESSION_ONLY
        try:
            keyring.set_password(keyring_service_name(environment), client_id, secret)
        except keyring.errors.NoKeyringError:
            return SecretStorage.SESSION_ONLY
        except keyring.errors.KeyringError as exc:
            # A locked or refusing keyring: the secret still works for this session.
            log.warning("Keyring refused the secret: %s", type(exc).__name__)
            raise UserFacingError(
                "The system password store refused to save the client secret "
                "(is it locked?). It is kept for this session only.",
                detail=str(exc),
            ) from exc
        return SecretStorage.KEYRING

    def remember_for_session(self, environment: str, client_id: str, secret: str) -> None:
        """Keep a secret in memory only (the local sandbox's throwaway credentials)."""
        with self._lock:
            self._session[(environment, client_id)] = secret

    def load_secret(self, environment: str, client_id: str) -> str | None:
        """The secret saved for this environment and client id, or None."""
        if not client_id:
            return None
        with self._lock:
            secret = self._session.get((environment, client_id))
        if secret is not None:
            return secret
        if not self.keyring_available:
            return None
        try:
            return keyring.get_password(keyring_service_name(environment), client_id)
        except keyring.errors.KeyringError as exc:
            log.warning("Could not read the keyring: %s", type(exc).__name__)
            return None

    def forget_secret(self, environment: str, client_id: str) -> None:
        """Remove the secret from the session and the keyring."""
        with self._lock:
            self._session.pop((environment, client_id), None)
        if not self.keyring_available:
            return
        try:
            keyring.delete_password(keyring_service_name(environment), client_id)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            log.warning("Could not delete from the keyring: %s", type(exc).__name__)


def resolve_base_url(
    environment: str, custom_base_url: str = "", sandbox_base_url: str | None = None
) -> str:
    """The API base URL of an environment; raises `UserFacingError` when it cannot be used."""
    from dsco_desktop.dsco.environments import Environment, base_url_for

    env = Environment(environment)
    custom = sandbox_base_url if env is Environment.SANDBOX else custom_base_url.strip()
    return base_url_for(env, custom or None)


class HelloClient(Protocol):
    def token(self) -> str: ...

    def hello(self) -> Any: ...

    def close(self) -> None: ...


ClientFactory = Callable[..., HelloClient]


def _default_client_factory(
    base_url: str,
    client_id: str,
    client_secret: str,
    *,
    on_call: Callable[[Any], None] | None = None,
) -> HelloClient:
    from dsco_desktop.dsco.client import DscoClient

    return DscoClient(base_url, client_id, client_secret, on_call=on_call)


def test_connection(
    base_url: str,
    client_id: str,
    client_secret: str,
    *,
    client_factory: ClientFactory | None = None,
    on_call: Callable[[Any], None] | None = None,
) -> str:
    """Get a token with these credentials and call /hello; returns a line to show the user.

    Raises the client's `DscoError` subclasses (refused credentials, network, ...) with DSCO's
    own messages, for the caller to show next to the form.
    """
    if not client_id or not client_secret:
        raise UserFacingError("Enter both the client id and the client secret.")
    from dsco_desktop.dsco.environments import check_base_url

    base_url = check_base_url(base_url)
    factory = client_factory or _default_client_factory
    client = factory(base_url, client_id, client_secret, on_call=on_call)
    try:
        # Separately, so refused credentials are reported as such, not as a failed /hello.
        client.token()
        client.hello()
    finally:
        client.close()
    return f"Connected to {base_url}: credentials accepted."


class AccountSession:
    """The credentials in use and the one `DscoClient` built from them (thread-safe).

    Replacing the credentials builds a new client; the old one is retired, not closed, since a
    worker thread may be in the middle of a call with it: retired clients close with the session.
    """

    def __init__(
        self,
        *,
        on_call: Callable[[Any], None] | None = None,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        self._on_call = on_call
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._client: Any = None
        self._retired: list[Any] = []
        self.generation = 0

    @property
    def credentials(self) -> Credentials | None:
        with self._lock:
            return self._credentials

    def configure(self, credentials: Credentials | None) -> None:
        """Use these credentials from now on (None or incomplete: no account, no client)."""
        client = None
        if credentials is not None and credentials.complete:
            client = self._build(credentials)
        with self._lock:
            if self._client is not None:
                self._retired.append(self._client)
            self._credentials = credentials
            self._client = client
            self.generation += 1

    def client(self) -> Any:
        """The current `DscoClient`, or None while no complete account is configured."""
        with self._lock:
            return self._client

    def client_and_generation(self) -> tuple[Any, int]:
        with self._lock:
            return self._client, self.generation

    def close(self) -> None:
        with self._lock:
            clients = [*self._retired, self._client]
            self._retired = []
            self._client = None
        for client in clients:
            if client is not None:
                try:
                    client.close()
                except Exception:
                    log.exception("Closing a DSCO client failed")

    def _build(self, credentials: Credentials) -> Any:
        if self._client_factory is not None:
            return self._client_factory(
                credentials.base_url,
                credentials.client_id,
                credentials.client_secret,
                on_call=self._on_call,
            )
        from dsco_desktop.dsco.client import DscoClient

        return DscoClient(
            credentials.base_url,
            credentials.client_id,
            credentials.client_secret,
            on_call=self._on_call,
        )
