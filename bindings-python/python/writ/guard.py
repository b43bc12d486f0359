"""``@writ.guard``: check every call of a tool function before it runs.

Framework-free: the decorated function's arguments (bound to its signature, defaults applied)
are the tool call's ``arguments``, its name (or ``name=``) the tool's name, and the call is
checked with ``Engine.check_tool`` on ``resource``. A call that is not allowed raises
:class:`~writ.errors.PermissionDenied` (:class:`~writ.errors.ApprovalRequired` for
``approval_required``) and the function does not run. Coroutine functions are supported.

Arguments that are not JSON (a database handle, a context object) cannot be part of the tool
call: name them in ``exclude`` or the call is refused with :class:`~writ.errors.RequestError`
(fail closed).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Collection, Optional, TypeVar, Union, cast

from ._writ import Decision, Engine
from .errors import ApprovalRequired, PermissionDenied
from .integrations._common import Approvals, lookup

__all__ = ["guard", "enforce"]

F = TypeVar("F", bound=Callable[..., Any])

PrincipalArg = Union[str, Callable[[], str]]


def enforce(decision: Decision) -> Decision:
    """Return ``decision`` when it allows; raise ``PermissionDenied`` or ``ApprovalRequired``
    (carrying it) otherwise."""
    if decision.allowed:
        return decision
    if decision.approval_required:
        raise ApprovalRequired(
            f"approval required: {decision.reason} (digest {decision.digest})", decision
        )
    raise PermissionDenied(f"denied: {decision.reason}", decision)


def guard(
    engine: Engine,
    *,
    principal: PrincipalArg,
    resource: str,
    name: Optional[str] = None,
    groups: Union[Collection[str], Callable[[], Collection[str]]] = (),
    exclude: Collection[str] = (),
    approvals: Optional[Approvals] = None,
) -> Callable[[F], F]:
    """Decorate a tool function so each call is checked by ``engine`` first.

    ``principal`` (and ``groups``) may be callables, evaluated at each call (for a principal
    held in a context variable). ``approvals`` (a mapping or a function from request digest to
    approval token) is where the host keeps approvals people signed: a call that needs one is
    checked again with the token for its digest, and runs if writ honours it. Each call is
    checked on its own.
    """

    def decorate(function: F) -> F:
        tool = name or function.__name__
        signature = inspect.signature(function)
        skip = set(exclude)

        def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Decision:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments: dict[str, Any] = {}
            for key, value in bound.arguments.items():
                if key in skip:
                    continue
                kind = signature.parameters[key].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    arguments.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    arguments[key] = list(value)
                else:
                    arguments[key] = value
            who = principal() if callable(principal) else principal
            member_of = list(groups() if callable(groups) else groups)
            decision = engine.check_tool(who, tool, arguments, resource=resource, groups=member_of)
            if decision.approval_required:
                token = lookup(approvals, decision.digest)
                if token:
                    decision = engine.check_tool(
                        who, tool, arguments, resource=resource, groups=member_of, approval=token
                    )
            return enforce(decision)

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                check(args, kwargs)
                return await function(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(args, kwargs)
            return function(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
