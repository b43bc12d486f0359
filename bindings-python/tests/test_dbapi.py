"""`writ.dbapi` over the standard library's sqlite3: statements checked before the driver,
rows masked after it."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

import writ
import writ.dbapi

from conftest import NOW

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, ssn TEXT, notes TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL);
INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', '123-45-6789', 'call +1 415 555 0100');
INSERT INTO customers VALUES (2, 'Bob', 'bob@example.org', '987-65-4321', 'prefers e-mail');
INSERT INTO orders VALUES (10, 1, 99.5), (11, 2, 12.0);
"""


class Spy:
    """A sqlite3 connection that records what reached the driver."""

    def __init__(self) -> None:
        self.raw = sqlite3.connect(":memory:")
        self.raw.executescript(SCHEMA)
        self.statements: list[str] = []
        self.raw.set_trace_callback(self.statements.append)


@pytest.fixture
def spy() -> Spy:
    return Spy()


def _connect(spy: Spy, engine: writ.Engine, groups: Any = ("support",), **kw: Any) -> Any:
    return writ.dbapi.connect(spy.raw, engine=engine, principal="agent:support",
                              groups=list(groups), resource="appdb", **kw)


def test_rows_are_masked(spy: Spy, support_engine: writ.Engine) -> None:
    conn = _connect(spy, support_engine)
    cur = conn.cursor()
    cur.execute("SELECT id, name, email, ssn, notes FROM customers ORDER BY id")
    assert cur.decision is not None and cur.decision.allowed
    assert [c[0] for c in cur.description] == ["id", "name", "email", "ssn", "notes"]
    first = cur.fetchone()
    assert first[0] == 1 and first[1] == "Ada"
    assert first[2] != "ada@example.com" and first[3].endswith("6789") and "123" not in first[3]
    assert "415" not in first[4]
    rest = cur.fetchall()
    assert len(rest) == 1 and rest[0][2] != "bob@example.org"
    assert cur.fetchall() == [] and cur.fetchone() is None


def test_iteration_fetchmany_and_select_star(spy: Spy, support_engine: writ.Engine) -> None:
    conn = _connect(spy, support_engine)
    rows = list(conn.execute("SELECT * FROM customers ORDER BY id"))
    assert len(rows) == 2 and [r[2] for r in rows] == ["***@example.com", "***@example.org"]
    cur = conn.execute("SELECT email AS contact, upper(email) FROM customers WHERE id = ?", (1,))
    (row,) = cur.fetchmany(5)
    assert "ada@example.com" not in row[0] and "ADA@EXAMPLE.COM" not in row[1]


def test_leads_see_clear_values(spy: Spy, support_engine: writ.Engine) -> None:
    conn = _connect(spy, support_engine, groups=("support", "support-leads"))
    row = conn.execute("SELECT email, ssn FROM customers WHERE id = 1").fetchone()
    assert row == ("ada@example.com", "123-45-6789")


def test_denied_statements_never_reach_the_driver(spy: Spy, support_engine: writ.Engine) -> None:
    conn = _connect(spy, support_engine)
    spy.statements.clear()
    with pytest.raises(writ.PermissionDenied) as caught:
        conn.execute("DROP TABLE customers")
    assert caught.value.decision is not None and "no-drop" in caught.value.rules
    with pytest.raises(writ.PermissionDenied):
        conn.execute("UPDATE customers SET email = 'x'")
    with pytest.raises(writ.PermissionDenied):
        conn.executescript("SELECT 1 FROM orders; DELETE FROM customers")
    with pytest.raises(writ.PermissionDenied):
        conn.cursor().executemany("DELETE FROM customers WHERE id = ?", [(1,), (2,)])
    assert spy.statements == []
    assert spy.raw.execute("SELECT count(*) FROM customers").fetchone() == (2,)


def test_writes_and_executemany(spy: Spy, support_engine: writ.Engine) -> None:
    with _connect(spy, support_engine) as conn:
        cur = conn.cursor()
        cur.executemany("INSERT INTO orders (customer_id, total) VALUES (?, ?)",
                        [(1, 5.0), (2, 6.0)])
        assert cur.rowcount == 2
        assert conn.execute("INSERT INTO orders (customer_id, total) VALUES (1, 7.0)").lastrowid
    assert spy.raw.execute("SELECT count(*) FROM orders").fetchone() == (5,)


def test_approval_required_then_approved(spy: Spy, support_engine: writ.Engine) -> None:
    approvals = writ.SigningKey.from_seed("approvals", bytes([5] * 32))
    support_engine.trust_approval_key(approvals)
    conn = _connect(spy, support_engine)
    sql = "DELETE FROM orders WHERE id = 11"
    with pytest.raises(writ.ApprovalRequired) as caught:
        conn.execute(sql)
    digest = caught.value.digest
    assert digest and spy.raw.execute("SELECT count(*) FROM orders").fetchone() == (2,)
    token = writ.sign_approval(approvals, digest=digest, approver="user:lead",
                               groups=["support-leads"], ttl=300, now=NOW)
    cur = conn.execute(sql, approval=token)
    assert cur.decision is not None and cur.decision.approval_status == "honoured"
    assert spy.raw.execute("SELECT count(*) FROM orders").fetchone() == (1,)


def test_connection_factory_and_surface(support_engine: writ.Engine) -> None:
    conn = writ.dbapi.connect(lambda: sqlite3.connect(":memory:"), engine=support_engine,
                              principal="agent:support", groups=["support"], resource="appdb")
    assert not hasattr(conn, "raw") and not hasattr(conn, "create_function")
    with pytest.raises(TypeError):
        writ.dbapi.connect(42, engine=support_engine, principal="a", resource="appdb")
    with pytest.raises(TypeError):
        writ.dbapi.connect(lambda: 42, engine=support_engine, principal="a", resource="appdb")
    with pytest.raises(RuntimeError):
        conn.cursor().fetchall()
    conn.close()


def test_fetched_rows_are_audited(spy: Spy, support_engine: writ.Engine) -> None:
    events: list[dict] = []
    support_engine.add_audit_sink(events.append)
    conn = _connect(spy, support_engine)
    conn.execute("SELECT email FROM customers").fetchall()
    kinds = [e["api"]["operation"] for e in events]
    assert kinds == ["sql", "mask"]
    assert events[1]["writ"]["mask"]["rows"] == 2


class _RecordingCursor:
    """A raw cursor that records the arguments each execute() received."""

    description = None
    rowcount = -1
    arraysize = 1

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def execute(self, *args: Any) -> None:
        self.calls.append(args)

    def close(self) -> None:
        pass


class _RecordingConnection:
    def __init__(self) -> None:
        self.raw_cursor = _RecordingCursor()

    def cursor(self) -> _RecordingCursor:
        return self.raw_cursor

    def close(self) -> None:
        pass


def test_no_parameters_reach_the_driver_as_none_given(support_engine: writ.Engine) -> None:
    # psycopg formats `%` only when parameters are passed: an empty tuple would make it read
    # `LIKE 'a%'` as a placeholder. Without parameters, the driver gets the statement alone.
    raw = _RecordingConnection()
    conn = writ.dbapi.connect(raw, engine=support_engine, principal="agent:support",
                              groups=["support"], resource="appdb")
    sql = "SELECT id FROM orders WHERE id > 0"
    conn.cursor().execute(sql)
    conn.cursor().execute(sql, (1,))
    conn.execute(sql)
    assert raw.raw_cursor.calls == [(sql,), (sql, (1,)), (sql,)]
