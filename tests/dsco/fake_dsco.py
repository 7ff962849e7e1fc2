"""A scriptable stand-in for DSCO behind `httpx.MockTransport`, for the rare wire cases.

Each route answers from a queue of scripted responses (the last one repeats); every request is
kept so tests can check what actually went over the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.client import DscoClient

BASE_URL = "https://api.dsco.test/api/v3"
CLIENT_ID = "client-id-123"
CLIENT_SECRET = "s3cret-value-never-logged"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


@dataclass
class FakeDsco:
    """Routes keyed by (method, path under /api/v3); a token endpoint that mints tok-1, tok-2..."""

    token_lifetime_s: int = 3600
    routes: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    token_replies: list[Reply] = field(default_factory=list)

    def on(self, method: str, path: str, *replies: Reply) -> None:
        """Script the answers of `method path`; the last one repeats."""
        self.routes[(method.upper(), path)] = list(replies)

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401)."""
        self.valid_tokens.clear()

    def requests_to(self, method: str, path: str) -> list[httpx.Request]:
        """The requests received for one route."""
        return [r for r in self.requests if r.method == method and self._path(r) == path]

    @staticmethod
    def _path(request: httpx.Request) -> str:
        raw = request.url.raw_path.decode().split("?", 1)[0]
        return raw.removeprefix("/api/v3")

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = self._path(request)
        if path == "/oauth2/token":
            if self.token_replies:
                return self._reply(self.token_replies, request)
            token = f"tok-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            self.valid_tokens.add(token)
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime_s,
                },
            )
        auth = request.headers.get("authorization", "")
        if request.url.host == httpx.URL(BASE_URL).host and (
            not auth.lower().startswith("bearer ") or auth[7:] not in self.valid_tokens
        ):
            return httpx.Response(401, json={"message": "Unauthorized"})
        replies = self.routes.get((request.method, path))
        if replies is None:
            return httpx.Response(
                403,
                json={"message": "Invalid key=value pair (missing equal-sign) in Authorization"},
            )
        return self._reply(replies, request)

    @staticmethod
    def _reply(replies: list[Reply], request: httpx.Request) -> httpx.Response:
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def client(self, records: list[CallRecord] | None = None, **kwargs: Any) -> DscoClient:
        """A DscoClient wired to this fake, with tiny retry waits unless overridden."""
        kwargs.setdefault("retry_wait_max_s", 0.01)
        return DscoClient(
            kwargs.pop("base_url", BASE_URL),
            CLIENT_ID,
            CLIENT_SECRET,
            on_call=records.append if records is not None else None,
            transport=httpx.MockTransport(self.handler),
            **kwargs,
        )
