"""writ for MCP servers (the official ``mcp`` Python SDK >= 2.3): a server middleware that
checks every ``tools/call`` before the tool's handler runs.

::

    from mcp.server.mcpserver import MCPServer
    from writ.integrations.mcp import WritMiddleware

    server = MCPServer("db-tools", middleware=[
        WritMiddleware(engine, principal="agent:support", resource="tools"),
    ])

(On a low-level ``mcp.server.lowlevel.Server``, append it to ``server.middleware``.)

The middleware sees the raw ``tools/call`` params (tool name and arguments) before params
validation and tool lookup, checks them with ``Engine.check_tool``, and only then passes the
request on. A refused call never reaches the tool: the client gets a ``CallToolResult`` with
``isError: true`` and a text explaining why, which MCP clients show to the model as the tool's
error. Other methods pass through untouched.

**Approvals.** MCP's own human-in-the-loop primitive (elicitation) asks the *client's* user,
who may be the requester; writ's approvals must come from the policy's approver groups. So
``approval_required`` is returned as a tool error naming the request digest, and the host
supplies approval tokens it obtained out of band through ``approvals`` (a mapping or function
from digest to token): the call is then checked again with the token.

``principal`` and ``groups`` may be functions of the ``ServerRequestContext`` (for a
principal taken from the connection's authentication).
"""

from __future__ import annotations

from typing import Any, Optional

from .._writ import Engine
from ._common import Approvals, Groups, Principal, check_tool_call, refusal

__all__ = ["WritMiddleware"]


def _error_result(text: str) -> Any:
    from mcp_types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


class WritMiddleware:
    """An MCP ``ServerMiddleware`` checking ``tools/call`` requests with writ."""

    def __init__(
        self,
        engine: Engine,
        *,
        principal: Principal,
        resource: str,
        groups: Groups = (),
        approvals: Optional[Approvals] = None,
    ) -> None:
        self.engine = engine
        self.principal = principal
        self.resource = resource
        self.groups = groups
        self.approvals = approvals

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        params = ctx.params or {}
        name = params.get("name")
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}
        if not isinstance(name, str) or not isinstance(arguments, dict):
            return _error_result("writ: malformed tools/call (name or arguments); not run")
        try:
            decision = check_tool_call(
                self.engine,
                principal=self.principal,
                groups=self.groups,
                resource=self.resource,
                name=name,
                arguments=arguments,
                context=ctx,
                approvals=self.approvals,
            )
        except Exception as error:  # noqa: BLE001 - any failure to decide refuses the call
            return _error_result(f"writ: the call to tool `{name}` could not be checked: {error}")
        if not decision.allowed:
            return _error_result(refusal(name, decision))
        return await call_next(ctx)
