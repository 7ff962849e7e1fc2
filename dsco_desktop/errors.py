"""The base of every error a user should read, shared by all layers.

A `UserFacingError` carries a message written for a shop owner (what happened, what to do).
The UI shows it as it is, never with a traceback; anything else that escapes is a bug and goes
to the crash dialog.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected condition, explained in words the user can act on."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message
