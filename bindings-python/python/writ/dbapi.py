"""A DB-API 2.0 (PEP 249) wrapper: every statement is checked before the driver sees it, and
every row that comes back is masked.

::

    import sqlite3, writ, writ.dbapi

    engine = writ.Engine.from_path("policy.yaml")
    conn = writ.dbapi.connect(sqlite3.connect("app.db"), engine=engine,
                              principal="agent:support", groups=["support"], resource="appdb")
    cur = conn.cursor()
    cur.execute("SELECT name, email FROM customers WHERE id = ?", (7,))
    cur.fetchall()        # e-mails masked as the policy says

- ``execute``, ``executemany`` (and ``executescript`` where the driver has it) check the SQL
  text with ``Engine.check_sql``. A denied statement raises
  :class:`~writ.errors.PermissionDenied`, one needing approval
  :class:`~writ.errors.ApprovalRequired` (its ``digest`` is what to approve; pass the token
  with ``cursor.execute(sql, params, approval=TOKEN)`` or ``connect(..., approval=...)``);
  either way the driver never sees the statement. Parameters are data and are not checked.
- ``fetchone``, ``fetchmany``, ``fetchall`` and iteration mask rows with
  ``Engine.mask_rows`` and the decision of the statement that produced them, using the column
  names in ``cursor.description``. Each fetch writes one masking event to the audit sinks. A
  row that cannot be masked raises :class:`~writ.errors.MaskError` and is not returned.
- Only the PEP 249 surface is exposed (``cursor``, ``commit``, ``rollback``, ``close``, the
  ``execute*`` shortcuts, context management): the raw driver connection is not reachable
  through the wrapper, so nothing runs around the checks.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from ._writ import Decision, Engine
from .guard import enforce

__all__ = ["connect", "Connection", "Cursor"]


class _Identity:
    __slots__ = ("engine", "principal", "groups", "resource", "grant", "approval")

    def __init__(
        self,
        engine: Engine,
        principal: Optional[str],
        groups: Sequence[str],
        resource: str,
        grant: Optional[str],
        approval: Optional[str],
    ) -> None:
        self.engine = engine
        self.principal = principal
        self.groups = list(groups)
        self.resource = resource
        self.grant = grant
        self.approval = approval

    def check(self, sql: str, approval: Optional[str]) -> Decision:
        if not isinstance(sql, str):
            raise TypeError(f"SQL must be a str, not {type(sql).__name__}")
        return enforce(
            self.engine.check_sql(
                self.principal,
                sql,
                resource=self.resource,
                groups=self.groups,
                grant=self.grant,
                approval=approval if approval is not None else self.approval,
            )
        )


class Cursor:
    """A PEP 249 cursor whose statements are checked and whose rows are masked."""

    def __init__(self, raw: Any, identity: _Identity) -> None:
        self._raw = raw
        self._identity = identity
        self._decision: Optional[Decision] = None

    @property
    def decision(self) -> Optional[Decision]:
        """The decision of the last statement executed."""
        return self._decision

    @property
    def description(self) -> Any:
        return self._raw.description

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)

    @property
    def lastrowid(self) -> Any:
        return getattr(self._raw, "lastrowid", None)

    @property
    def arraysize(self) -> int:
        return int(self._raw.arraysize)

    @arraysize.setter
    def arraysize(self, size: int) -> None:
        self._raw.arraysize = size

    def execute(
        self, sql: str, parameters: Any = None, *, approval: Optional[str] = None
    ) -> "Cursor":
        """Check ``sql``, then run it.

        Without ``parameters`` the driver is called with the statement alone, so drivers that
        format parameters (psycopg's ``%s``) leave a literal ``%`` in it untouched.
        """
        self._decision = None
        decision = self._identity.check(sql, approval)
        if parameters is None:
            self._raw.execute(sql)
        else:
            self._raw.execute(sql, parameters)
        self._decision = decision
        return self

    def executemany(
        self, sql: str, seq_of_parameters: Iterable[Any], *, approval: Optional[str] = None
    ) -> "Cursor":
        """Check ``sql`` once, then run it for every parameter set."""
        self._decision = None
        decision = self._identity.check(sql, approval)
        self._raw.executemany(sql, seq_of_parameters)
        self._decision = decision
        return self

    def executescript(self, script: str, *, approval: Optional[str] = None) -> "Cursor":
        """Check the whole script (every statement must be allowed), then run it."""
        if not hasattr(self._raw, "executescript"):
            raise AttributeError("the driver's cursor has no executescript")
        self._decision = None
        decision = self._identity.check(script, approval)
        self._raw.executescript(script)
        self._decision = decision
        return self

    def _mask(self, rows: list[Any]) -> list[Any]:
        decision = self._decision
        if decision is None:
            raise RuntimeError("no statement was executed through this cursor")
        if not rows:
            return rows
        return self._identity.engine.mask_rows(decision, self._raw.description, rows)

    def fetchone(self) -> Any:
        row = self._raw.fetchone()
        if row is None:
            return None
        return self._mask([row])[0]

    def fetchmany(self, size: Optional[int] = None) -> list[Any]:
        rows = self._raw.fetchmany(self._raw.arraysize if size is None else size)
        return self._mask(list(rows))

    def fetchall(self) -> list[Any]:
        return self._mask(list(self._raw.fetchall()))

    def __iter__(self) -> Iterator[Any]:
        while True:
            rows = self.fetchmany()
            if not rows:
                return
            yield from rows

    def setinputsizes(self, sizes: Any) -> None:
        self._raw.setinputsizes(sizes)

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        self._raw.setoutputsize(size, column)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Connection:
    """A PEP 249 connection whose cursors check and mask (see the module docs)."""

    def __init__(self, raw: Any, identity: _Identity) -> None:
        self._raw = raw
        self._identity = identity

    def cursor(self) -> Cursor:
        return Cursor(self._raw.cursor(), self._identity)

    def execute(
        self, sql: str, parameters: Any = None, *, approval: Optional[str] = None
    ) -> Cursor:
        """Open a cursor and execute ``sql`` on it (sqlite3-style shortcut)."""
        return self.cursor().execute(sql, parameters, approval=approval)

    def executemany(
        self, sql: str, seq_of_parameters: Iterable[Any], *, approval: Optional[str] = None
    ) -> Cursor:
        return self.cursor().executemany(sql, seq_of_parameters, approval=approval)

    def executescript(self, script: str, *, approval: Optional[str] = None) -> Cursor:
        return self.cursor().executescript(script, approval=approval)

    def commit(self) -> None:
        self._raw.commit()

    def rollback(self) -> None:
        self._raw.rollback()

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


def connect(
    connection: Union[Any, Callable[[], Any]],
    *,
    engine: Engine,
    principal: Optional[str],
    resource: str,
    groups: Sequence[str] = (),
    grant: Optional[str] = None,
    approval: Optional[str] = None,
) -> Connection:
    """Wrap a DB-API connection (or a function that opens one) so each statement is checked
    for ``principal`` on the policy resource ``resource`` and each row is masked.

    ``grant`` (a grant chain the principal holds) and ``approval`` (an approval token) are sent
    with every check.
    """
    raw = connection
    if not hasattr(raw, "cursor"):
        if not callable(raw):
            raise TypeError("connect() takes a DB-API connection or a function that opens one")
        raw = raw()
        if not hasattr(raw, "cursor"):
            raise TypeError("the connection factory did not return a DB-API connection")
    return Connection(raw, _Identity(engine, principal, groups, resource, grant, approval))
