"""Tracking validation takes anything a user can type or paste and answers in a sentence.

Any text with any carrier (or carrier name) gives a verdict and a message, never an exception;
a UPS number built with the right check digit is verified, and changing one digit of it is
caught (the message says the check digit is wrong, or the format).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dsco_desktop.domain.tracking import (
    Carrier,
    Verdict,
    check_tracking,
    guess_carriers,
    normalize_tracking,
    ups_check_digit,
)

PROPS = settings(max_examples=400, deadline=None, derandomize=True, database=None)
CARRIERS = st.sampled_from(list(Carrier)) | st.text(max_size=12) | st.none()
TYPED = st.text(max_size=60) | st.from_regex(r"\s*[0-9A-Za-z \-]{0,40}\s*", fullmatch=True)


@PROPS
@given(TYPED | st.none(), CARRIERS)
def test_any_text_and_carrier_give_a_verdict_and_a_sentence(
    text: str | None, carrier: object
) -> None:
    check = check_tracking(text, carrier)  # type: ignore[arg-type]
    assert check.message.strip()
    assert check.verdict in set(Verdict)
    assert check.ok == (check.verdict in (Verdict.VERIFIED, Verdict.FORMAT_ONLY))
    assert check.number == normalize_tracking(text)
    guess_carriers(check.number)  # never raises either


@PROPS
@given(
    st.from_regex(r"[0-9A-Z]{6}[0-9]{2}[0-9]{7}", fullmatch=True),
    st.integers(0, 14),
    # UPS doubles every other digit mod 10, so a change of 5 there is invisible by design.
    st.sampled_from([1, 2, 3, 4, 6, 7, 8, 9]),
)
def test_a_ups_number_is_verified_and_one_changed_digit_is_caught(
    body: str, position: int, shift: int
) -> None:
    number = f"1Z{body}{ups_check_digit(body)}"
    assert check_tracking(number, Carrier.UPS).verdict is Verdict.VERIFIED
    old = body[position]
    if not old.isdigit():
        return
    typo = body[:position] + str((int(old) + shift) % 10) + body[position + 1 :]
    mistyped = check_tracking(f"1Z{typo}{ups_check_digit(body)}", "ups")
    assert mistyped.verdict is Verdict.BAD_CHECK_DIGIT, mistyped
    assert "check digit" in mistyped.message
