"""LangChain: the agent middleware (run by `create_agent` with a scripted chat model) and the
`BaseTool` wrapper."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

import writ
from writ.integrations.langchain import WritMiddleware, guard_tool

from conftest import NOW

RAN: list[Any] = []


@tool
def refund(order_id: int, amount: int) -> str:
    """Refund an order."""
    RAN.append(("refund", order_id, amount))
    return f"refunded {amount}"


@tool
def wipe_disk(path: str) -> str:
    """Not in the policy."""
    RAN.append(("wipe_disk", path))
    return "wiped"


class ScriptedChat(GenericFakeChatModel):
    """A chat model that replays messages and accepts tools."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


def _model(name: str, args: dict[str, Any]) -> ScriptedChat:
    messages: Iterator[AIMessage] = iter([
        AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "call-1"}]),
        AIMessage(content="done"),
    ])
    return ScriptedChat(messages=messages)


def _agent(engine: writ.Engine, name: str, args: dict[str, Any], **kw: Any) -> Any:
    middleware = WritMiddleware(engine, principal="agent:support", groups=["support"],
                                resource="tools", **kw)
    return create_agent(_model(name, args), [refund, wipe_disk], middleware=[middleware],
                        checkpointer=InMemorySaver())


def _tool_messages(state: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in state["messages"] if isinstance(m, ToolMessage)]


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


CONFIG = {"configurable": {"thread_id": "t1"}}


def test_allowed_call_runs(support_engine: writ.Engine) -> None:
    agent = _agent(support_engine, "refund", {"order_id": 3, "amount": 20})
    state = agent.invoke({"messages": [("user", "refund")]}, CONFIG)
    assert RAN == [("refund", 3, 20)]
    assert _tool_messages(state)[0].content == "refunded 20"


def test_denied_call_is_a_tool_error(support_engine: writ.Engine) -> None:
    agent = _agent(support_engine, "wipe_disk", {"path": "/"})
    state = agent.invoke({"messages": [("user", "wipe")]}, CONFIG)
    assert RAN == []
    (message,) = _tool_messages(state)
    assert message.status == "error" and "denied by policy" in message.content


def test_async_path(support_engine: writ.Engine) -> None:
    import asyncio

    agent = _agent(support_engine, "wipe_disk", {"path": "/"})
    state = asyncio.run(agent.ainvoke({"messages": [("user", "wipe")]}, CONFIG))
    assert RAN == [] and _tool_messages(state)[0].status == "error"


def test_approval_interrupts_and_resumes_with_a_token(support_engine: writ.Engine) -> None:
    approver = writ.SigningKey.from_seed("approvals", bytes([3] * 32))
    support_engine.trust_approval_key(approver)
    agent = _agent(support_engine, "refund", {"order_id": 3, "amount": 500})
    state = agent.invoke({"messages": [("user", "refund")]}, CONFIG)
    assert RAN == []
    (pending,) = state["__interrupt__"]
    assert pending.value["type"] == "writ_approval" and pending.value["tool"] == "refund"
    token = writ.sign_approval(approver, digest=pending.value["digest"], approver="user:lead",
                               groups=["support-leads"], ttl=600, now=NOW)
    state = agent.invoke(Command(resume=token), CONFIG)
    assert RAN == [("refund", 3, 500)]
    assert _tool_messages(state)[-1].content == "refunded 500"


def test_approval_rejected_or_unsigned(support_engine: writ.Engine) -> None:
    agent = _agent(support_engine, "refund", {"order_id": 3, "amount": 500})
    agent.invoke({"messages": [("user", "refund")]}, CONFIG)
    state = agent.invoke(Command(resume={"type": "reject", "message": "too much"}), CONFIG)
    assert RAN == [] and "too much" in _tool_messages(state)[-1].content

    # A forged token is not honoured: the call stays refused.
    agent = _agent(support_engine, "refund", {"order_id": 3, "amount": 500})
    agent.invoke({"messages": [("user", "refund")]}, {"configurable": {"thread_id": "t2"}})
    forged = writ.sign_approval(writ.keygen("rogue"), digest="sha256:" + "0" * 64,
                                approver="user:x", groups=["support-leads"], ttl=60, now=NOW)
    state = agent.invoke(Command(resume=forged), {"configurable": {"thread_id": "t2"}})
    assert RAN == [] and _tool_messages(state)[-1].status == "error"


def test_on_approval_reject_mode(support_engine: writ.Engine) -> None:
    agent = _agent(support_engine, "refund", {"order_id": 3, "amount": 500}, on_approval="reject")
    state = agent.invoke({"messages": [("user", "refund")]}, CONFIG)
    assert RAN == [] and "needs a human approval" in _tool_messages(state)[0].content
    with pytest.raises(ValueError):
        WritMiddleware(support_engine, principal="a", resource="tools", on_approval="maybe")


def test_guard_tool_wrapper(support_engine: writ.Engine) -> None:
    guarded = guard_tool(refund, support_engine, principal="agent:support", groups=["support"],
                         resource="tools")
    assert guarded.name == "refund" and guarded.args_schema is refund.args_schema
    assert guarded.invoke({"order_id": 1, "amount": 5}) == "refunded 5"
    out = guarded.invoke({"order_id": 1, "amount": 500})
    assert "needs a human approval" in out and RAN == [("refund", 1, 5)]
    blocked = guard_tool(wipe_disk, support_engine, principal="agent:support",
                         groups=["support"], resource="tools")
    message = blocked.invoke({"type": "tool_call", "name": "wipe_disk", "args": {"path": "/"},
                              "id": "c9"})
    assert isinstance(message, ToolMessage) and message.status == "error"
    assert "denied by policy" in message.content and RAN == [("refund", 1, 5)]
