"""OAuth2 client-credentials tokens for DSCO, kept in memory only.

One token is reused by every thread until shortly before it expires (or until DSCO answers 401,
when the caller invalidates it and asks again). The secret and the token are never logged, never
written anywhere, and never appear in a repr or an exception message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from dsco_desktop.dsco.errors import AuthError

# Refresh this long before expiry (at most), so a token never expires in flight.
REFRESH_MARGIN_S = 60.0

TokenFetcher = Callable[[Mapping[str, str]], Any]


class TokenManager:
    """Gets, caches and refreshes the bearer token; safe to share between threads.

    `fetch` posts the form to `/oauth2/token` and returns the decoded JSON body (it raises the
    client's typed errors on failure).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        fetch: TokenFetcher,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self.__secret = client_secret
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self.__token: str | None = None
        self._expires_at = 0.0
        self._refresh_at = 0.0
        self.fetch_count = 0  # how many tokens were minted; tests and diagnostics read it

    def __repr__(self) -> str:
        state = "valid" if self._has_fresh_token() else "none"
        return f"TokenManager(client_id={self._client_id!r}, token={state})"

    def __getstate__(self) -> None:
        raise TypeError("TokenManager holds credentials and cannot be pickled")

    def token(self) -> str:
        """A valid access token, minting a new one when none is cached or it is near expiry."""
        with self._lock:
            if self.__token is not None and self._clock() < self._refresh_at:
                return self.__token
            return self._mint()

    def invalidate(self, token: str) -> None:
        """Forget `token` after DSCO refused it (401), unless another thread already replaced it."""
        with self._lock:
            if self.__token == token:
                self.__token = None

    def clear(self) -> None:
        """Forget any cached token (credentials changed, app closing)."""
        with self._lock:
            self.__token = None

    def _has_fresh_token(self) -> bool:
        return self.__token is not None and self._clock() < self._refresh_at

    def _mint(self) -> str:
        if not self._client_id or not self.__secret:
            raise AuthError(
                "No DSCO client id and secret are set.",
                detail="Enter the API credentials in the account settings.",
            )
        body = self._fetch(
            {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self.__secret,
            }
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                "DSCO's token answer had no access token.",
                detail="The address may not be a DSCO API.",
            )
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        lifetime = max(lifetime, 1.0)
        now = self._clock()
        self.__token = token
        self._expires_at = now + lifetime
        # Short-lived tokens (tests, sandbox knobs) refresh at 90% of their life instead.
        self._refresh_at = now + lifetime - min(REFRESH_MARGIN_S, lifetime * 0.1)
        self.fetch_count += 1
        return token
