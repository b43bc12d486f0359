"""Type stub of the native module ``writ._writ`` (checked against it by mypy.stubtest)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike
from typing import Any, Optional, Union, final

from ._types import Effect

__all__ = [
    "__version__",
    "Decision",
    "Engine",
    "SigningKey",
    "VerifyingKey",
    "keygen",
    "mint_grant",
    "request_digest",
    "sign_approval",
]

__version__: str

_Path = Union[str, PathLike[str]]
_Json = Any
_Columns = Optional[Iterable[Union[str, Sequence[Any]]]]

@final
class Decision:
    """What one check decided. Never truthy or falsy: test ``decision.allowed``."""

    @property
    def effect(self) -> Effect: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def approval_required(self) -> bool: ...
    @property
    def rules(self) -> list[str]: ...
    @property
    def reason(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def policy(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def principal(self) -> Optional[str]: ...
    @property
    def groups(self) -> list[str]: ...
    @property
    def delegates(self) -> list[str]: ...
    @property
    def policy_effect(self) -> Optional[Effect]: ...
    @property
    def approval_status(self) -> str: ...
    @property
    def approver(self) -> Optional[str]: ...
    @property
    def approval_error(self) -> Optional[str]: ...
    @property
    def masked_columns(self) -> list[str]: ...
    @property
    def mask_plan(self) -> Optional[dict[str, Any]]: ...
    @property
    def parts(self) -> list[dict[str, Any]]: ...
    @property
    def view(self) -> Optional[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def __bool__(self) -> bool: ...

@final
class Engine:
    """A compiled policy with the host's keys, audit sinks and grant bookkeeping."""

    @staticmethod
    def from_path(
        path: _Path, *, mask_key: Optional[bytes] = None, now: Optional[int] = None
    ) -> Engine: ...
    @staticmethod
    def from_str(
        text: str,
        *,
        name: str = ...,  # "<policy>"
        format: Optional[str] = None,
        mask_key: Optional[bytes] = None,
        now: Optional[int] = None,
    ) -> Engine: ...
    def reload_path(self, path: _Path) -> None: ...
    def reload_str(
        self,
        text: str,
        *,
        name: str = ...,  # "<policy>"
        format: Optional[str] = None,
    ) -> None: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def resources(self) -> list[str]: ...
    @property
    def rule_ids(self) -> list[str]: ...
    def check(self, request: Union[Mapping[str, _Json], str, bytes]) -> Decision: ...
    def check_sql(
        self,
        principal: Optional[str],
        sql: str,
        *,
        resource: str,
        groups: Sequence[str] = ...,
        token: Optional[str] = None,
        grant: Optional[str] = None,
        approval: Optional[str] = None,
    ) -> Decision: ...
    def check_command(
        self,
        principal: Optional[str],
        command: str,
        *,
        resource: str,
        groups: Sequence[str] = ...,
        token: Optional[str] = None,
        grant: Optional[str] = None,
        approval: Optional[str] = None,
    ) -> Decision: ...
    def check_argv(
        self,
        principal: Optional[str],
        argv: Sequence[str],
        *,
        resource: str,
        groups: Sequence[str] = ...,
        token: Optional[str] = None,
        grant: Optional[str] = None,
        approval: Optional[str] = None,
    ) -> Decision: ...
    def check_http(
        self,
        principal: Optional[str],
        method: str,
        url: str,
        *,
        resource: str,
        groups: Sequence[str] = ...,
        token: Optional[str] = None,
        grant: Optional[str] = None,
        approval: Optional[str] = None,
    ) -> Decision: ...
    def check_tool(
        self,
        principal: Optional[str],
        name: str,
        arguments: Optional[Mapping[str, _Json]] = None,
        *,
        resource: str,
        groups: Sequence[str] = ...,
        token: Optional[str] = None,
        grant: Optional[str] = None,
        approval: Optional[str] = None,
    ) -> Decision: ...
    def mask_rows(
        self, decision: Decision, columns: _Columns, rows: Iterable[Any]
    ) -> list[Any]: ...
    def add_audit_sink(self, callback: Callable[[Any], object], *, raw: bool = False) -> None: ...
    def add_audit_file(
        self,
        path: _Path,
        *,
        key: Optional[bytes] = None,
        sync: bool = False,
        rotate_bytes: Optional[int] = None,
    ) -> None: ...
    def trust_grant_key(self, key: Union[VerifyingKey, SigningKey]) -> None: ...
    def trust_approval_key(self, key: Union[VerifyingKey, SigningKey]) -> None: ...
    def trust_shared_secret(self, id: str, secret: bytes) -> None: ...
    def revoke(self, id: str) -> None: ...

@final
class SigningKey:
    """A key that signs grants or approvals (Ed25519 or HMAC-SHA-256)."""

    @staticmethod
    def generate(kid: str) -> SigningKey: ...
    @staticmethod
    def from_pem(kid: str, pem: str) -> SigningKey: ...
    @staticmethod
    def from_seed(kid: str, seed: bytes) -> SigningKey: ...
    @staticmethod
    def hmac(kid: str, secret: bytes) -> SigningKey: ...
    @property
    def kid(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    def verifying_key(self) -> VerifyingKey: ...

@final
class VerifyingKey:
    """A key that verifies grants or approvals."""

    @staticmethod
    def from_pem(kid: str, pem: str) -> VerifyingKey: ...
    @staticmethod
    def from_jwk(jwk: Union[str, Mapping[str, Any]]) -> VerifyingKey: ...
    @staticmethod
    def from_bytes(kid: str, key: bytes) -> VerifyingKey: ...
    @property
    def kid(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    def to_jwk(self) -> Optional[str]: ...

def keygen(kid: str) -> SigningKey: ...
def mint_grant(
    key: SigningKey,
    *,
    to: str,
    scope: Mapping[str, _Json],
    ttl: int,
    principal: Optional[str] = None,
    groups: Sequence[str] = ...,
    parent: Optional[str] = None,
    trusted: Sequence[Union[VerifyingKey, SigningKey]] = ...,
    depth: int = 0,
    bound_to: Optional[str] = None,
    now: Optional[int] = None,
) -> str: ...
def sign_approval(
    key: SigningKey,
    *,
    digest: str,
    approver: str,
    groups: Sequence[str] = ...,
    ttl: int,
    rules: Optional[Sequence[str]] = None,
    now: Optional[int] = None,
) -> str: ...
def request_digest(request: Union[Mapping[str, _Json], str, bytes]) -> str: ...
