"""The MCP server middleware, driven by the SDK's in-process client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcp import Client
from mcp.server.mcpserver import MCPServer

import writ
from writ.integrations.mcp import WritMiddleware


def _server(engine: writ.Engine, ran: list[Any], **kw: Any) -> MCPServer:
    server = MCPServer("support-tools", middleware=[
        WritMiddleware(engine, principal="agent:support", groups=["support"], resource="tools",
                       **kw),
    ])

    @server.tool()
    def refund(order_id: int, amount: int) -> str:
        """Refund an order."""
        ran.append(("refund", order_id, amount))
        return f"refunded {amount}"

    @server.tool()
    def wipe_disk(path: str) -> str:
        """Not in the policy."""
        ran.append(("wipe_disk", path))
        return "wiped"

    return server


async def _call(server: MCPServer, name: str, arguments: dict[str, Any]) -> Any:
    async with Client(server) as client:
        listed = await client.list_tools()
        assert {t.name for t in listed.tools} == {"refund", "wipe_disk"}
        return await client.call_tool(name, arguments)


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_allowed_call_runs(support_engine: writ.Engine) -> None:
    ran: list[Any] = []
    result = asyncio.run(_call(_server(support_engine, ran), "refund",
                               {"order_id": 2, "amount": 10}))
    assert not result.is_error and "refunded 10" in _text(result)
    assert ran == [("refund", 2, 10)]


def test_denied_call_never_reaches_the_tool(support_engine: writ.Engine) -> None:
    ran: list[Any] = []
    result = asyncio.run(_call(_server(support_engine, ran), "wipe_disk", {"path": "/"}))
    assert result.is_error and "denied by policy" in _text(result)
    assert ran == []


def test_approval_required_and_approved(support_engine: writ.Engine) -> None:
    ran: list[Any] = []
    result = asyncio.run(_call(_server(support_engine, ran), "refund",
                               {"order_id": 2, "amount": 1000}))
    assert result.is_error and "needs a human approval" in _text(result) and ran == []
    approver = writ.SigningKey.from_seed("approvals", bytes([4] * 32))
    support_engine.trust_approval_key(approver)
    pending = support_engine.check_tool("agent:support", "refund",
                                        {"order_id": 2, "amount": 1000}, resource="tools",
                                        groups=["support"])
    token = writ.sign_approval(approver, digest=pending.digest, approver="user:lead",
                               groups=["support-leads"], ttl=600, now=1_800_000_000)
    server = _server(support_engine, ran, approvals={pending.digest: token})
    result = asyncio.run(_call(server, "refund", {"order_id": 2, "amount": 1000}))
    assert not result.is_error and ran == [("refund", 2, 1000)]


def test_unknown_principal_is_refused(support_engine: writ.Engine) -> None:
    ran: list[Any] = []
    server = MCPServer("x", middleware=[
        WritMiddleware(support_engine, principal=lambda ctx: "agent:stranger", resource="tools"),
    ])

    @server.tool()
    def refund(order_id: int, amount: int) -> str:
        ran.append(order_id)
        return "refunded"

    async def go() -> Any:
        async with Client(server) as client:
            return await client.call_tool("refund", {"order_id": 1, "amount": 1})

    result = asyncio.run(go())
    assert result.is_error and ran == []
