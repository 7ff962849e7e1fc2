"""UPC/EAN/GTIN/ISBN rules: the check digits a scanner and DSCO verify, the lengths DSCO takes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsco_desktop.domain.identifiers import (
    gtin_check_digit,
    has_valid_gtin_check_digit,
    identifier_problem,
    restore_lost_zeros,
)


@pytest.mark.parametrize(
    "code",
    ["036000291452", "012345678905", "4006381333931", "96385074", "00012345600012"],
)
def test_real_codes_have_valid_check_digits(code: str) -> None:
    assert has_valid_gtin_check_digit(code)


def test_wrong_check_digit_is_named_with_the_expected_one() -> None:
    problem = identifier_problem("upc", "036000291453")
    assert problem is not None
    assert "check digit" in problem and "expected 2" in problem


@pytest.mark.parametrize(
    ("kind", "code", "fragment"),
    [
        ("upc", "12345", "has 5 digits; DSCO needs 6 or 12"),
        ("ean", "4006381333931X", "digits only"),
        ("gtin", "1234567890", "8, 12, 13 or 14"),
        ("isbn", "030640615X", "digits only"),
    ],
)
def test_lengths_and_characters_follow_the_spec(kind: str, code: str, fragment: str) -> None:
    problem = identifier_problem(kind, code)  # type: ignore[arg-type]
    assert problem is not None and fragment in problem


def test_isbn10_uses_mod_11() -> None:
    assert identifier_problem("isbn", "0306406152") is None
    assert identifier_problem("isbn", "0306406153") is not None


def test_lost_leading_zero_is_restored_only_when_the_code_then_checks() -> None:
    assert restore_lost_zeros("upc", "12345678905") == "012345678905"
    assert restore_lost_zeros("upc", "12345678904") is None


@given(st.text(alphabet="0123456789", min_size=7, max_size=13))
def test_appending_the_computed_check_digit_always_validates(body: str) -> None:
    assert has_valid_gtin_check_digit(body + str(gtin_check_digit(body)))


@given(st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_check_digit_matches_the_gs1_definition(body: str) -> None:
    # GS1: from the right, digits are weighted 3, 1, 3, ...; the check digit rounds up to 10.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    assert gtin_check_digit(body) == (10 - total % 10) % 10


@pytest.mark.parametrize("code", ["٠٣٦٠٠٠٢٩١٤٥٢", "03600029145²", "０３６０００２９１４５２"])
def test_digits_other_than_0_to_9_are_refused(code: str) -> None:
    problem = identifier_problem("upc", code)
    assert problem is not None and "digits only" in problem
    assert not has_valid_gtin_check_digit(code)
    assert restore_lost_zeros("upc", code) is None
