"""What the framework integrations share: resolving who asks, checking a tool call, and the
text a model sees when a call is refused."""

from __future__ import annotations

from typing import Any, Callable, Collection, Mapping, Optional, Union

from .._writ import Decision, Engine

#: A principal id, or a function of the framework's call context that returns one.
Principal = Union[str, Callable[[Any], str]]
#: Groups, or a function of the framework's call context that returns them.
Groups = Union[Collection[str], Callable[[Any], Collection[str]]]
#: Where approval tokens come from: a mapping or a function from request digest to token.
Approvals = Union[Mapping[str, str], Callable[[str], Optional[str]]]


def resolve(value: Any, context: Any) -> Any:
    """``value(context)`` for a callable, ``value`` otherwise."""
    return value(context) if callable(value) else value


def lookup(approvals: Optional[Approvals], digest: str) -> Optional[str]:
    """The approval token for ``digest``, if the host has one."""
    if approvals is None:
        return None
    if callable(approvals):
        return approvals(digest)
    return approvals.get(digest)


def check_tool_call(
    engine: Engine,
    *,
    principal: Principal,
    groups: Groups,
    resource: str,
    name: str,
    arguments: Any,
    context: Any,
    approvals: Optional[Approvals] = None,
) -> Decision:
    """Check one tool call; when it needs approval and the host holds an approval token for
    its digest, check it again with the token (the engine decides whether it is honoured)."""
    who = resolve(principal, context)
    member_of = list(resolve(groups, context))
    decision = engine.check_tool(who, name, arguments, resource=resource, groups=member_of)
    if decision.approval_required:
        token = lookup(approvals, decision.digest)
        if token:
            decision = engine.check_tool(
                who, name, arguments, resource=resource, groups=member_of, approval=token
            )
    return decision


def refusal(name: str, decision: Decision) -> str:
    """The message a model gets instead of the tool's result."""
    rules = f" (rules: {', '.join(decision.rules)})" if decision.rules else ""
    if decision.approval_required:
        return (
            f"writ: the call to tool `{name}` needs a human approval before it can run: "
            f"{decision.reason}{rules}. Request digest: {decision.digest}. "
            "Do not retry it unchanged until it is approved."
        )
    return (
        f"writ: the call to tool `{name}` was denied by policy: {decision.reason}{rules}. "
        "Do not retry it unchanged."
    )
