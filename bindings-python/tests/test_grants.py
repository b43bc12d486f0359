"""Keys, grants for nested agents, and approvals bound to one request."""

from __future__ import annotations

import json

import pytest

import writ

from conftest import NOW, PACKS

READ_ORDERS = {
    "resources": ["warehouse"],
    "sql": {"kinds": ["select"], "read_only": True, "tables": ["public.orders"]},
}


@pytest.fixture
def keys() -> tuple[writ.SigningKey, writ.SigningKey]:
    return (
        writ.SigningKey.from_seed("host-1", bytes([11] * 32)),
        writ.SigningKey.from_seed("approvals-1", bytes([12] * 32)),
    )


@pytest.fixture
def orchestrator(keys: tuple[writ.SigningKey, writ.SigningKey]) -> writ.Engine:
    grants, approvals = keys
    engine = writ.Engine.from_path(PACKS / "orchestrator-grants", now=NOW)
    engine.trust_grant_key(grants.verifying_key())
    engine.trust_approval_key(approvals)
    return engine


def test_keys() -> None:
    key = writ.keygen("k1")
    assert key.kid == "k1" and key.algorithm == "ed25519"
    assert "k1" in repr(key) and "seed" not in repr(key).lower()
    public = key.verifying_key()
    jwk = public.to_jwk()
    assert jwk is not None and json.loads(jwk)["kid"] == "k1"
    assert writ.VerifyingKey.from_jwk(jwk).kid == "k1"
    assert writ.VerifyingKey.from_jwk(json.loads(jwk)).algorithm == "ed25519"
    hmac = writ.SigningKey.hmac("h", b"s" * 32)
    assert hmac.algorithm == "hmac-sha256" and hmac.verifying_key().to_jwk() is None
    assert writ.SigningKey.generate("x").kid == "x"


@pytest.mark.parametrize(
    "make",
    [
        lambda: writ.SigningKey.from_seed("k", b"short"),
        lambda: writ.SigningKey.from_seed("", bytes(32)),
        lambda: writ.SigningKey.hmac("k", b"too short"),
        lambda: writ.SigningKey.from_pem("k", "-----BEGIN PRIVATE KEY-----\nnope\n"),
        lambda: writ.VerifyingKey.from_pem("k", "not a pem"),
        lambda: writ.VerifyingKey.from_jwk('{"kty": "RSA", "kid": "k"}'),
        lambda: writ.VerifyingKey.from_bytes("k", b"\x01" * 31),
        lambda: writ.keygen(""),
    ],
)
def test_bad_keys_raise_invalid_key_error(make: object) -> None:
    with pytest.raises(writ.InvalidKeyError) as caught:
        make()  # type: ignore[operator]
    assert isinstance(caught.value, writ.TokenError)


def test_engine_trusts_only_keys(orchestrator: writ.Engine) -> None:
    with pytest.raises(TypeError):
        orchestrator.trust_grant_key("-----BEGIN PUBLIC KEY-----")  # type: ignore[arg-type]


def test_a_helper_reads_one_table_with_its_grant(
    orchestrator: writ.Engine, keys: tuple[writ.SigningKey, writ.SigningKey]
) -> None:
    host, _ = keys
    grant = writ.mint_grant(
        host, principal="agent:orchestrator", to="agent:reporting-helper",
        scope=READ_ORDERS, ttl=600, depth=1, now=NOW,
    )
    assert grant.startswith("writg2.")

    def helper(sql: str) -> writ.Decision:
        return orchestrator.check_sql(
            "agent:reporting-helper", sql, resource="warehouse", grant=grant
        )

    allowed = helper("SELECT id, total FROM orders WHERE total > 100")
    assert allowed.allowed, allowed.reason
    assert allowed.principal == "agent:orchestrator"
    assert allowed.delegates == ["agent:reporting-helper"]
    for sql in ("SELECT * FROM customers", "UPDATE orders SET status = 'x' WHERE id = 1",
                "DROP TABLE orders"):
        assert helper(sql).effect == "deny", sql
    # Without the grant the helper has nothing of its own.
    assert not orchestrator.check_sql(
        "agent:reporting-helper", "SELECT id FROM orders", resource="warehouse"
    ).allowed

    # A child may be narrower, never wider.
    child = writ.mint_grant(
        host, parent=grant, to="agent:sub", scope=READ_ORDERS, ttl=60, now=NOW
    )
    assert orchestrator.check_sql("agent:sub", "SELECT id FROM orders", resource="warehouse",
                                  grant=child).allowed
    wider = dict(READ_ORDERS, sql={"kinds": ["select", "update"], "tables": ["public.*"]})
    with pytest.raises(writ.GrantError, match="wider"):
        writ.mint_grant(host, parent=grant, to="agent:sub", scope=wider, ttl=60, now=NOW)
    with pytest.raises(writ.GrantError, match="parent grant rejected"):
        writ.mint_grant(writ.keygen("other"), parent=grant, to="agent:sub",
                        scope=READ_ORDERS, ttl=60, now=NOW)

    # Revocation.
    orchestrator.revoke(grant_link_id(grant))
    assert helper("SELECT id FROM orders").effect == "deny"


def grant_link_id(grant: str) -> str:
    import base64

    segment = grant.removeprefix("writg2.").split("~")[0].split(".")[0]
    padded = segment + "=" * (-len(segment) % 4)
    return str(json.loads(base64.urlsafe_b64decode(padded))["id"])


def test_untrusted_grant_is_denied(keys: tuple[writ.SigningKey, writ.SigningKey]) -> None:
    engine = writ.Engine.from_path(PACKS / "orchestrator-grants", now=NOW)
    grant = writ.mint_grant(keys[0], principal="agent:orchestrator", to="agent:h",
                            scope=READ_ORDERS, ttl=600, now=NOW)
    d = engine.check_sql("agent:h", "SELECT id FROM orders", resource="warehouse", grant=grant)
    assert d.effect == "deny" and "unknown key" in d.reason


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"principal": "agent:o", "ttl": 0}, "ttl"),
        ({"principal": "agent:o", "ttl": 10**6}, "ttl"),
        ({"ttl": 60}, "exactly one"),
        ({"principal": "agent:o", "parent": "writg2.x", "ttl": 60}, "exactly one"),
        ({"principal": "agent:o", "ttl": 60, "scope": {"sql": {"bogus": 1}}}, "scope"),
        ({"principal": "agent:o", "ttl": 60, "bound_to": "nope"}, "digest"),
        ({"parent": "not-a-grant", "ttl": 60}, "malformed"),
    ],
)
def test_mint_errors(keys: tuple[writ.SigningKey, writ.SigningKey], kwargs: dict, fragment: str) -> None:
    args = {"to": "agent:h", "scope": READ_ORDERS, "now": NOW}
    args.update(kwargs)
    with pytest.raises(writ.GrantError, match=fragment):
        writ.mint_grant(keys[0], **args)


def test_single_use_grant_bound_to_one_request(
    orchestrator: writ.Engine, keys: tuple[writ.SigningKey, writ.SigningKey]
) -> None:
    request = {"principal": {"id": "agent:h"}, "resource": "warehouse",
               "action": {"sql": "SELECT id FROM orders"}}
    digest = writ.request_digest(
        {"principal": {"id": "agent:orchestrator"}, "resource": "warehouse",
         "action": {"sql": "SELECT id FROM orders"}}
    )
    grant = writ.mint_grant(keys[0], principal="agent:orchestrator", to="agent:h",
                            scope=READ_ORDERS, ttl=600, bound_to=digest, now=NOW)
    first = orchestrator.check(dict(request, grant=grant))
    assert first.allowed, first.reason
    again = orchestrator.check(dict(request, grant=grant))
    assert again.effect == "deny" and "already used" in again.reason


def test_approval_turns_approval_required_into_allow(
    orchestrator: writ.Engine, keys: tuple[writ.SigningKey, writ.SigningKey]
) -> None:
    _, approvals = keys
    sql = "ALTER TABLE orders ADD COLUMN note text"
    pending = orchestrator.check_sql("agent:orchestrator", sql, resource="warehouse")
    assert pending.effect == "approval_required" and pending.approval_required
    token = writ.sign_approval(approvals, digest=pending.digest, approver="user:dana",
                               groups=["dba"], ttl=300, now=NOW)
    approved = orchestrator.check_sql("agent:orchestrator", sql, resource="warehouse",
                                      approval=token)
    assert approved.allowed and approved.approval_status == "honoured"
    assert approved.approver == "user:dana" and approved.policy_effect == "approval_required"
    # The same token does not approve another statement.
    other = orchestrator.check_sql("agent:orchestrator", sql + " DEFAULT ''",
                                   resource="warehouse", approval=token)
    assert other.effect == "approval_required" and other.approval_status == "rejected"
    assert other.approval_error and "not for this one" in other.approval_error
    # An approver outside the approver groups is not enough.
    outsider = writ.sign_approval(approvals, digest=pending.digest, approver="user:eve",
                                  groups=["interns"], ttl=300, now=NOW)
    assert orchestrator.check_sql("agent:orchestrator", sql, resource="warehouse",
                                  approval=outsider).approval_required
    # An approval never turns a deny into allow.
    deny = orchestrator.check_sql("agent:orchestrator", "DROP TABLE orders", resource="warehouse",
                                  approval=token)
    assert deny.effect == "deny"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"digest": "nope"}, "digest"),
        ({"ttl": 0}, "ttl"),
        ({"approver": ""}, "approver"),
    ],
)
def test_sign_approval_errors(keys: tuple[writ.SigningKey, writ.SigningKey], kwargs: dict,
                              fragment: str) -> None:
    args = {"digest": "sha256:" + "0" * 64, "approver": "user:d", "ttl": 60, "now": NOW}
    args.update(kwargs)
    with pytest.raises(writ.ApprovalError, match=fragment) as caught:
        writ.sign_approval(keys[1], **args)
    assert isinstance(caught.value, writ.TokenError)
