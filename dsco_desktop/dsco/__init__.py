"""The DSCO v3 HTTP client (httpx); no Qt.

- `client.DscoClient`: one typed method per supplier operation, plus `wait_for_change_log`.
- `models`: pydantic wire models (spec names as aliases, unknown fields kept, quirks accepted).
- `auth.TokenManager`: the in-memory OAuth2 client-credentials token.
- `session`: retries, typed errors and activity records under every call.
- `environments`: sandbox / staging / production / custom base URLs and the HTTPS rule.
- `limits`: the spec's size limits, checked before sending; `redaction`: what logs may show.
- `errors`: the exception hierarchy callers branch on.
"""
