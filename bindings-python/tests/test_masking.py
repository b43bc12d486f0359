"""Masking result rows through the binding: row shapes, cursor descriptions, and refusals."""

from __future__ import annotations

import datetime
import decimal

import pytest

import writ

SUPPORT = ["support"]
ROW = (1, "Ada", "ada.lovelace@example.com", "123-45-6789", "call +1 415 555 0100")
COLUMNS = ["id", "name", "email", "ssn", "notes"]


def _decision(engine: writ.Engine, sql: str, groups: list[str] = SUPPORT) -> writ.Decision:
    return engine.check_sql("agent:support", sql, resource="appdb", groups=groups)


def test_tuples_lists_and_dicts_keep_their_shape(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT id, name, email, ssn, notes FROM customers")
    assert d.allowed and d.masked_columns == ["email", "ssn", "notes"]
    out = support_engine.mask_rows(d, COLUMNS, [ROW, list(ROW), dict(zip(COLUMNS, ROW))])
    as_tuple, as_list, as_dict = out
    assert isinstance(as_tuple, tuple) and isinstance(as_list, list) and isinstance(as_dict, dict)
    assert as_tuple[:2] == (1, "Ada")
    assert as_tuple[2] != ROW[2] and "ada.lovelace" not in as_tuple[2]
    assert as_tuple[3].endswith("6789") and "123-45" not in as_tuple[3]
    assert "415" not in as_tuple[4] and as_tuple[4].startswith("call ")
    assert list(as_tuple) == as_list == [as_dict[c] for c in COLUMNS]


def test_dict_rows_without_columns_use_their_keys(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT id, name, email, ssn, notes FROM customers")
    row = dict(zip(COLUMNS, ROW))
    row_out = support_engine.mask_rows(d, None, [row])[0]
    assert row_out["email"] != row["email"] and row_out["name"] == "Ada"
    assert row["email"] == ROW[2], "the caller's row is not modified"


def test_cursor_description_is_accepted(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT email FROM customers")
    description = [("email", None, None, None, None, None, None)]
    assert support_engine.mask_rows(d, description, [("x@example.com",)])[0][0] != "x@example.com"


def test_unmasked_values_are_the_same_objects(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT id, name, email, ssn, notes FROM customers")
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    amount = decimal.Decimal("12.50")
    blob = b"\x00\xff"
    row = (amount, when, "bob@example.com", blob, None)
    out = support_engine.mask_rows(d, COLUMNS, [row])[0]
    assert out[0] is amount and out[1] is when and out[4] is None
    assert out[2] != "bob@example.com"
    # A whole-value method masks whatever the type: the bytes come back masked as text.
    assert out[3] is not blob and isinstance(out[3], str)


def test_exempt_group_sees_clear_values(support_engine: writ.Engine) -> None:
    d = _decision(
        support_engine, "SELECT id, name, email, ssn, notes FROM customers", ["support", "support-leads"]
    )
    assert d.masked_columns == ["notes"]
    out = support_engine.mask_rows(d, COLUMNS, [ROW])[0]
    assert out[2] == ROW[2] and out[3] == ROW[3]


def test_aliases_do_not_unmask(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT email AS contact FROM customers")
    assert d.masked_columns == ["contact"]
    assert support_engine.mask_rows(d, ["contact"], [("a@b.example",)])[0][0] != "a@b.example"


def test_rows_of_a_denied_request_are_refused(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "DROP TABLE customers")
    with pytest.raises(writ.PermissionDenied) as caught:
        support_engine.mask_rows(d, ["x"], [(1,)])
    assert caught.value.decision is d and not isinstance(caught.value, writ.ApprovalRequired)
    pending = _decision(support_engine, "DELETE FROM orders WHERE id = 1")
    assert pending.approval_required
    with pytest.raises(writ.ApprovalRequired) as caught_approval:
        support_engine.mask_rows(pending, ["x"], [(1,)])
    assert caught_approval.value.digest == pending.digest


def test_a_result_that_does_not_fit_the_plan(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT id, email FROM customers")
    with pytest.raises(writ.MaskError, match="columns"):
        support_engine.mask_rows(d, ["id"], [(1,)])
    with pytest.raises(writ.MaskError, match="2 values for 1 columns"):
        support_engine.mask_rows(d, ["id"], [(1, 2)])
    with pytest.raises(TypeError, match="columns are needed"):
        support_engine.mask_rows(d, None, [(1, "a@b.example")])
    with pytest.raises(TypeError, match="not a str"):
        support_engine.mask_rows(d, ["id", "email"], ["ab"])
    with pytest.raises(ValueError, match="no column"):
        support_engine.mask_rows(d, ["id", "email"], [{"id": 1}])


def test_hash_method_needs_the_host_key() -> None:
    policy = """version: 1
resources: [{name: db, kind: sqlite, columns: {users: [id, email]}}]
rules: [{id: r, effect: allow, when: {sql: {read_only: true}}}]
masks: [{id: h, resources: [db], columns: [users.email], method: {method: hash}}]
"""
    keyless = writ.Engine.from_str(policy)
    d = keyless.check_sql("a", "SELECT email FROM users", resource="db")
    with pytest.raises(writ.MaskError, match="(?i)key"):
        keyless.mask_rows(d, ["email"], [("a@b.example",)])
    keyed = writ.Engine.from_str(policy, mask_key=b"k" * 32)
    d = keyed.check_sql("a", "SELECT email FROM users", resource="db")
    first = keyed.mask_rows(d, ["email"], [("a@b.example",), ("a@b.example",)])
    assert first[0] == first[1] and first[0][0] != "a@b.example"
    with pytest.raises(writ.MaskError):
        writ.Engine.from_str(policy, mask_key=b"short")


def test_empty_rows(support_engine: writ.Engine) -> None:
    d = _decision(support_engine, "SELECT id FROM orders")
    assert support_engine.mask_rows(d, ["id"], []) == []
