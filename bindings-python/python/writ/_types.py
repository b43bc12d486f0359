"""Value types shared by the native module and the Python layers."""

from __future__ import annotations

import enum

__all__ = ["Effect"]


class Effect(str, enum.Enum):
    """What writ decided. A ``str`` subclass: ``Effect.DENY == "deny"``."""

    ALLOW = "allow"
    DENY = "deny"
    APPROVAL_REQUIRED = "approval_required"

    def __str__(self) -> str:
        return self.value
