"""writ: policy enforcement for AI agents.

Check SQL, shell commands, HTTP requests and tool calls against a declarative policy before
they run, mask what comes back, and keep a hash-chained audit trail::

    import writ

    engine = writ.Engine.from_path("policies/data-agents")
    decision = engine.check_sql("agent:analytics", "SELECT * FROM orders",
                                resource="warehouse", groups=["analysts"])
    if not decision.allowed:
        raise writ.PermissionDenied(decision.reason, decision)

Everything is decided by the Rust core; this package converts values, releases the GIL while
the core works, and raises the exceptions of :mod:`writ.errors`. One ``Engine`` is safe to
share between threads.

Integrations: :mod:`writ.guard` (a decorator for any tool function), :mod:`writ.dbapi`
(a checked, masking DB-API connection), and under ``writ.integrations``: ``openai_agents``,
``langchain`` and ``mcp``.
"""

from __future__ import annotations

from ._types import Effect
from ._writ import (
    Decision,
    Engine,
    SigningKey,
    VerifyingKey,
    __version__,
    keygen,
    mint_grant,
    request_digest,
    sign_approval,
)
from .errors import (
    ApprovalError,
    ApprovalRequired,
    AuditError,
    Diagnostic,
    GrantError,
    InvalidKeyError,
    MaskError,
    PermissionDenied,
    PolicyError,
    RequestError,
    TokenError,
    WritError,
)
from .guard import enforce, guard

__all__ = [
    "__version__",
    "Effect",
    "Decision",
    "Engine",
    "SigningKey",
    "VerifyingKey",
    "keygen",
    "mint_grant",
    "request_digest",
    "sign_approval",
    "enforce",
    "guard",
    "Diagnostic",
    "WritError",
    "PolicyError",
    "RequestError",
    "TokenError",
    "GrantError",
    "ApprovalError",
    "InvalidKeyError",
    "MaskError",
    "AuditError",
    "PermissionDenied",
    "ApprovalRequired",
]
