"""Where the client talks to: the local sandbox, DSCO staging, DSCO production or a custom URL.

`check_base_url` is the gate every base URL passes before a secret is sent to it: HTTPS is
required unless the host is this machine (loopback), so a typo can never ship the client secret
over plain HTTP across a network.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from dsco_desktop.dsco.errors import InsecureUrlError
from dsco_desktop.errors import UserFacingError

# From the spec's `servers` and its "Getting Started" section.
PRODUCTION_URL = "https://api.dsco.io/api/v3"
STAGING_URL = "https://staging-api.dsco.io/api/v3"


class Environment(StrEnum):
    """The DSCO deployments a shop owner can point the app at."""

    SANDBOX = "sandbox"
    STAGING = "staging"
    PRODUCTION = "production"
    CUSTOM = "custom"


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Return `url` normalised (lower-case scheme and host, no trailing slash).

    Raises `InsecureUrlError` for http:// on a host that is not loopback, and `UserFacingError`
    for anything that is not an absolute http(s) URL.
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UserFacingError(
            f"“{text}” is not a web address DSCO can be reached at.",
            detail="Use a full address such as https://api.dsco.io/api/v3.",
        )
    if parts.username or parts.password:
        raise UserFacingError(
            "The DSCO address must not contain a user name or password.",
            detail="Enter the client id and secret in the account fields instead.",
        )
    if parts.query or parts.fragment:
        raise UserFacingError(
            f"“{text}” has a query or fragment; enter only the API base address.",
        )
    host = parts.hostname.lower()
    if scheme == "http" and not is_loopback_host(host):
        raise InsecureUrlError(
            f"Refusing to send DSCO credentials over plain http:// to {host}.",
            detail="Use https://, or http:// only for a sandbox on this computer (127.0.0.1).",
        )
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def base_url_for(env: Environment, custom_url: str | None = None) -> str:
    """The checked base URL of `env`.

    Staging and production have fixed addresses. The sandbox runs on a port chosen at start, so
    its address (like a custom one) must be passed in `custom_url`.
    """
    env = Environment(env)
    if env is Environment.PRODUCTION:
        return PRODUCTION_URL
    if env is Environment.STAGING:
        return STAGING_URL
    if not custom_url:
        if env is Environment.SANDBOX:
            raise UserFacingError(
                "The local sandbox is not running.",
                detail="Start the app with --sandbox to use it.",
            )
        raise UserFacingError("Enter the address of the custom DSCO server.")
    return check_base_url(custom_url)
