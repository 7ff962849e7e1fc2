"""Return rules: every line answered, a reason for each rejection, restock only what was
accepted; a new return never takes back more than shipped."""

from __future__ import annotations

from dsco_desktop.domain.returns import (
    ACCEPTED,
    REJECTED,
    Decision,
    NewReturnLine,
    Returnable,
    check_decisions,
    check_new_return,
    completion_payload,
    create_payload,
    restock_units,
    return_lines,
)

LINES = return_lines(
    [
        {"lineNumber": 1, "sku": "RED-S", "quantity": 2, "reasonCode": "DAMAGED"},
        {"lineNumber": 2, "sku": "BLU-M", "quantity": 1, "reasonCode": "WRONG_ITEM"},
    ]
)


def test_every_line_needs_an_answer_and_a_rejection_needs_a_reason() -> None:
    issues = check_decisions(LINES, [Decision(0, ACCEPTED), Decision(1, REJECTED, "  ")])
    assert [(i.line, i.field, i.message) for i in issues] == [
        (1, "reason", "Line 2 (BLU-M): say why it is rejected.")
    ]
    missing = check_decisions(LINES, [Decision(0, ACCEPTED)])
    assert missing[0].message == "Line 2 (BLU-M): choose Accept or Reject."
    restock_rejected = check_decisions(
        LINES, [Decision(0, ACCEPTED), Decision(1, REJECTED, "Worn", True, "WH01")]
    )
    assert restock_rejected[0].message == "Line 2 (BLU-M): only accepted units go back into stock."
    no_warehouse = check_decisions(
        LINES, [Decision(0, ACCEPTED, restock=True), Decision(1, ACCEPTED)]
    )
    assert no_warehouse[0].field == "warehouse"


def test_the_completion_carries_each_answer_and_the_reasons_and_restocks_accepted_units() -> None:
    decisions = [
        Decision(0, ACCEPTED, restock=True, warehouse_code="WH01"),
        Decision(1, REJECTED, "Used or worn"),
    ]
    body = completion_payload({"dscoReturnId": "300000001"}, LINES, decisions)
    assert body == {
        "dscoReturnId": "300000001",
        "lineItems": [
            {"response": "accepted", "lineNumber": 1, "sku": "RED-S"},
            {"response": "rejected", "lineNumber": 2, "sku": "BLU-M"},
        ],
        "responseReason": "Line 2 (BLU-M): Used or worn",
    }
    assert restock_units(LINES, decisions) == [("RED-S", "WH01", 2)]
    assert restock_units(LINES, [Decision(0, REJECTED, "x", True, "WH01")]) == []


def test_a_new_return_takes_back_only_what_shipped_and_was_not_returned() -> None:
    returnable = [Returnable("line:1", 1, "RED-S", None, "Red", shipped=2, returned=1)]
    too_many = check_new_return("RET-1", returnable, [NewReturnLine("line:1", 2, "DAMAGED")])
    assert too_many[0].message == (
        "Line 1 (RED-S): 2 coming back but only 1 shipped and not returned yet."
    )
    assert check_new_return("", returnable, [])[0].field == "number"
    assert (
        "already used"
        in check_new_return(
            "RET-1", returnable, [NewReturnLine("line:1", 1, "DAMAGED")], taken_numbers={"RET-1"}
        )[0].message
    )
    no_reason = check_new_return("RET-2", returnable, [NewReturnLine("line:1", 1, " ")])
    assert no_reason[0].field == "reason"
    body = create_payload(
        "RET-2",
        {"dscoOrderId": "1001", "poNumber": "PO-1"},
        returnable,
        [NewReturnLine("line:1", 1, "UNDELIVERABLE")],
    )
    assert body["lineItems"] == [
        {
            "quantity": 1,
            "reasonCode": "UNDELIVERABLE",
            "lineNumber": 1,
            "sku": "RED-S",
            "title": "Red",
        }
    ]
