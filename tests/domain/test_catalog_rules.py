"""The catalog rules on single rows: what a shop owner sees for each kind of mistake."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from dsco_desktop.domain.catalog import CellMemo, DiffState, RowResult, diff_item, validate_row

GOOD = {"sku": "A1", "title": "Shirt", "productStatus": "active"}


def messages(result: RowResult, field: str) -> list[str]:
    return [i.message for i in result.issues if i.field == field]


def test_a_complete_row_is_valid_and_becomes_dsco_fields() -> None:
    result = validate_row(
        2,
        {
            **GOOD,
            "productStatus": "Active",
            "upc": "012345678905",
            "msrp": "19.99",
            "cost": 7,
            "images": ["https://cdn.example/a.jpg", None, "https://cdn.example/b.jpg"],
            "category": "Apparel > Men > Shirts",
            "weightUnits": "LBS",
            "weight": 1.5,
            "productAvailabilityStartDate": date(2025, 3, 31),
        },
    )
    assert result.valid, result.issues
    assert result.item["productStatus"] == "active"
    assert result.item["msrp"] == 19.99
    assert result.item["category"] == "Apparel||Men||Shirts"
    assert result.item["weightUnits"] == "lb"
    assert result.item["images"] == ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]
    assert result.item["productAvailabilityStartDate"] == "2025-03-31T00:00:00Z"


def test_prices_refuse_symbols_commas_and_third_decimals_but_forgive_float_noise() -> None:
    result = validate_row(
        3, {**GOOD, "cost": "$12.50", "msrp": "1,299.00", "map": 5.555, "handlingCost": 0.1 + 0.2}
    )
    assert "currency symbol" in messages(result, "cost")[0]
    assert "(12.50)" in messages(result, "cost")[0]
    assert "comma" in messages(result, "msrp")[0]
    assert "more than 2 decimals" in messages(result, "map")[0]
    assert result.item["handlingCost"] == 0.3


def test_numeric_upc_that_lost_its_zero_is_restored_with_a_warning() -> None:
    result = validate_row(4, {**GOOD, "upc": 12345678905.0})
    assert result.valid
    assert result.item["upc"] == "012345678905"
    assert result.warnings == 1 and "lost its leading zero" in messages(result, "upc")[0]


def test_numeric_sku_keeps_its_digits_without_decimal_point() -> None:
    result = validate_row(5, {**GOOD, "sku": 123.0})
    assert result.sku == "123" and result.item["sku"] == "123"


def test_partial_row_of_a_stored_item_needs_no_title_but_a_new_one_does() -> None:
    stored = {"sku": "A1", "title": "Shirt", "productStatus": "active", "cost": 5.0}
    assert validate_row(6, {"sku": "A1", "cost": "6.00"}, stored=stored).valid
    new = validate_row(7, {"sku": "B9", "cost": "6.00"})
    assert "required for a new item" in messages(new, "title")[0]
    assert messages(new, "productStatus")


def test_diff_of_a_partial_update_sends_only_changed_fields_and_the_required_ones() -> None:
    stored = {"sku": "A1", "title": "Shirt", "productStatus": "active", "cost": 5.0, "msrp": 20}
    result = validate_row(8, {"sku": "A1", "cost": "6.00", "msrp": "20"}, stored=stored)
    state, changed, payload = diff_item(result, stored)
    assert state is DiffState.CHANGED
    assert changed == ["cost"]
    assert payload == {"sku": "A1", "title": "Shirt", "productStatus": "active", "cost": 6.0}
    same = validate_row(9, {"sku": "A1", "cost": 5}, stored=stored)
    assert diff_item(same, stored)[0] is DiffState.UNCHANGED


def test_extended_attributes_merge_into_the_stored_default_ones() -> None:
    stored = {**GOOD, "extendedAttributes": {"default": {"fabric": "cotton", "fit": "slim"}}}
    result = validate_row(10, {"sku": "A1"}, extended={"fit": "regular"}, stored=stored)
    state, _changed, payload = diff_item(result, stored)
    assert state is DiffState.CHANGED
    assert payload["extendedAttributes"] == {"default": {"fabric": "cotton", "fit": "regular"}}


def test_warnings_for_prices_that_contradict_each_other() -> None:
    result = validate_row(11, {**GOOD, "cost": 30, "msrp": 20, "map": 25})
    assert result.valid and result.warnings == 2


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**13),
    st.floats(allow_nan=False, allow_infinity=True),
    st.sampled_from([0, 1, 0.0, 1.0, True, False, 12345678905, 12345678905.0]),  # equal, not alike
    st.sampled_from(
        [
            "active",
            "Active",
            " x ",
            "",
            "19.99",
            "$5",
            "1,000",
            "012345678905",
            "12345678905",
            "https://cdn.example/a.jpg",
            "http://cdn.example/a.jpg",
            "A||B",
            "A||",
            "LBS",
            "yes",
            "2025-03-31",
            "not a date",
            "A" * 95,
        ]
    ),
)
_FIELDS = ("sku", "title", "productStatus", "upc", "cost", "msrp", "weight", "weightUnits",
           "category", "hazmatFlag", "productAvailabilityStartDate", "countryOfOrigin")  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(_FIELDS, _CELLS)), min_size=1, max_size=30))
def test_remembered_conversions_give_the_same_result_as_fresh_ones(rows: list[dict]) -> None:
    memo = CellMemo(max_distinct=8)
    for number, values in enumerate(rows * 2, start=2):  # every value comes back at least once
        fresh = validate_row(number, values)
        remembered = validate_row(number, values, memo=memo)
        assert remembered.item == fresh.item
        assert [type(v) for v in remembered.item.values()] == [type(v) for v in fresh.item.values()]
        assert remembered.issues == fresh.issues


def test_a_column_of_unique_values_is_no_longer_remembered() -> None:
    memo = CellMemo(max_distinct=100)
    for n in range(500):
        validate_row(n + 2, {**GOOD, "sku": f"SKU{n}", "cost": 1 + n % 3}, memo=memo)
    assert not memo.remembering("sku")
    assert memo.remembering("cost") and memo.remembering("productStatus")


def test_a_remembered_mistake_is_reported_on_every_row_that_repeats_it() -> None:
    memo = CellMemo()
    results = [
        validate_row(n, {**GOOD, "sku": f"S{n}", "msrp": "$19.99"}, memo=memo) for n in (2, 3, 4)
    ]
    assert [messages(r, "msrp") for r in results] == [
        ["MSRP '$19.99' has a currency symbol; enter the number alone (19.99)."]
    ] * 3


def test_a_price_too_large_to_count_in_cents_is_an_error_not_a_crash() -> None:
    result = validate_row(2, {**GOOD, "msrp": 1e307})
    assert messages(result, "msrp") == ["MSRP 1e+307 is far too large."]
