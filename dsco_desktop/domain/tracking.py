"""Tracking numbers checked per carrier before anything is sent to DSCO.

A tracking number is first normalised (spaces, dashes inside digit groups and case do not
matter), then matched against the chosen carrier's formats. Where a carrier defines a check
digit it is recomputed, so one mistyped digit is caught here instead of by a customer:

- UPS: `1Z` + 16 characters, the last a mod-10 check digit (letters count as digits).
- USPS: IMpb (20, 22 or 26 digits; also with the `420` + ZIP routing prefix) with the GS1
  mod-10 check digit; S10 international numbers (`EC123456785US`) with the UPU mod-11 check
  (weights 8,6,4,2,3,5,9,7).
- FedEx: Express 12 digits (weights 1,3,7 mod 11), Ground 15 digits (mod 10), Ground "96"
  22 digits (mod 10 over the last 15), the 34-digit barcode (weights 1,3,7 over the last 14),
  and SmartPost numbers, which are USPS IMpb numbers.
- DHL Express: 10 (or 11) digits, the last the rest of the others modulo 7. DHL eCommerce and
  piece ids have no check digit.
- OnTrac: `C` or `D` + 14 digits with a mod-10 check digit.
- LaserShip: `1LS...` and `L` + letter forms, which carry no check digit.
- Other carriers: only the general shape is checked, and the result says so.

When the number fails the chosen carrier but passes another carrier's check, the result
points it out ("This looks like a UPS number").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Carrier(StrEnum):
    """The carriers the app knows tracking formats for; anything else is OTHER."""

    USPS = "USPS"
    UPS = "UPS"
    FEDEX = "FedEx"
    DHL = "DHL"
    ONTRAC = "OnTrac"
    LASERSHIP = "LaserShip"
    OTHER = "Other"


_ALIASES: dict[str, Carrier] = {
    "usps": Carrier.USPS,
    "us postal service": Carrier.USPS,
    "united states postal service": Carrier.USPS,
    "ups": Carrier.UPS,
    "united parcel service": Carrier.UPS,
    "fedex": Carrier.FEDEX,
    "fed ex": Carrier.FEDEX,
    "federal express": Carrier.FEDEX,
    "fedex smartpost": Carrier.FEDEX,
    "dhl": Carrier.DHL,
    "dhl express": Carrier.DHL,
    "dhl ecommerce": Carrier.DHL,
    "ontrac": Carrier.ONTRAC,
    "on trac": Carrier.ONTRAC,
    "lasership": Carrier.LASERSHIP,
    "laser ship": Carrier.LASERSHIP,
}


def carrier_from_name(name: str | None) -> Carrier:
    """The carrier a free-text name means ("Fed Ex", "usps", ...); OTHER when unknown."""
    if not name:
        return Carrier.OTHER
    key = " ".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    if key in _ALIASES:
        return _ALIASES[key]
    compact = key.replace(" ", "")
    for alias, carrier in _ALIASES.items():
        if compact == alias.replace(" ", ""):
            return carrier
    return Carrier.OTHER


def normalize_tracking(text: str | None) -> str:
    """The tracking number without spaces or separators, upper-cased."""
    if not text:
        return ""
    return re.sub(r"[\s\-./]", "", str(text)).upper()


# -- check digit algorithms -------------------------------------------------------------------


def _char_value(char: str) -> int:
    """UPS's digit value of a character: digits as they are, letters (ord - 3) mod 10."""
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def ups_check_digit(body: str) -> int:
    """Check digit of the 15 characters after `1Z` (odd positions doubled, mod 10)."""
    total = 0
    for index, char in enumerate(body):
        value = _char_value(char)
        total += value * 2 if index % 2 else value
    return (10 - total % 10) % 10


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 (USPS IMpb, FedEx Ground): from the right, weights 3,1,3,..."""
    total = 0
    for index, char in enumerate(reversed(body)):
        total += int(char) * (3 if index % 2 == 0 else 1)
    return (10 - total % 10) % 10


def s10_check_digit(serial: str) -> int:
    """UPU S10 mod-11 over the 8 serial digits (weights 8,6,4,2,3,5,9,7)."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def fedex_express_check_digit(body: str) -> int:
    """FedEx Express: from the right, weights 1,3,7,1,3,7,...; sum mod 11, then mod 10."""
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return total % 11 % 10


def dhl_check_digit(body: str) -> int:
    """DHL Express: the serial number modulo 7."""
    return int(body) % 7


def ontrac_check_digit(body: str) -> int:
    """OnTrac: mod 10 over the serial with an implied leading digit, odd positions doubled."""
    total = 0
    for index, char in enumerate(body):
        value = int(char)
        total += value * 2 if index % 2 else value
    return (10 - total % 10) % 10


# -- formats ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingForm:
    """One recognised format of one carrier."""

    carrier: Carrier
    name: str
    has_check_digit: bool
    expected: int | None = None  # the computed check digit (None without one)
    found: int | None = None  # the digit the number carries


def _ups(number: str) -> list[TrackingForm | None]:
    if re.fullmatch(r"1Z[0-9A-Z]{16}", number) and number[-1].isdigit():
        expected = ups_check_digit(number[2:17])
        return [TrackingForm(Carrier.UPS, "UPS 1Z", True, expected, int(number[-1]))]
    return []


def _impb(number: str, carrier: Carrier, name: str) -> list[TrackingForm | None]:
    """USPS IMpb forms (also FedEx SmartPost, which hands parcels to USPS)."""
    digits = number
    if re.fullmatch(r"420\d{27}", digits):  # 420 + ZIP5 + 22-digit IMpb
        digits = digits[8:]
    elif re.fullmatch(r"420\d{31}", digits):  # 420 + ZIP+4 + 22-digit IMpb
        digits = digits[12:]
    forms: list[TrackingForm | None] = []
    if re.fullmatch(r"9[1-5]\d{20}|9[1-5]\d{24}", digits):
        expected = gs1_check_digit(digits[:-1])
        forms.append(TrackingForm(carrier, name, True, expected, int(digits[-1])))
    elif re.fullmatch(r"\d{20}", digits):
        found = int(digits[-1])
        # 20-digit labels are read either as they are or with the implied "91"/"92" prefix.
        prefix = "92" if carrier is Carrier.FEDEX else "91"
        plain = gs1_check_digit(digits[:-1])
        implied = gs1_check_digit(prefix + digits[:-1])
        expected = found if found in (plain, implied) else plain
        forms.append(TrackingForm(carrier, f"{name} (20 digits)", True, expected, found))
    return forms


def _usps(number: str) -> list[TrackingForm | None]:
    forms = _impb(number, Carrier.USPS, "USPS IMpb")
    match = re.fullmatch(r"([A-Z]{2})(\d{8})(\d)([A-Z]{2})", number)
    if match:
        expected = s10_check_digit(match.group(2))
        forms.append(
            TrackingForm(Carrier.USPS, "international (S10)", True, expected, int(match.group(3)))
        )
    return forms


def _fedex(number: str) -> list[TrackingForm | None]:
    forms: list[TrackingForm | None] = []
    if re.fullmatch(r"\d{12}", number):
        expected = fedex_express_check_digit(number[:11])
        forms.append(TrackingForm(Carrier.FEDEX, "FedEx Express", True, expected, int(number[-1])))
    elif re.fullmatch(r"\d{15}", number):
        expected = gs1_check_digit(number[:14])
        forms.append(TrackingForm(Carrier.FEDEX, "FedEx Ground", True, expected, int(number[-1])))
    elif re.fullmatch(r"96\d{20}", number):
        tail = number[7:]
        expected = gs1_check_digit(tail[:-1])
        forms.append(
            TrackingForm(Carrier.FEDEX, "FedEx Ground (96)", True, expected, int(tail[-1]))
        )
    elif re.fullmatch(r"\d{34}", number) and not number.startswith("420"):
        tail = number[-14:]
        expected = fedex_express_check_digit(tail[:-1])
        forms.append(
            TrackingForm(Carrier.FEDEX, "FedEx barcode (34 digits)", True, expected, int(tail[-1]))
        )
    if not forms:
        forms.extend(_impb(number, Carrier.FEDEX, "FedEx SmartPost"))
    return forms


def _dhl(number: str) -> list[TrackingForm | None]:
    if re.fullmatch(r"\d{10,11}", number):
        expected = dhl_check_digit(number[:-1])
        return [TrackingForm(Carrier.DHL, "DHL Express", True, expected, int(number[-1]))]
    if re.fullmatch(r"(GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)\d{10,39}", number):
        return [TrackingForm(Carrier.DHL, "DHL eCommerce", False)]
    if re.fullmatch(r"J[A-Z]{2,3}\d{9,10}", number):
        return [TrackingForm(Carrier.DHL, "DHL piece id", False)]
    return []


def _ontrac(number: str) -> list[TrackingForm | None]:
    match = re.fullmatch(r"([CD])(\d{13})(\d)", number)
    if not match:
        return []
    implied = "4" if match.group(1) == "C" else "5"
    serial = match.group(2)
    if not serial.startswith(implied):
        serial = implied + serial
    expected = ontrac_check_digit(serial)
    return [TrackingForm(Carrier.ONTRAC, "OnTrac", True, expected, int(match.group(3)))]


def _lasership(number: str) -> list[TrackingForm | None]:
    if re.fullmatch(r"1LS[0-9A-Z]{7,20}", number) or re.fullmatch(r"L[A-Z]\d{8}", number):
        return [TrackingForm(Carrier.LASERSHIP, "LaserShip", False)]
    return []


_MATCHERS: dict[Carrier, Callable[[str], list[TrackingForm | None]]] = {
    Carrier.UPS: _ups,
    Carrier.USPS: _usps,
    Carrier.FEDEX: _fedex,
    Carrier.DHL: _dhl,
    Carrier.ONTRAC: _ontrac,
    Carrier.LASERSHIP: _lasership,
}

# What each carrier's numbers look like, for the message when nothing matches.
FORMAT_HELP: dict[Carrier, str] = {
    Carrier.UPS: "UPS numbers are 18 characters starting with 1Z (1Z + 16 letters or digits)",
    Carrier.USPS: (
        "USPS numbers are 20, 22 or 26 digits (usually starting with 9, or 420 + ZIP before "
        "them), or international ones like EC123456785US"
    ),
    Carrier.FEDEX: (
        "FedEx numbers are 12, 15, 20, 22 or 34 digits (Express, Ground, SmartPost, barcode)"
    ),
    Carrier.DHL: (
        "DHL Express numbers are 10 digits; DHL eCommerce numbers start with GM, LX, RX, ..."
    ),
    Carrier.ONTRAC: "OnTrac numbers are C or D followed by 14 digits",
    Carrier.LASERSHIP: "LaserShip numbers start with 1LS, or L and a letter followed by 8 digits",
    Carrier.OTHER: "tracking numbers are 6 to 40 letters and digits",
}

MIN_LENGTH = 6
MAX_LENGTH = 40


class Verdict(StrEnum):
    """How far a number could be verified."""

    VERIFIED = "verified"  # format and check digit both right
    FORMAT_ONLY = "format_only"  # right format; the carrier defines no check digit
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_FORMAT = "bad_format"
    EMPTY = "empty"


@dataclass(frozen=True)
class TrackingCheck:
    """The outcome for one number and one carrier, with the sentence to show next to it."""

    number: str  # normalised
    carrier: Carrier
    verdict: Verdict
    message: str
    form: str | None = None
    looks_like: Carrier | None = None  # a better-fitting carrier, when the chosen one fails

    @property
    def ok(self) -> bool:
        """Whether the number may be sent for this carrier."""
        return self.verdict in (Verdict.VERIFIED, Verdict.FORMAT_ONLY)


def _forms(number: str, carrier: Carrier) -> list[TrackingForm]:
    matcher = _MATCHERS.get(carrier)
    return [f for f in matcher(number) if f is not None] if matcher else []


def _valid(form: TrackingForm) -> bool:
    return not form.has_check_digit or form.expected == form.found


def guess_carriers(number: str) -> list[Carrier]:
    """Carriers whose format (and check digit, where they have one) this number fits."""
    normalised = normalize_tracking(number)
    verified: list[Carrier] = []
    format_only: list[Carrier] = []
    for carrier in _MATCHERS:
        forms = [f for f in _forms(normalised, carrier) if _valid(f)]
        if any(f.has_check_digit for f in forms):
            verified.append(carrier)
        elif forms:
            format_only.append(carrier)
    return verified + format_only


def _hint(number: str, chosen: Carrier) -> Carrier | None:
    # Only numbers proven by a check digit are worth a hint; format-only matches are too loose.
    for carrier in _MATCHERS:
        if carrier is chosen:
            continue
        if any(f.has_check_digit and _valid(f) for f in _forms(number, carrier)):
            return carrier
    return None


def check_tracking(text: str | None, carrier: Carrier | str | None) -> TrackingCheck:
    """Check `text` as a tracking number of `carrier` (a Carrier or a carrier's name)."""
    chosen = carrier if isinstance(carrier, Carrier) else carrier_from_name(carrier)
    number = normalize_tracking(text)
    if not number:
        return TrackingCheck(number, chosen, Verdict.EMPTY, "Enter the tracking number.")
    if not re.fullmatch(r"[0-9A-Z]+", number):
        return TrackingCheck(
            number,
            chosen,
            Verdict.BAD_FORMAT,
            "A tracking number has only letters and digits; remove the other characters.",
        )
    if chosen is Carrier.OTHER:
        return _check_other(number)
    forms = _forms(number, chosen)
    hint = _hint(number, chosen)
    good = [f for f in forms if _valid(f)]
    if good:
        form = next((f for f in good if f.has_check_digit), good[0])
        if form.has_check_digit:
            message = f"{form.name} number, check digit correct."
            return TrackingCheck(number, chosen, Verdict.VERIFIED, message, form.name)
        message = (
            f"Matches the {form.name} format. {chosen.value} defines no check digit for these "
            "numbers, so only the format was checked."
        )
        return TrackingCheck(number, chosen, Verdict.FORMAT_ONLY, message, form.name)
    suffix = f" This looks like a {hint.value} number." if hint else ""
    if forms:
        form = forms[0]
        message = (
            f"The check digit of this {form.name} number is wrong (it ends in {form.found}, "
            f"the other digits give {form.expected}): a digit is probably mistyped.{suffix}"
        )
        return TrackingCheck(number, chosen, Verdict.BAD_CHECK_DIGIT, message, form.name, hint)
    message = f"Not a {chosen.value} tracking number: {FORMAT_HELP[chosen]}.{suffix}"
    return TrackingCheck(number, chosen, Verdict.BAD_FORMAT, message, None, hint)


def _check_other(number: str) -> TrackingCheck:
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        return TrackingCheck(
            number,
            Carrier.OTHER,
            Verdict.BAD_FORMAT,
            f"Tracking numbers are {MIN_LENGTH} to {MAX_LENGTH} letters and digits; "
            f"this one has {len(number)}.",
        )
    known = guess_carriers(number)
    hint = known[0] if known else None
    suffix = f" This looks like a {hint.value} number." if hint else ""
    return TrackingCheck(
        number,
        Carrier.OTHER,
        Verdict.FORMAT_ONLY,
        "No check digit is known for this carrier, so only the length and characters were "
        f"checked.{suffix}",
        None,
        hint,
    )
