"""Tracking numbers per carrier: published samples pass, one digit off fails, hints point
at the carrier a number really belongs to."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsco_desktop.domain.tracking import (
    Carrier,
    Verdict,
    carrier_from_name,
    check_tracking,
    dhl_check_digit,
    fedex_express_check_digit,
    gs1_check_digit,
    guess_carriers,
    normalize_tracking,
    ontrac_check_digit,
    s10_check_digit,
    ups_check_digit,
)

# Sample numbers published by carriers and in public tracking-number test suites.
PUBLISHED_VALID: dict[Carrier, list[str]] = {
    Carrier.UPS: ["1Z879E930346834440", "1Z12345E6605272234", "1Z999AA10123456784"],
    Carrier.USPS: [
        "0307 1790 0005 2348 3741",
        "7112 3456 7891 2345 6787",
        "7196 9010 7560 0307 7385",
        "9505 5110 6960 5048 6006 24",
        "9101 1234 5678 9000 0000 13",
        "92748931507708513018050063",
        "9400 1112 0108 0805 4830 16",
        "9361 2898 7870 0317 6337 95",
        "9405803699300124287899",
        "420 22153 9101026837331000039521",
        "4201002334249200190132607600833457",
        "4201028200009261290113185417468510",
        "RB123456785GB",
        "AA473124829GB",
    ],
    Carrier.FEDEX: [
        "986578788855",
        "477179081230",
        "799531274483",
        "7905 3531 2317",
        "974367662710",
        "0414 4176 0228 964",
        "5682 8361 0012 000",
        "5682 8361 0012 734",
        "9611020987654312345672",
        "1001921334250001000300779017972697",
        "1001901781990001000300617767839437",
        "1002297871540001000300790695517286",
        "61299998820821171811",
        "9261292700768711948021",
    ],
    Carrier.DHL: ["3318810025", "8487135506", "1099255990", "3821724944", "73891051146"],
    Carrier.ONTRAC: [
        "C11031500001879",
        "C 110 31 500 00187 9",
        "C10999911320231",
        "C11121552953069",
        "D10011354453707",
        "D10011345983010",
        "D10011342332145",
    ],
}

PUBLISHED_INVALID: dict[Carrier, list[str]] = {
    Carrier.UPS: ["1Z879E930346834441"],
    Carrier.USPS: [
        "0307 1790 0005 2348 3742",
        "4201028200009261290113185417468511",
        "9200000000000000000000",
    ],
    Carrier.FEDEX: [
        "996578788855",
        "5682 8361 0012 732",
        "9600000000000000000001",
        "1001901781990001000300617767839438",
        "9261292700768711948020",
    ],
    Carrier.DHL: ["3318810010", "3318810034", "3318810011"],
    Carrier.ONTRAC: ["C10000000000000", "C11031500001889", "D10011345983012"],
}


@pytest.mark.parametrize(
    ("carrier", "number"),
    [(c, n) for c, numbers in PUBLISHED_VALID.items() for n in numbers],
)
def test_published_numbers_pass_with_their_check_digit(carrier: Carrier, number: str) -> None:
    result = check_tracking(number, carrier)
    assert result.verdict is Verdict.VERIFIED, result.message
    assert "check digit correct" in result.message


@pytest.mark.parametrize(
    ("carrier", "number"),
    [(c, n) for c, numbers in PUBLISHED_INVALID.items() for n in numbers],
)
def test_published_bad_numbers_fail(carrier: Carrier, number: str) -> None:
    result = check_tracking(number, carrier)
    assert not result.ok
    assert result.verdict is Verdict.BAD_CHECK_DIGIT


def _bump_check(number: str) -> str:
    """The same number with its check digit off by one."""
    digits = normalize_tracking(number)
    # The check digit is the last digit, except for S10 (letters after it).
    position = max(i for i, c in enumerate(digits) if c.isdigit())
    bumped = str((int(digits[position]) + 1) % 10)
    return digits[:position] + bumped + digits[position + 1 :]


@pytest.mark.parametrize(
    ("carrier", "number"),
    [(c, n) for c, numbers in PUBLISHED_VALID.items() for n in numbers],
)
def test_check_digit_off_by_one_fails(carrier: Carrier, number: str) -> None:
    result = check_tracking(_bump_check(number), carrier)
    assert not result.ok, result.message
    assert "check digit" in result.message
    assert "mistyped" in result.message


# -- numbers built here by computing their check digits ---------------------------------------


def _ups(body: str) -> str:
    return f"1Z{body}{ups_check_digit(body)}"


def _usps22(body: str) -> str:
    return body + str(gs1_check_digit(body))


def _s10(serial: str) -> str:
    return f"EC{serial}{s10_check_digit(serial)}US"


def _fedex12(body: str) -> str:
    return body + str(fedex_express_check_digit(body))


def _dhl(body: str) -> str:
    return body + str(dhl_check_digit(body))


def _ontrac(prefix: str, body: str) -> str:
    implied = "4" if prefix == "C" else "5"
    serial = body if body.startswith(implied) else implied + body
    return f"{prefix}{body}{ontrac_check_digit(serial)}"


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPRSTUVWXYZ", min_size=15, max_size=15))
def test_constructed_ups_numbers_pass(body: str) -> None:
    assert check_tracking(_ups(body), "UPS").verdict is Verdict.VERIFIED


@given(st.from_regex(r"9[1-5][0-9]{19}", fullmatch=True))
def test_constructed_usps_impb_numbers_pass(body: str) -> None:
    number = _usps22(body)
    assert check_tracking(number, "USPS").verdict is Verdict.VERIFIED
    assert not check_tracking(_bump_check(number), "USPS").ok


@given(st.from_regex(r"[0-9]{8}", fullmatch=True))
def test_constructed_s10_numbers_pass(serial: str) -> None:
    assert check_tracking(_s10(serial), "USPS").verdict is Verdict.VERIFIED
    assert not check_tracking(_bump_check(_s10(serial)), "USPS").ok


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_constructed_fedex_express_numbers_pass(body: str) -> None:
    assert check_tracking(_fedex12(body), "FedEx").verdict is Verdict.VERIFIED


@given(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True))
def test_constructed_dhl_numbers_pass(body: str) -> None:
    number = _dhl(body)
    assert check_tracking(number, "DHL").verdict is Verdict.VERIFIED
    assert not check_tracking(_bump_check(number), "DHL").ok


@given(st.sampled_from("CD"), st.from_regex(r"[0-9]{13}", fullmatch=True))
def test_constructed_ontrac_numbers_pass(prefix: str, body: str) -> None:
    assert check_tracking(_ontrac(prefix, body), "OnTrac").verdict is Verdict.VERIFIED


def test_fedex_forms_of_every_length() -> None:
    rng = random.Random(7)
    body14 = "".join(rng.choice("0123456789") for _ in range(14))
    ground15 = body14 + str(gs1_check_digit(body14))
    assert check_tracking(ground15, "FedEx").form == "FedEx Ground"
    ground96 = "9612019" + ground15
    assert check_tracking(ground96, "FedEx").form == "FedEx Ground (96)"
    barcode34 = "1001921334250001000300" + _fedex12("77901797269")
    assert check_tracking(barcode34, "FedEx").form == "FedEx barcode (34 digits)"
    smartpost = _usps22("926129270076871194802")
    assert check_tracking(smartpost, "FedEx").form == "FedEx SmartPost"


def test_spaces_and_case_do_not_matter() -> None:
    number = "1z 879e 9303 4683 4440"
    result = check_tracking(number, "ups")
    assert result.ok
    assert result.number == "1Z879E930346834440"


@pytest.mark.parametrize(
    ("number", "chosen", "looks_like"),
    [
        ("1Z879E930346834440", "FedEx", Carrier.UPS),
        ("1Z879E930346834440", "USPS", Carrier.UPS),
        ("9400111201080805483016", "UPS", Carrier.USPS),
        ("986578788855", "UPS", Carrier.FEDEX),
        ("C11031500001879", "USPS", Carrier.ONTRAC),
    ],
)
def test_a_number_of_another_carrier_is_pointed_out(
    number: str, chosen: str, looks_like: Carrier
) -> None:
    result = check_tracking(number, chosen)
    assert not result.ok
    assert result.looks_like is looks_like
    assert f"This looks like a {looks_like.value} number." in result.message


def test_wrong_format_says_what_the_carrier_uses() -> None:
    result = check_tracking("12345", "UPS")
    assert result.verdict is Verdict.BAD_FORMAT
    assert "1Z" in result.message


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("LX17635036", "LaserShip"),
        ("1LS717793482164", "LaserShip"),
        ("1LS724505321754", "LaserShip"),
        ("GM2951173225174494", "DHL"),
        ("JJD0099999999", "DHL"),
    ],
)
def test_forms_without_check_digit_are_format_checked_and_say_so(number: str, carrier: str) -> None:
    result = check_tracking(number, carrier)
    assert result.verdict is Verdict.FORMAT_ONLY
    assert "only the format was checked" in result.message


def test_lasership_rejects_other_shapes() -> None:
    assert not check_tracking("LA1763503", "LaserShip").ok
    assert not check_tracking("2LS717793482164", "LaserShip").ok


def test_other_carriers_are_length_checked_and_say_so() -> None:
    result = check_tracking("PRL-00012345", "Purolator")
    assert result.verdict is Verdict.FORMAT_ONLY
    assert "No check digit is known" in result.message
    assert not check_tracking("AB1", "Purolator").ok
    hinted = check_tracking("1Z879E930346834440", "Acme Freight")
    assert hinted.ok and hinted.looks_like is Carrier.UPS


def test_empty_and_junk() -> None:
    assert check_tracking("   ", "UPS").verdict is Verdict.EMPTY
    assert check_tracking("1Z879E93034683444#", "UPS").verdict is Verdict.BAD_FORMAT


def test_carrier_names_are_forgiving() -> None:
    assert carrier_from_name("Fed Ex") is Carrier.FEDEX
    assert carrier_from_name("usps") is Carrier.USPS
    assert carrier_from_name("On-Trac") is Carrier.ONTRAC
    assert carrier_from_name("Laser Ship") is Carrier.LASERSHIP
    assert carrier_from_name("Pony Express") is Carrier.OTHER
    assert carrier_from_name(None) is Carrier.OTHER


def test_guess_carriers_orders_check_digit_matches_first() -> None:
    assert guess_carriers("1Z879E930346834440") == [Carrier.UPS]
    assert Carrier.FEDEX in guess_carriers("986578788855")
    assert guess_carriers("ZZZ") == []
