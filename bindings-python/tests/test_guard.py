"""The framework-free `@writ.guard` decorator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import writ


def test_allowed_calls_run_and_denied_calls_do_not(support_engine: writ.Engine) -> None:
    ran: list[Any] = []

    @writ.guard(support_engine, principal="agent:support", groups=["support"], resource="tools")
    def refund(order_id: int, amount: int = 10) -> str:
        ran.append((order_id, amount))
        return "ok"

    assert refund(7) == "ok" and ran == [(7, 10)]
    assert refund.__name__ == "refund"
    with pytest.raises(writ.ApprovalRequired) as caught:
        refund(7, amount=500)
    assert caught.value.decision is not None
    assert caught.value.digest == caught.value.decision.digest
    assert caught.value.rules == ["big-refunds-need-approval"]
    assert ran == [(7, 10)]

    @writ.guard(support_engine, principal="agent:support", groups=["support"], resource="tools")
    def delete_everything() -> None:
        ran.append("boom")

    with pytest.raises(writ.PermissionDenied) as denied:
        delete_everything()
    assert not isinstance(denied.value, writ.ApprovalRequired)
    assert "boom" not in ran


def test_routed_sql_argument_is_checked(support_engine: writ.Engine) -> None:
    @writ.guard(support_engine, principal="agent:support", groups=["support"],
                resource="tools", name="run_sql", exclude=["connection"])
    def query(query: str, connection: object = None) -> str:
        return "ran"

    assert query("SELECT id FROM orders", connection=object()) == "ran"
    with pytest.raises(writ.PermissionDenied):
        query("DROP TABLE orders")


def test_non_json_arguments_fail_closed(support_engine: writ.Engine) -> None:
    @writ.guard(support_engine, principal="agent:support", groups=["support"], resource="tools")
    def lookup_order(order: object) -> str:
        return "ran"

    with pytest.raises(writ.RequestError):
        lookup_order(object())


def test_callable_principal_and_async(support_engine: writ.Engine) -> None:
    current = {"who": "agent:support"}

    @writ.guard(support_engine, principal=lambda: current["who"], groups=lambda: ["support"],
                resource="tools")
    async def lookup_order(order_id: int, **extra: Any) -> int:
        return order_id

    assert asyncio.run(lookup_order(3, note="x")) == 3
    current["who"] = "agent:stranger"

    @writ.guard(support_engine, principal=lambda: current["who"], resource="tools")
    async def lookup(order_id: int) -> int:
        return order_id

    with pytest.raises(writ.PermissionDenied):
        asyncio.run(lookup(3))


def test_enforce() -> None:
    engine = writ.Engine.from_str(
        "version: 1\nresources: [{name: db, kind: sqlite}]\n"
        "rules: [{id: r, effect: allow, when: {sql: {read_only: true}}}]\n"
    )
    ok = engine.check_sql("a", "SELECT 1", resource="db")
    assert writ.enforce(ok) is ok
    with pytest.raises(writ.PermissionDenied, match="denied"):
        writ.enforce(engine.check_sql("a", "DELETE FROM t", resource="db"))
