"""writ for the OpenAI Agents SDK (``openai-agents``): a tool input guardrail.

::

    from agents import function_tool
    from writ.integrations.openai_agents import writ_guardrail, writ_needs_approval

    guard = writ_guardrail(engine, principal="agent:support", resource="tools")

    @function_tool(tool_input_guardrails=[guard],
                   needs_approval=writ_needs_approval(engine, principal="agent:support",
                                                      resource="tools"))
    def refund(order_id: int, amount: float) -> str: ...

The guardrail checks each call (the tool's name and its JSON arguments) with
``Engine.check_tool`` before the tool runs. A denied call does not run: the model gets the
guardrail's ``reject_content`` message (why, which rules) as the tool's output and the run goes
on. ``allow`` lets the call through, with the decision (``Decision.to_dict()``) as the
guardrail's ``output_info``.

**Approvals.** ``approval_required`` maps onto the SDK's human-in-the-loop:
``writ_needs_approval`` returns True for exactly the calls writ says need approval, so the run
is interrupted (``result.interruptions``) until a person approves or rejects the call with
``RunState.approve`` / ``reject``. An SDK approval is not a writ approval: when the person
approves, the host signs a writ approval for the call's digest (``writ.sign_approval``, with
the approver's identity) and puts it in the ``approvals`` mapping given to the guardrail,
which then checks the call again with that token, so the policy's approver groups and
self-approval rules still hold. Without a token the guardrail rejects the call.

``principal`` and ``groups`` may be functions of the SDK's ``ToolContext`` (for a principal in
the run context: ``principal=lambda ctx: ctx.context.user_id``).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from .._writ import Decision, Engine
from ._common import Approvals, Groups, Principal, check_tool_call, refusal

__all__ = ["writ_guardrail", "writ_needs_approval"]


def _arguments(raw: Any) -> Any:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (str, bytes)):
        return json.loads(raw)
    return raw


def writ_guardrail(
    engine: Engine,
    *,
    principal: Principal,
    resource: str,
    groups: Groups = (),
    approvals: Optional[Approvals] = None,
    name: str = "writ",
) -> Any:
    """A ``ToolInputGuardrail`` that lets a function tool run only when writ allows the call."""
    from agents import ToolGuardrailFunctionOutput, ToolInputGuardrail

    def check(data: Any) -> Any:
        context = data.context
        tool = context.tool_name
        try:
            arguments = _arguments(context.tool_arguments)
        except ValueError as error:
            return ToolGuardrailFunctionOutput.reject_content(
                f"writ: the arguments of tool `{tool}` are not valid JSON ({error}); "
                "the call was not run"
            )
        decision: Decision = check_tool_call(
            engine,
            principal=principal,
            groups=groups,
            resource=resource,
            name=tool,
            arguments=arguments,
            context=context,
            approvals=approvals,
        )
        if decision.allowed:
            return ToolGuardrailFunctionOutput.allow(output_info=decision.to_dict())
        return ToolGuardrailFunctionOutput.reject_content(
            refusal(tool, decision), output_info=decision.to_dict()
        )

    return ToolInputGuardrail(guardrail_function=check, name=name)


def writ_needs_approval(
    engine: Engine,
    *,
    principal: Principal,
    resource: str,
    groups: Groups = (),
    tool: Optional[str] = None,
    approvals: Optional[Approvals] = None,
) -> Any:
    """A ``needs_approval`` function for ``function_tool``: True when writ says the call needs
    a human approval (and the host holds no approval token for it yet).

    The SDK passes the run context, the parsed parameters and the call id, not the tool's
    name: give ``tool=`` when the Python function's name is not the tool's name.
    """

    async def needs_approval(run_context: Any, parameters: dict[str, Any], call_id: str) -> bool:
        name = tool or getattr(run_context, "tool_name", None)
        if not name:
            # Without a tool name nothing can be checked: ask a person (fail closed).
            return True
        decision = check_tool_call(
            engine,
            principal=principal,
            groups=groups,
            resource=resource,
            name=name,
            arguments=parameters,
            context=run_context,
            approvals=approvals,
        )
        return bool(decision.approval_required)

    return needs_approval
