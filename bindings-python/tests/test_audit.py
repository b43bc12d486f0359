"""Audit sinks as Python callables and hash-chained files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import writ

POLICY = """version: 1
resources: [{name: db, kind: sqlite}]
rules: [{id: reads, effect: allow, when: {sql: {read_only: true}}}]
"""


def test_callback_receives_one_event_per_check_and_per_masking() -> None:
    engine = writ.Engine.from_str(POLICY)
    events: list[dict[str, Any]] = []
    raw: list[str] = []
    engine.add_audit_sink(events.append)
    engine.add_audit_sink(raw.append, raw=True)
    d = engine.check_sql("agent:a", "SELECT 1", resource="db", groups=["g"])
    engine.check_sql("agent:a", "DELETE FROM t", resource="db")
    engine.mask_rows(d, ["x"], [(1,)])
    assert len(events) == 3 and len(raw) == 3
    first = events[0]
    assert first["class_uid"] == 6003
    assert first["actor"]["user"]["uid"] == "agent:a"
    assert first["writ"]["effect"] == "allow" and first["writ"]["rules"] == ["reads"]
    assert events[1]["writ"]["effect"] == "deny"
    assert events[2]["api"]["operation"] == "mask"
    assert json.loads(raw[0])["writ"]["digest"] == d.digest


def test_a_failing_callback_denies_the_request() -> None:
    engine = writ.Engine.from_str(POLICY)

    def broken(event: Any) -> None:
        raise RuntimeError("disk full")

    engine.add_audit_sink(broken)
    d = engine.check_sql("agent:a", "SELECT 1", resource="db")
    assert d.effect == "deny"
    assert "could not be audited" in d.reason and "RuntimeError: disk full" in d.reason


def test_on_failure_continue_keeps_the_decision() -> None:
    engine = writ.Engine.from_str(POLICY + "audit: {on_failure: continue}\n")
    engine.add_audit_sink(lambda event: 1 / 0)
    assert engine.check_sql("agent:a", "SELECT 1", resource="db").allowed


def test_a_failing_callback_refuses_masking() -> None:
    engine = writ.Engine.from_str(POLICY)
    d = engine.check_sql("agent:a", "SELECT 1", resource="db")
    engine.add_audit_sink(lambda event: 1 / 0)
    with pytest.raises(writ.AuditError, match="ZeroDivisionError"):
        engine.mask_rows(d, ["x"], [(1,)])


def test_sink_must_be_callable() -> None:
    with pytest.raises(TypeError):
        writ.Engine.from_str(POLICY).add_audit_sink("not callable")  # type: ignore[arg-type]


def test_audit_file_is_hash_chained(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    engine = writ.Engine.from_str(POLICY)
    engine.add_audit_file(log)
    for sql in ("SELECT 1", "SELECT 2", "DROP TABLE t"):
        engine.check_sql("agent:a", sql, resource="db")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["chain"]["seq"] for e in lines] == [0, 1, 2]
    assert lines[1]["chain"]["prev"] == lines[0]["chain"]["hash"]
    assert lines[2]["writ"]["effect"] == "deny"


def test_audit_file_errors(tmp_path: Path) -> None:
    engine = writ.Engine.from_str(POLICY)
    with pytest.raises(writ.AuditError):
        engine.add_audit_file(tmp_path / "no" / "such" / "dir" / "audit.jsonl")
    log = tmp_path / "locked.jsonl"
    engine.add_audit_file(log)
    with pytest.raises(writ.AuditError, match="another audit sink"):
        writ.Engine.from_str(POLICY).add_audit_file(log)
    with pytest.raises(writ.AuditError, match="key"):
        engine.add_audit_file(tmp_path / "k.jsonl", key=b"")
