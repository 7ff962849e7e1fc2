"""The HTTP core under `DscoClient`: one call = attempts with short retries, typed errors, records.

Each attempt is reported to the activity-log callback (method, redacted path, status, ms,
requestId, short error). Transient failures (network, 408, 429, 5xx) are retried a few times with
exponential backoff and jitter (tenacity); longer waits are the outbox's job. Responses that are
not a success become the typed errors of `dsco_desktop.dsco.errors`, carrying DSCO's messages
and a sentence a shop owner can read.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from dsco_desktop.domain.activity import CallRecord
from dsco_desktop.dsco.errors import (
    AuthError,
    DscoError,
    DscoMessage,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
    is_transient,
)
from dsco_desktop.dsco.models import describe
from dsco_desktop.dsco.redaction import redact_path, redact_text

log = logging.getLogger(__name__)

QueryParams = list[tuple[str, str]]
USER_AGENT = "dsco-desktop/0.1"


@dataclass(frozen=True)
class Sent:
    """A successful response, decoded."""

    status: int
    body: Any  # decoded JSON, or None for an empty body
    request_id: str | None


def parse_messages(body: Any) -> list[DscoMessage]:
    """DSCO's messages from an error body: ApiResponse `messages`, OAuth errors, gateway text."""
    found: list[DscoMessage] = []
    if isinstance(body, dict):
        for raw in body.get("messages") or []:
            if isinstance(raw, dict):
                found.append(
                    DscoMessage(
                        code=_opt_str(raw.get("code")),
                        description=describe(raw.get("description")) or str(raw.get("code") or ""),
                        severity=_opt_str(raw.get("severity")),
                        record=_opt_str(raw.get("record") or raw.get("sku") or raw.get("poNumber")),
                    )
                )
            elif raw:
                found.append(DscoMessage(code=None, description=describe(raw)))
        if not found and body.get("error"):
            found.append(
                DscoMessage(
                    code=str(body["error"]),
                    description=describe(body.get("error_description")) or str(body["error"]),
                )
            )
        if not found:
            text = body.get("message") or body.get("Message") or body.get("description")
            if text:
                found.append(
                    DscoMessage(code=_opt_str(body.get("code")), description=describe(text))
                )
    elif isinstance(body, list):
        for raw in body:
            found.extend(parse_messages({"messages": [raw]}))
    elif isinstance(body, str) and body.strip():
        found.append(DscoMessage(code=None, description=body.strip()[:500]))
    return found


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def messages_text(messages: Sequence[DscoMessage]) -> str:
    """DSCO's messages as one sentence tail, de-duplicated, in DSCO's order."""
    seen: list[str] = []
    for message in messages:
        text = message.description.strip()
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for_response(
    status: int,
    body: Any,
    *,
    what: str,
    request_id: str | None,
    retry_after: float | None = None,
    token_call: bool = False,
) -> DscoError:
    """The typed error for a non-success response, with a sentence a shop owner can act on.

    `what` names the object of the call ("the shipment for PO 12345").
    """
    messages = parse_messages(body)
    said = messages_text(messages)
    tail = f": {said}" if said else "."
    kwargs: dict[str, Any] = {"status": status, "messages": messages, "request_id": request_id}
    if token_call and status in (400, 401, 403):
        return AuthError(
            f"DSCO did not accept the client id and secret{tail}",
            detail="Check the API credentials in the account settings.",
            **kwargs,
        )
    if status == 401:
        return AuthError(
            f"DSCO refused the access token while sending {what}{tail}",
            detail="Check the API credentials in the account settings.",
            **kwargs,
        )
    if status == 403:
        return ForbiddenError(
            f"DSCO refused access to {what}{tail}",
            detail="The account may not be allowed to do this, or the address is not a DSCO API.",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(f"DSCO could not find {what}{tail}", **kwargs)
    if status == 408:
        return RequestTimeoutError(f"DSCO timed out while handling {what}.", **kwargs)
    if status == 429:
        return RateLimitedError(
            f"DSCO is receiving too many requests and asked to slow down ({what}).",
            retry_after=retry_after,
            **kwargs,
        )
    if status >= 500:
        return ServerError(f"DSCO had a server problem ({status}) with {what}{tail}", **kwargs)
    if status in (400, 409, 413, 415, 422):
        return ValidationError(f"DSCO rejected {what}{tail}", **kwargs)
    return DscoError(f"DSCO answered {status} to {what}{tail}", **kwargs)


def request_id_of(response: httpx.Response, body: Any) -> str | None:
    """DSCO's requestId: from the JSON body, else a request-id header."""
    if isinstance(body, dict) and body.get("requestId"):
        return str(body["requestId"])
    for header in ("x-request-id", "x-amzn-requestid", "x-amz-request-id"):
        if response.headers.get(header):
            return response.headers[header]
    return None


def decode_body(response: httpx.Response) -> Any:
    """The response's JSON, or its text when it is not JSON, or None when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


class Session:
    """Sends requests with short retries, records every attempt, maps failures to errors.

    Thread-safe: httpx.Client may be shared by threads, and this class keeps no per-call state.
    """

    def __init__(
        self,
        base_url: str,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_wait_max_s: float = 8.0,
        retry_wait_initial_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.retry_wait_max_s = max(0.0, retry_wait_max_s)
        self.retry_wait_initial_s = min(retry_wait_initial_s, self.retry_wait_max_s)
        self._on_call = on_call
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # -- public -------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: QueryParams | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        token_call: bool = False,
    ) -> Sent:
        """Send one call (retrying transient failures) and return the decoded success.

        `path` is relative to the base URL, or an absolute URL (a large-batch upload target).
        Raises a `DscoError` subclass when the call does not succeed.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(
                    method,
                    path,
                    what=what,
                    params=params,
                    json_body=json_body,
                    content=content,
                    form=form,
                    headers=headers,
                    token_call=token_call,
                )
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    # -- retry policy -------------------------------------------------------------------------

    def _should_retry(self, exc: BaseException) -> bool:
        if not is_transient(exc):
            return False
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            # DSCO asked for a longer pause than an in-call retry may take: give up now and let
            # the caller (the outbox) wait as asked instead of knocking again too early.
            return exc.retry_after <= self.retry_wait_max_s
        return True

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_wait_max_s)
        backoff = self.retry_wait_initial_s * (2 ** (state.attempt_number - 1))
        jitter = random.uniform(0, self.retry_wait_initial_s)
        return min(backoff + jitter, self.retry_wait_max_s)

    # -- one attempt --------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: QueryParams | None,
        json_body: Any,
        content: bytes | None,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        token_call: bool,
    ) -> Sent:
        shown_path = redact_path(path, params)
        started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        started = time.perf_counter()
        request_headers = dict(headers or {})
        body_content = content
        if json_body is not None:
            body_content = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            request_headers.setdefault("Content-Type", "application/json")
        url = path if "://" in path else path.lstrip("/")
        try:
            response = self._http.request(
                method,
                url,
                params=httpx.QueryParams(tuple(params)) if params else None,
                content=body_content,
                data=dict(form) if form is not None else None,
                headers=request_headers,
            )
        except httpx.TimeoutException as exc:
            failure = NetworkError(
                f"DSCO did not answer in time ({self.timeout:g} s) while sending {what}.",
                detail=type(exc).__name__,
            )
            self._record(
                started_at, method, shown_path, status=None, started=started, error=str(failure)
            )
            raise failure from exc
        except httpx.TransportError as exc:
            host = httpx.URL(self.base_url).host if "://" not in path else httpx.URL(path).host
            failure = NetworkError(
                f"Could not reach DSCO at {host} while sending {what}.",
                detail=redact_text(f"{type(exc).__name__}: {exc}"),
            )
            self._record(
                started_at, method, shown_path, status=None, started=started, error=str(failure)
            )
            raise failure from exc

        body = decode_body(response)
        request_id = request_id_of(response, body)
        if response.is_success:
            self._record(
                started_at,
                method,
                shown_path,
                status=response.status_code,
                started=started,
                request_id=request_id,
            )
            return Sent(status=response.status_code, body=body, request_id=request_id)

        error = error_for_response(
            response.status_code,
            body,
            what=what,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            token_call=token_call,
        )
        short = messages_text(error.messages) or response.reason_phrase or str(error)
        self._record(
            started_at,
            method,
            shown_path,
            status=response.status_code,
            started=started,
            request_id=request_id,
            error=short,
        )
        raise error

    def _record(
        self,
        at: str,
        method: str,
        path: str,
        *,
        status: int | None,
        started: float,
        request_id: str | None = None,
        error: str | None = None,
    ) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        record = CallRecord(
            at=at,
            method=method.upper(),
            path=path,
            status=status,
            duration_ms=duration_ms,
            request_id=request_id,
            error=redact_text(error) if error else None,
        )
        log.debug(
            "%s %s -> %s in %.0f ms%s",
            record.method,
            record.path,
            record.status,
            duration_ms,
            f" ({record.error})" if record.error else "",
        )
        if self._on_call is None:
            return
        try:
            self._on_call(record)
        except Exception:
            # The activity log must never break a call that succeeded or mask its real error.
            log.exception("activity-log callback failed")
