"""The exceptions writ raises, as one tree under :class:`WritError`.

A denial is not an exception where a decision is asked for (``Engine.check`` returns a
``Decision``); it is one where code was about to act on the request (the DB-API wrapper, the
``guard`` decorator, masking a result that was not allowed): :class:`PermissionDenied`, or its
subclass :class:`ApprovalRequired`, carrying the decision.

::

    WritError
    ├── PolicyError            invalid policy: diagnostics with file, line, column
    ├── RequestError           malformed request (also a ValueError)
    ├── TokenError             signed credentials could not be made
    │   ├── GrantError         minting a grant failed (wider than its parent, bad scope, ...)
    │   ├── ApprovalError      signing an approval failed
    │   └── InvalidKeyError    a key could not be loaded
    ├── MaskError              a result could not be masked (plan does not fit, no key)
    ├── AuditError             an audit log could not be opened, or a masking pass recorded
    └── PermissionDenied       the request is not allowed (.decision)
        └── ApprovalRequired   it needs a human approval (.decision, .digest)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence

if TYPE_CHECKING:
    from ._writ import Decision

__all__ = [
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


class Diagnostic(NamedTuple):
    """One problem in a policy document, with where it is (line and column from 1)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class WritError(Exception):
    """Base of every exception writ raises."""


class PolicyError(WritError):
    """A policy could not be loaded: every problem found is in :attr:`diagnostics`.

    :attr:`file`, :attr:`line` and :attr:`column` are those of the first diagnostic (None
    when the policy could not be read at all: the message says why).
    """

    diagnostics: list[Diagnostic]
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        self.file = first.file if first else None
        self.line = first.line if first else None
        self.column = first.column if first else None


class RequestError(WritError, ValueError):
    """A request that is not valid (unknown fields, a missing action, non-JSON values)."""


class TokenError(WritError):
    """Signed credentials (grants, approvals, keys) could not be made or loaded."""


class GrantError(TokenError):
    """A grant could not be minted: its reason says why (wider than its parent, ...)."""


class ApprovalError(TokenError):
    """An approval could not be signed."""


class InvalidKeyError(TokenError):
    """A signing or verifying key could not be loaded."""


class MaskError(WritError):
    """A result could not be masked: it must not be returned."""


class AuditError(WritError):
    """An audit log could not be opened, or an event could not be recorded."""


class PermissionDenied(WritError):
    """The request is not allowed; :attr:`decision` says why."""

    decision: Optional[Decision]

    def __init__(self, message: str, decision: Optional[Decision] = None) -> None:
        super().__init__(message)
        self.decision = decision

    @property
    def digest(self) -> Optional[str]:
        """The request's digest (what an approval must be bound to)."""
        return self.decision.digest if self.decision is not None else None

    @property
    def rules(self) -> list[str]:
        """The rules that decided."""
        return list(self.decision.rules) if self.decision is not None else []


class ApprovalRequired(PermissionDenied):
    """The request needs a human approval bound to :attr:`digest` (see ``sign_approval``)."""
