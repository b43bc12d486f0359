"""The Engine API: loading, the check helpers, decisions, reload, and every error path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import writ
from writ import Effect

from conftest import NOW, PACKS, SUPPORT_POLICY

ANALYST = {"id": "agent:analytics", "groups": ["analysts"]}

MINIMAL = """version: 1
resources: [{name: db, kind: postgres}]
rules:
  - {id: reads, effect: allow, when: {sql: {read_only: true}}}
"""


def test_from_path_and_properties(data_agents: writ.Engine) -> None:
    assert data_agents.resources == ["warehouse", "app-db"]
    assert data_agents.policy_version.startswith("sha256:")
    assert "analytics-read" in data_agents.rule_ids
    assert "warehouse" in repr(data_agents)


def test_from_str_yaml_and_json() -> None:
    yaml_engine = writ.Engine.from_str(MINIMAL)
    doc = {
        "version": 1,
        "resources": [{"name": "db", "kind": "postgres"}],
        "rules": [{"id": "reads", "effect": "allow", "when": {"sql": {"read_only": True}}}],
    }
    json_engine = writ.Engine.from_str(json.dumps(doc), format="json")
    for engine in (yaml_engine, json_engine):
        assert engine.check_sql("a", "SELECT 1", resource="db").allowed
        assert not engine.check_sql("a", "DELETE FROM t", resource="db").allowed
    named = writ.Engine.from_str(json.dumps(doc), name="inline.json")
    assert named.check_sql("a", "SELECT 1", resource="db").allowed


def test_check_sql_decision_attributes(data_agents: writ.Engine) -> None:
    d = data_agents.check_sql(
        "agent:analytics", "SELECT * FROM orders", resource="warehouse", groups=["analysts"]
    )
    assert d.effect is Effect.ALLOW and d.effect == "allow" and str(d.effect) == "allow"
    assert d.allowed and not d.approval_required
    assert d.rules == ["analytics-read"]
    assert d.reason
    assert d.digest.startswith("sha256:") and d.policy == data_agents.policy_version
    assert d.resource == "warehouse" and d.principal == "agent:analytics"
    assert d.groups == ["analysts"] and d.delegates == []
    assert d.policy_effect is Effect.ALLOW
    assert d.approval_status == "none" and d.approver is None and d.approval_error is None
    assert [p["effect"] for p in d.parts] == [Effect.ALLOW]
    assert d.view is not None and d.view["sql"]["statements"][0]["kind"] == "select"
    as_dict = d.to_dict()
    assert as_dict["effect"] == "allow" and as_dict["rules"] == ["analytics-read"]
    assert json.loads(d.to_json()) == as_dict
    assert "allow" in repr(d)


def test_a_decision_has_no_truth_value(data_agents: writ.Engine) -> None:
    d = data_agents.check_sql("agent:analytics", "DROP TABLE orders", resource="warehouse")
    with pytest.raises(TypeError, match="decision.allowed"):
        bool(d)
    with pytest.raises(TypeError):
        if d:  # noqa: SIM108 - the point is that this raises
            pass


def test_hidden_write_is_denied(data_agents: writ.Engine) -> None:
    d = data_agents.check_sql(
        "agent:analytics",
        "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
        resource="warehouse",
        groups=["analysts"],
    )
    assert d.effect == Effect.DENY and not d.allowed


def test_check_accepts_dict_json_text_and_bytes(data_agents: writ.Engine) -> None:
    request = {"principal": ANALYST, "resource": "warehouse", "action": {"sql": "SELECT 1"}}
    by_dict = data_agents.check(request)
    by_text = data_agents.check(json.dumps(request))
    by_bytes = data_agents.check(json.dumps(request).encode())
    assert by_dict.digest == by_text.digest == by_bytes.digest
    assert by_dict.effect == by_text.effect == by_bytes.effect
    assert writ.request_digest(request) == by_dict.digest


def test_command_argv_http_and_tool_helpers() -> None:
    shell = writ.Engine.from_path(PACKS / "coding-agent-shell")
    assert shell.check_command("agent:coder", "rm -rf /", resource="workspace").effect == "deny"
    argv = shell.check_argv("agent:coder", ["rm", "-rf", "/"], resource="workspace")
    assert argv.effect == "deny"
    mcp = writ.Engine.from_path(PACKS / "mcp-agent")
    read = mcp.check_tool(
        "agent:mcp-1", "read_file", {"path": "src/main.rs"}, resource="mcp"
    )
    assert read.allowed, read.reason
    secret = mcp.check_tool("agent:mcp-1", "read_file", {"path": "app.env"}, resource="mcp")
    assert secret.effect == "deny" and "no-secret-files" in secret.rules
    routed = mcp.check_tool(
        "agent:mcp-1", "postgres_query", {"query": "SELECT * FROM users"}, resource="mcp"
    )
    assert routed.effect == "deny" and "no-user-table" in routed.rules
    http = mcp.check_http("agent:mcp-1", "DELETE", "https://api.github.com/repos/a/b",
                          resource="github")
    assert http.effect in ("deny", "approval_required")


def test_undeclared_resource_and_wrong_kind_are_denied(data_agents: writ.Engine) -> None:
    d = data_agents.check_sql("agent:analytics", "SELECT 1", resource="nope")
    assert d.effect == "deny" and d.view is None and d.parts == []
    d = data_agents.check_command("agent:analytics", "ls", resource="warehouse")
    assert d.effect == "deny"


def test_no_principal_is_denied(data_agents: writ.Engine) -> None:
    d = data_agents.check_sql(None, "SELECT 1", resource="warehouse")
    assert d.effect == "deny" and d.principal is None


# --- errors ---------------------------------------------------------------------------------


def test_policy_error_carries_file_line_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nresources: [{name: db, kind: postgres}]\nrules:\n  - {id: r, effect: allowed}\n")
    with pytest.raises(writ.PolicyError) as caught:
        writ.Engine.from_path(bad)
    error = caught.value
    assert isinstance(error, writ.WritError)
    assert error.file == str(bad) and error.line == 4 and error.column is not None
    assert len(error.diagnostics) == 1
    first = error.diagnostics[0]
    assert isinstance(first, writ.Diagnostic)
    assert (first.file, first.line) == (str(bad), 4)
    assert "allowed" in first.message
    assert str(first).startswith(f"{bad}:4:")
    assert f"{bad}:4:" in str(error)


def test_policy_error_lists_every_problem() -> None:
    text = """version: 1
resources: [{name: db, kind: postgres}]
rules:
  - {id: same, effect: allow, when: {resources: [nope]}}
  - {id: same, effect: deny}
"""
    with pytest.raises(writ.PolicyError) as caught:
        writ.Engine.from_str(text, name="inline.yaml")
    assert len(caught.value.diagnostics) >= 2
    assert all(d.file == "inline.yaml" for d in caught.value.diagnostics)


def test_unreadable_policy_path(tmp_path: Path) -> None:
    with pytest.raises(writ.PolicyError) as caught:
        writ.Engine.from_path(tmp_path / "missing.yaml")
    assert caught.value.diagnostics == [] and caught.value.file is None
    assert "missing.yaml" in str(caught.value)
    with pytest.raises(writ.PolicyError, match="no policy documents"):
        writ.Engine.from_path(tmp_path)


def test_bad_format_argument() -> None:
    with pytest.raises(ValueError, match="format"):
        writ.Engine.from_str(MINIMAL, format="toml")


@pytest.mark.parametrize(
    "request_value, fragment",
    [
        ({"resource": "db", "action": {"sql": "SELECT 1"}, "extra": 1}, "unknown field"),
        ({"resource": "db", "action": {"shell": "ls"}}, "unknown variant"),
        ({"principal": {"id": "a"}, "action": {"sql": "SELECT 1"}}, "resource"),
        ("{not json", "invalid request"),
        ({"resource": "db", "action": {"tool": {"name": "t", "arguments": {1: 2}}}}, "str"),
        ({"resource": "db", "action": {"tool": {"name": "t", "arguments": {"x": object()}}}},
         "not JSON"),
        ({"resource": "db", "action": {"tool": {"name": "t", "arguments": {"x": float("nan")}}}},
         "NaN"),
        ({"resource": "db", "action": {"tool": {"name": "t", "arguments": {"x": 2**70}}}},
         "64-bit"),
    ],
)
def test_malformed_requests_raise_request_error(request_value: object, fragment: str) -> None:
    engine = writ.Engine.from_str(MINIMAL)
    with pytest.raises(writ.RequestError, match=fragment) as caught:
        engine.check(request_value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, writ.WritError)


def test_tool_arguments_must_be_json(support_engine: writ.Engine) -> None:
    with pytest.raises(writ.RequestError, match="invalid tool arguments"):
        support_engine.check_tool("agent:support", "refund", {"amount": {1, 2}}, resource="tools")


def test_exception_tree() -> None:
    assert issubclass(writ.PolicyError, writ.WritError)
    assert issubclass(writ.RequestError, writ.WritError)
    for cls in (writ.GrantError, writ.ApprovalError, writ.InvalidKeyError):
        assert issubclass(cls, writ.TokenError) and issubclass(cls, writ.WritError)
    assert issubclass(writ.ApprovalRequired, writ.PermissionDenied)
    assert issubclass(writ.MaskError, writ.WritError) and issubclass(writ.AuditError, writ.WritError)


# --- reload ---------------------------------------------------------------------------------


def test_reload_swaps_the_policy_and_a_bad_reload_keeps_the_old(tmp_path: Path) -> None:
    engine = writ.Engine.from_str(MINIMAL)
    old = engine.policy_version
    assert not engine.check_sql("a", "DELETE FROM t", resource="db").allowed
    engine.reload_str(MINIMAL.replace("read_only: true", "kinds: [select, delete]"))
    assert engine.policy_version != old
    assert engine.check_sql("a", "DELETE FROM t", resource="db").allowed
    current = engine.policy_version
    with pytest.raises(writ.PolicyError):
        engine.reload_str("version: 1\nrules: [{id: x, effect: maybe}]\n")
    assert engine.policy_version == current
    assert engine.check_sql("a", "DELETE FROM t", resource="db").allowed
    path = tmp_path / "p.yaml"
    path.write_text(MINIMAL)
    engine.reload_path(path)
    assert engine.policy_version == old
    with pytest.raises(writ.PolicyError):
        engine.reload_path(tmp_path / "gone.yaml")
    assert engine.policy_version == old


def test_fixed_clock_is_used(support_engine: writ.Engine) -> None:
    # A grant minted at NOW with a short TTL verifies under the engine's fixed clock.
    key = writ.SigningKey.from_seed("host", bytes(32))
    support_engine.trust_grant_key(key)
    grant = writ.mint_grant(
        key, principal="agent:support", groups=["support"], to="agent:helper",
        scope={"resources": ["appdb"], "sql": {"read_only": True}}, ttl=60, now=NOW,
    )
    d = support_engine.check_sql("agent:helper", "SELECT id FROM orders", resource="appdb",
                                 grant=grant)
    assert d.allowed, d.reason
    assert str(SUPPORT_POLICY)
