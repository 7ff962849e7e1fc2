"""The one exception hierarchy for everything the DSCO API (or the way to it) can answer.

Callers branch on the class, never on status codes: `transient` says whether trying again later
may succeed (network, 408, 429, 5xx), which is what the client's short retries and the outbox's
long ones both ask.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsco_desktop.errors import UserFacingError


@dataclass(frozen=True)
class DscoMessage:
    """One message from DSCO's `messages` array (or an OAuth error), kept as DSCO wrote it."""

    code: str | None
    description: str
    severity: str | None = None
    record: str | None = None  # the sku / poNumber / line the message is about, when DSCO says


class DscoError(UserFacingError):
    """Base class: DSCO (or the network to it) refused or failed a call."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        messages: list[DscoMessage] | tuple[DscoMessage, ...] = (),
        request_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.status = status
        self.messages: tuple[DscoMessage, ...] = tuple(messages)
        self.request_id = request_id


class NetworkError(DscoError):
    """DSCO could not be reached (DNS, refused, reset, timeout)."""

    transient = True


class AuthError(DscoError):
    """The credentials were refused (401/403 on the token call, or still 401 after a refresh)."""


class ForbiddenError(DscoError):
    """403: the account may not call this, or the path does not exist (DSCO's gateway says 403)."""


class NotFoundError(DscoError):
    """404: the order, item, stream or request does not exist."""


class ValidationError(DscoError):
    """400/422: DSCO rejected the content. Never retried; `messages` says why, per record."""


class RequestTimeoutError(DscoError):
    """408 from DSCO."""

    transient = True


class RateLimitedError(DscoError):
    """429: too many requests. `retry_after` is DSCO's hint in seconds, when it gave one."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(DscoError):
    """5xx from DSCO."""

    transient = True


class UnreadableAnswerError(DscoError):
    """DSCO answered 2xx with a body that does not have the spec's shape (wrong types, a list
    where an object belongs). Transient: the next answer is usually a proper one."""

    transient = True


class InsecureUrlError(UserFacingError):
    """A non-loopback base URL that is not https: refused before any secret is sent."""


def is_transient(exc: BaseException) -> bool:
    """Whether retrying later may succeed: network trouble, 408, 429 and 5xx."""
    return isinstance(exc, DscoError) and exc.transient
