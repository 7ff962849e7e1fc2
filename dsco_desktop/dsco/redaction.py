"""Redaction of what the activity log and the log file may keep about a call.

Customer data (names, addresses, emails, phone numbers) stays in the local database only; a call's
path is logged with those query values replaced, and secrets (tokens, signatures of presigned
upload URLs) never appear at all.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

REDACTED = "[redacted]"

# Query keys whose values are customer data or secrets, matched as lower-case substrings.
_SENSITIVE_KEY_PARTS = (
    "name",
    "address",
    "email",
    "phone",
    "postal",
    "zip",
    "city",
    "street",
    "token",
    "secret",
    "password",
    "signature",
    "credential",
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Phone numbers written with a "+" or separators ("+1 555 555 0100", "(555) 555-0100"); bare
# digit runs are left alone because DSCO's order and item ids look the same.
_PHONE = re.compile(r"(?<!\w)(\+\d[\d\s().-]{7,}\d|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4})(?!\w)")
_BEARER = re.compile(r"(?i)bearer\s+[\w.~+/=-]+")


def _is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SENSITIVE_KEY_PARTS)


def redact_query_value(key: str, value: str) -> str:
    """The value as it may be logged under `key`."""
    if _is_sensitive_key(key) or _EMAIL.search(value):
        return REDACTED
    return value


def redact_path(path: str, query: list[tuple[str, str]] | None = None) -> str:
    """`path` plus `query` as the activity log shows them, customer data and secrets redacted.

    `path` may already carry a query string; it is redacted too.
    """
    parts = urlsplit(path)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(query or [])
    shown = parts.path or "/"
    if parts.scheme and parts.netloc:
        # An absolute URL (a large-batch upload target): keep where it went, never its query,
        # which for a presigned URL is the credential itself.
        return f"{parts.scheme}://{parts.netloc}{shown}"
    if not pairs:
        return shown
    redacted = [(k, redact_query_value(k, v)) for k, v in pairs]
    return f"{shown}?{urlencode(redacted, quote_via=quote, safe='[]')}"


def redact_text(text: str, limit: int = 300) -> str:
    """Short error text for the log: emails, phone numbers and bearer tokens removed."""
    text = _BEARER.sub("bearer " + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
