"""The OpenAI Agents SDK guardrail, run by the SDK's own Runner with its scripted test model
(no LLM, no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agents import Agent, Runner, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

import writ
from writ.integrations.openai_agents import writ_guardrail, writ_needs_approval

from conftest import NOW

set_tracing_disabled(True)


def _run(engine: writ.Engine, tool_name: str, arguments: dict[str, Any],
         approvals: Any = None) -> tuple[list[Any], Any]:
    ran: list[Any] = []
    guard = writ_guardrail(engine, principal="agent:support", groups=["support"],
                           resource="tools", approvals=approvals)

    @function_tool(tool_input_guardrails=[guard])
    def refund(order_id: int, amount: int) -> str:
        """Refund an order."""
        ran.append(("refund", order_id, amount))
        return f"refunded {amount} on order {order_id}"

    @function_tool(tool_input_guardrails=[guard])
    def wipe_disk() -> str:
        """Not in the policy."""
        ran.append(("wipe_disk",))
        return "wiped"

    model = ScriptedModel([
        [function_call(tool_name, arguments, call_id="call-1")],
        [assistant_message("done")],
    ])
    agent = Agent(name="support", model=model, tools=[refund, wipe_disk])
    result = asyncio.run(Runner.run(agent, "go"))
    outputs = [
        item.output for item in result.new_items if getattr(item, "type", "") == "tool_call_output_item"
    ]
    return ran, outputs


def test_allowed_call_runs(support_engine: writ.Engine) -> None:
    ran, outputs = _run(support_engine, "refund", {"order_id": 7, "amount": 20})
    assert ran == [("refund", 7, 20)]
    assert outputs == ["refunded 20 on order 7"]


def test_denied_call_does_not_run_and_the_model_is_told(support_engine: writ.Engine) -> None:
    ran, outputs = _run(support_engine, "wipe_disk", {})
    assert ran == []
    assert len(outputs) == 1 and "denied by policy" in outputs[0] and "wipe_disk" in outputs[0]


def test_approval_required_is_rejected_without_a_token(support_engine: writ.Engine) -> None:
    ran, outputs = _run(support_engine, "refund", {"order_id": 7, "amount": 500})
    assert ran == []
    assert "needs a human approval" in outputs[0] and "sha256:" in outputs[0]


def test_an_approval_token_lets_the_call_run(support_engine: writ.Engine) -> None:
    approver = writ.SigningKey.from_seed("approvals", bytes([9] * 32))
    support_engine.trust_approval_key(approver)
    pending = support_engine.check_tool("agent:support", "refund", {"order_id": 7, "amount": 500},
                                        resource="tools", groups=["support"])
    token = writ.sign_approval(approver, digest=pending.digest, approver="user:lead",
                               groups=["support-leads"], ttl=600, now=NOW)
    ran, outputs = _run(support_engine, "refund", {"order_id": 7, "amount": 500},
                        approvals={pending.digest: token})
    assert ran == [("refund", 7, 500)]


def test_needs_approval_interrupts_the_run(support_engine: writ.Engine) -> None:
    ran: list[Any] = []
    needs = writ_needs_approval(support_engine, principal="agent:support", groups=["support"],
                                resource="tools", tool="refund")

    @function_tool(needs_approval=needs)
    def refund(order_id: int, amount: int) -> str:
        """Refund an order."""
        ran.append(amount)
        return "refunded"

    model = ScriptedModel([[function_call("refund", {"order_id": 1, "amount": 1000},
                                          call_id="c1")]])
    agent = Agent(name="support", model=model, tools=[refund])
    result = asyncio.run(Runner.run(agent, "go"))
    assert ran == []
    assert len(result.interruptions) == 1

    small = ScriptedModel([[function_call("refund", {"order_id": 1, "amount": 5}, call_id="c2")],
                           [assistant_message("ok")]])
    result = asyncio.run(Runner.run(Agent(name="support", model=small, tools=[refund]), "go"))
    assert ran == [5] and not result.interruptions
