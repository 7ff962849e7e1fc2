"""Product identifiers (UPC, EAN, GTIN, ISBN): digit counts and check digits, as DSCO checks them.

Lengths follow the vendor spec's patterns: UPC 6 or 12 digits, EAN 8 or 13, GTIN 8 or 12-14,
ISBN 10 or 13, digits only. Every GTIN-family code of 8 digits or more ends in a mod-10 check digit
(GS1); ISBN-10 ends in a mod-11 one (which may be "X"). Six-digit UPC-E codes are compressed
and carry no checkable digit here, so only their length is checked.

Spreadsheets lose leading zeros when a code is typed as a number; `restore_lost_zeros` says
whether padding a too-short numeric code gives a valid one, so the import can say so instead
of guessing silently.
"""

from __future__ import annotations

from typing import Literal

IdentifierKind = Literal["upc", "ean", "gtin", "isbn"]

LENGTHS: dict[str, tuple[int, ...]] = {
    "upc": (6, 12),
    "ean": (8, 13),
    "gtin": (8, 12, 13, 14),
    "isbn": (10, 13),
}

NAMES: dict[str, str] = {"upc": "UPC", "ean": "EAN", "gtin": "GTIN", "isbn": "ISBN"}


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body` (the code without its last digit; ASCII digits)."""
    # Weights alternate 3, 1, ... starting from the rightmost digit of the body. Summing the
    # bytes of each half (minus 48 per digit for "0") keeps the loop in C.
    data = body.encode("ascii")
    threes, ones = data[::-1][::2], data[::-1][1::2]
    total = 3 * (sum(threes) - 48 * len(threes)) + sum(ones) - 48 * len(ones)
    return (10 - total % 10) % 10


def is_digits(code: str) -> bool:
    """Whether `code` is made of 0-9 only (str.isdigit alone also takes "²" and "٣")."""
    return code.isascii() and code.isdigit()


def has_valid_gtin_check_digit(code: str) -> bool:
    """Whether a GTIN-8/12/13/14 (UPC-A, EAN-8, EAN-13, ...) ends in its check digit."""
    if len(code) < 2 or not is_digits(code):
        return False
    return gtin_check_digit(code[:-1]) == ord(code[-1]) - 48


def has_valid_isbn10_check_digit(code: str) -> bool:
    """Whether a 10-character ISBN ends in its mod-11 check digit ("X" stands for 10)."""
    if len(code) != 10 or not is_digits(code[:9]):
        return False
    last = code[9].upper()
    if not (last.isdigit() or last == "X"):
        return False
    total = sum((10 - i) * (ord(c) - 48) for i, c in enumerate(code[:9]))
    total += 10 if last == "X" else ord(last) - 48
    return total % 11 == 0


def clean_code(value: str) -> str:
    """A code as typed, without the spaces and hyphens people put in for readability."""
    return value.strip().replace(" ", "").replace("-", "")


def _allowed(kind: IdentifierKind) -> str:
    lengths = LENGTHS[kind]
    return " or ".join(str(n) for n in lengths) if kind != "gtin" else "8, 12, 13 or 14"


def identifier_problem(kind: IdentifierKind, code: str) -> str | None:
    """Why `code` is not a valid identifier of this kind, or None when it is."""
    name = NAMES[kind]
    lengths = LENGTHS[kind]
    if not is_digits(code):
        # DSCO's pattern is digits only, so an ISBN-10 ending in X cannot be sent as is.
        return f"{name} {code} must contain digits only ({_allowed(kind)} digits)."
    if len(code) not in lengths:
        digits = "digit" if len(code) == 1 else "digits"
        return f"{name} {code} has {len(code)} {digits}; DSCO needs {_allowed(kind)}."
    if kind == "isbn" and len(code) == 10:
        if not has_valid_isbn10_check_digit(code):
            return f"ISBN {code} has a wrong check digit."
        return None
    if len(code) >= 8 and not has_valid_gtin_check_digit(code):
        expected = gtin_check_digit(code[:-1])
        return f"{name} {code} has a wrong check digit (expected {expected} at the end)."
    return None


def restore_lost_zeros(kind: IdentifierKind, digits: str) -> str | None:
    """The code with its leading zeros back, when padding a too-short one makes it valid.

    Used for cells that arrived as numbers: 12345678905 (11 digits) -> "012345678905".
    Returns None when no padding to an allowed length gives a valid check digit.
    """
    if not is_digits(digits):
        return None
    for length in LENGTHS[kind]:
        if length > len(digits) and length >= 8:
            padded = digits.zfill(length)
            if identifier_problem(kind, padded) is None:
                return padded
    return None
