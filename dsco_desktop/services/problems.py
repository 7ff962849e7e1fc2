"""The error a service raises when a form's checks found problems, before anything was
recorded or sent: shipments, invoices and returns all say it the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dsco_desktop.errors import UserFacingError


class Checked(Protocol):
    """One finding of a domain check (an invoice `Issue`, a shipment `Problem`, ...)."""

    @property
    def message(self) -> str: ...

    @property
    def is_error(self) -> bool: ...


class ProblemsError(UserFacingError):
    """`what` has problems; nothing was recorded or sent. The detail lists every error."""

    def __init__(self, what: str, findings: Sequence[Checked]) -> None:
        errors = [f for f in findings if f.is_error]
        super().__init__(
            f"{what} has {len(errors)} problem{'s' if len(errors) != 1 else ''}; nothing was sent.",
            detail="\n".join(f.message for f in errors),
        )
