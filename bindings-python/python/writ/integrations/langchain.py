"""writ for LangChain (``langchain`` >= 1.0): agent middleware and a ``BaseTool`` wrapper.

Middleware, for ``create_agent``::

    from langchain.agents import create_agent
    from writ.integrations.langchain import WritMiddleware

    agent = create_agent(model, tools, middleware=[
        WritMiddleware(engine, principal="agent:support", resource="tools"),
    ], checkpointer=InMemorySaver())

``wrap_tool_call`` / ``awrap_tool_call`` check every tool call (name and arguments) with
``Engine.check_tool`` before the tool runs. A denied call does not run: the model gets a
``ToolMessage`` with ``status="error"`` saying why.

**Approvals** map onto LangGraph's human-in-the-loop: for ``approval_required`` the middleware
calls ``langgraph.types.interrupt`` with a ``{"type": "writ_approval", "tool", "args",
"digest", "reason", "rules"}`` value (the agent needs a checkpointer). The run pauses; resume it
with ``Command(resume=TOKEN)`` where TOKEN is a writ approval token signed for that digest
(``writ.sign_approval``, by a person in the policy's approver groups), or with
``Command(resume={"type": "reject", "message": "..."})``. The call is then checked again with
the token, and runs only if writ allows it. With ``on_approval="reject"`` no interrupt is
raised and the model gets an error message naming the digest. ``approvals`` (a mapping or a
function from digest to token) is consulted first in both modes.

Wrapper, for code that calls tools itself: ``guard_tool(tool, engine, ...)`` returns a
``BaseTool`` with the same name, description and argument schema, whose calls are checked
first; a refusal raises ``ToolException`` and, with the default ``handle_tool_error=True``,
reaches the model as the tool's error output.

``principal`` and ``groups`` may be functions of the ``ToolCallRequest`` (middleware) or of the
call's arguments (wrapper).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional

from .._writ import Decision, Engine
from ._common import Approvals, Groups, Principal, check_tool_call, refusal

__all__ = ["WritMiddleware", "guard_tool"]

try:  # The middleware base class, when LangChain is installed.
    from langchain.agents.middleware import AgentMiddleware as _Base
except ImportError:  # pragma: no cover - without LangChain only the import fails later
    _Base = object  # type: ignore[assignment,misc]


def _error_message(request: Any, content: str) -> Any:
    from langchain_core.messages import ToolMessage

    call = request.tool_call
    return ToolMessage(
        content=content, tool_call_id=call["id"], name=call.get("name"), status="error"
    )


class WritMiddleware(_Base):  # type: ignore[misc,valid-type]
    """LangChain agent middleware that checks every tool call with writ before it runs."""

    def __init__(
        self,
        engine: Engine,
        *,
        principal: Principal,
        resource: str,
        groups: Groups = (),
        approvals: Optional[Approvals] = None,
        on_approval: str = "interrupt",
    ) -> None:
        if on_approval not in ("interrupt", "reject"):
            raise ValueError('on_approval must be "interrupt" or "reject"')
        super().__init__()
        self.engine = engine
        self.principal = principal
        self.resource = resource
        self.groups = groups
        self.approvals = approvals
        self.on_approval = on_approval

    @property
    def name(self) -> str:
        return "WritMiddleware"

    def _check(self, request: Any, approval: Optional[str] = None) -> Decision:
        call = request.tool_call
        if approval is None:
            return check_tool_call(
                self.engine,
                principal=self.principal,
                groups=self.groups,
                resource=self.resource,
                name=call["name"],
                arguments=call.get("args") or {},
                context=request,
                approvals=self.approvals,
            )
        who = self.principal(request) if callable(self.principal) else self.principal
        groups = self.groups(request) if callable(self.groups) else self.groups
        return self.engine.check_tool(
            who,
            call["name"],
            call.get("args") or {},
            resource=self.resource,
            groups=list(groups),
            approval=approval,
        )

    def _decide(self, request: Any) -> tuple[Optional[Decision], Optional[Any]]:
        """The allowing decision, or the error ToolMessage to return instead of running."""
        name = request.tool_call["name"]
        decision = self._check(request)
        if decision.approval_required and self.on_approval == "interrupt":
            from langgraph.types import interrupt

            answer = interrupt(
                {
                    "type": "writ_approval",
                    "tool": name,
                    "args": request.tool_call.get("args") or {},
                    "digest": decision.digest,
                    "reason": decision.reason,
                    "rules": decision.rules,
                }
            )
            if isinstance(answer, dict) and answer.get("type") == "reject":
                message = answer.get("message") or "the approver rejected this call"
                return None, _error_message(
                    request, f"writ: the call to tool `{name}` was rejected: {message}"
                )
            token = answer.get("approval") if isinstance(answer, dict) else answer
            if not isinstance(token, str) or not token:
                return None, _error_message(
                    request,
                    f"writ: the call to tool `{name}` was not approved (no approval token)",
                )
            decision = self._check(request, approval=token)
        if decision.allowed:
            return decision, None
        return None, _error_message(request, refusal(name, decision))

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        """Run the tool only when writ allows the call."""
        decision, refused = self._decide(request)
        if refused is not None:
            return refused
        return handler(request)

    async def awrap_tool_call(
        self, request: Any, handler: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        """Run the tool only when writ allows the call."""
        decision, refused = self._decide(request)
        if refused is not None:
            return refused
        return await handler(request)


def guard_tool(
    tool: Any,
    engine: Engine,
    *,
    principal: Principal,
    resource: str,
    groups: Groups = (),
    approvals: Optional[Approvals] = None,
) -> Any:
    """A ``BaseTool`` that checks each call with writ, then runs ``tool``."""
    from langchain_core.tools import BaseTool, ToolException

    inner: BaseTool = tool

    def arguments_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            raise ToolException(
                f"writ: tool `{inner.name}` takes keyword arguments only; the call was not run"
            )
        return {k: v for k, v in kwargs.items() if k not in ("run_manager", "callbacks")}

    def enforce(arguments: dict[str, Any]) -> None:
        decision = check_tool_call(
            engine,
            principal=principal,
            groups=groups,
            resource=resource,
            name=inner.name,
            arguments=arguments,
            context=arguments,
            approvals=approvals,
        )
        if not decision.allowed:
            raise ToolException(refusal(inner.name, decision))

    class WritGuardedTool(BaseTool):  # type: ignore[misc,valid-type]
        name: str = inner.name
        description: str = inner.description
        args_schema: Any = inner.args_schema
        handle_tool_error: Any = True

        def _run(self, *args: Any, **kwargs: Any) -> Any:
            arguments = arguments_of(args, kwargs)
            enforce(arguments)
            return inner.invoke(arguments)

        async def _arun(self, *args: Any, **kwargs: Any) -> Any:
            arguments = arguments_of(args, kwargs)
            enforce(arguments)
            return await inner.ainvoke(arguments)

    return WritGuardedTool()
