"""An orchestrator agent delegates to a helper agent whose SQL tool goes through writ to a real
PostgreSQL server. No LLM: the agents' tool calls are a script, as a model would make them.

Who is who:

- the *host* (this process) holds the keys: an Ed25519 grant key and an approval key, both
  generated at start, trusted by the writ engine, never handed to an agent;
- the *orchestrator* (`agent:orchestrator`, group `analysts`) may do what policy.yaml allows
  its group: read customers, orders and payments, and delete orders with a data owner's
  approval;
- the *helper* (`agent:report-helper`) has nothing of its own: the orchestrator has the host
  mint it a short-lived grant, narrower than itself (customers and orders only, reads and
  deletes), and every statement of the helper's `run_sql` tool carries that grant;
- a *data owner* (`user:dana`, group `data-owners`) approves one pending request by signing its
  digest with the host's approval key.

`run_sql` runs through `writ.dbapi` wrapping a psycopg 3 connection: each statement is checked
before psycopg sees it, and every row that comes back is masked. A denied statement, or one
still waiting for approval, never reaches the server.

Approvals are one-shot here. The core honours an approval for its digest until it expires
(core/src/approval: "a host that wants one-shot approvals records the approval id and revokes
it after use"), so this host does exactly that: an audit sink sees the `honoured` approval of
the check that is deciding, records its id and revokes it before the statement runs, and checks
that carry an approval are serialized so two replays cannot both pass before the revocation.

Every call is checked against an expectation; the exit status is 1 when one differs. With
`--transcript`, each call is also written as one JSON line (run-test checks the server's log
and the audit log against it).

Usage: python agent.py --audit-log audit.jsonl [--transcript calls.jsonl] [--dbname writ_agent]
(connection settings from the PG* environment variables).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import psycopg

import writ
import writ.dbapi

HERE = Path(__file__).resolve().parent
RESOURCE = "agentdb"
ORCHESTRATOR = "agent:orchestrator"
ORCHESTRATOR_GROUPS = ["analysts"]
HELPER = "agent:report-helper"
DATA_OWNER = "user:dana"

# What the orchestrator lets the helper do: reads and deletes on customers and orders, nothing
# on payments (which the orchestrator itself may read). The policy still decides for the
# orchestrator, so a delete also needs its approval and a drop stays denied.
HELPER_SCOPE = {
    "resources": [RESOURCE],
    "sql": {"kinds": ["select", "delete"], "tables": ["public.customers", "public.orders"]},
}
HELPER_TTL = 300  # seconds


class OneShotApprovals:
    """An audit sink that makes every approval single-use.

    The core reports an honoured approval in the check's audit event (`writ.approval.id`);
    this sink records the id and revokes it on the engine before the check returns, so any
    later check presenting the same approval finds it revoked. An id seen twice (which the
    lock in `SqlTool` should make impossible) raises: a failing sink denies the request.
    """

    def __init__(self, engine: writ.Engine) -> None:
        self._engine = engine
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        approval = (event.get("writ") or {}).get("approval") or {}
        if approval.get("status") != "honoured":
            return
        approval_id = approval.get("id")
        if not approval_id:
            raise RuntimeError("an honoured approval without an id")
        with self._lock:
            if approval_id in self._used:
                raise RuntimeError(f"approval {approval_id} was already used")
            self._used.add(approval_id)
        self._engine.revoke(approval_id)

    @property
    def used(self) -> set[str]:
        with self._lock:
            return set(self._used)


class _NoEmptyParams:
    """psycopg 3 treats `%` as a placeholder whenever parameters are passed, even `()`, and
    `writ.dbapi` passes `()` when the caller gave none. This adapter gives psycopg `None` for
    empty parameters, so `LIKE 'a%'` reaches the server as checked (the SQL text is never
    changed)."""

    def __init__(self, raw: psycopg.Connection) -> None:
        self._raw = raw

    def cursor(self) -> "_Cursor":
        return _Cursor(self._raw.cursor())

    def commit(self) -> None:
        self._raw.commit()

    def rollback(self) -> None:
        self._raw.rollback()

    def close(self) -> None:
        self._raw.close()


class _Cursor:
    def __init__(self, raw: psycopg.Cursor[Any]) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Any = None) -> None:
        self._raw.execute(sql, params if params else None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def grant_link_ids(grant: str) -> list[str]:
    """The link ids of a grant chain (`writg2.` + links and then the chain's seal, joined by
    `~`, each base64url(JSON) `.` signature): what `engine.revoke` takes. The binding has no
    accessor for them, so the host reads its own grant's payload; nothing here is trusted for a
    decision."""
    ids = []
    for link in grant.removeprefix("writg2.").split("~")[:-1]:
        payload = link.split(".")[0]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        ids.append(str(data["id"]))
    return ids


class SqlTool:
    """The `run_sql` tool an agent framework would register for one agent."""

    def __init__(self, agent: str, conn: writ.dbapi.Connection, serial: threading.Lock,
                 grant_id: Optional[str] = None) -> None:
        self.agent = agent
        self.grant_id = grant_id  # the link id of the grant the agent holds, for the transcript
        self._conn = conn
        self._serial = serial

    def run_sql(self, sql: str, approval: Optional[str] = None) -> dict[str, Any]:
        """Run one SQL statement; what comes back is what the model would see."""
        try:
            if approval is None:
                return self._run(sql, None)
            with self._serial:  # one approval check (and its revocation) at a time
                return self._run(sql, approval)
        except writ.ApprovalRequired as pending:
            d = pending.decision
            return {"status": "approval_required", "rules": pending.rules,
                    "reason": d.reason if d is not None else str(pending), "digest": pending.digest,
                    "approval": d.approval_status if d is not None else None,
                    "approval_error": d.approval_error if d is not None else None}
        except writ.PermissionDenied as denied:
            d = denied.decision
            return {"status": "denied", "rules": denied.rules,
                    "reason": d.reason if d is not None else str(denied)}

    def _run(self, sql: str, approval: Optional[str]) -> dict[str, Any]:
        cur = self._conn.cursor()
        try:
            cur.execute(sql, approval=approval)
            rows = [list(r) for r in cur.fetchall()] if cur.description else []
            decision = cur.decision
            return {"status": "ok", "rowcount": cur.rowcount, "rows": rows,
                    "masked": decision.masked_columns if decision is not None else [],
                    "approver": decision.approver if decision is not None else None}
        finally:
            cur.close()


class Session:
    def __init__(self, transcript: Optional[Path]) -> None:
        self.failures: list[str] = []
        self.calls = 0
        self._out = transcript.open("w", encoding="utf-8") if transcript else None

    def call(self, tool: SqlTool, sql: str, expect: str, *, approval: Optional[str] = None,
             note: str = "", grant: str = "valid") -> dict[str, Any]:
        label = f" (with {note})" if note else ""
        print(f"\n{tool.agent}> run_sql({sql!r}){label}")
        result = tool.run_sql(sql, approval)
        self._record(tool, sql, expect, result, grant)
        return result

    def race(self, tool: SqlTool, sql: str, approval: str, copies: int) -> list[dict[str, Any]]:
        """The same approved call from `copies` threads at once (a retrying agent loop, a
        duplicated message): exactly one may run."""
        print(f"\n{tool.agent}> run_sql({sql!r}) x{copies} at once (with its approval)")
        results: list[Optional[dict[str, Any]]] = [None] * copies
        start = threading.Barrier(copies)

        def one(i: int) -> None:
            start.wait()
            results[i] = tool.run_sql(sql, approval)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = [r for r in results if r is not None]
        ran = sum(1 for r in done if r["status"] == "ok")
        if len(done) != copies or ran != 1:
            self.failures.append(f"{sql!r} x{copies}: {ran} of {len(done)} calls ran, expected 1")
        # The statement ran in one of the threads; which one is a matter of scheduling.
        for i, r in enumerate(sorted(done, key=lambda r: r["status"] != "ok")):
            self._record(tool, sql, "ok" if i == 0 else "approval_required", r, "valid",
                         race=True)
        return done

    def _record(self, tool: SqlTool, sql: str, expect: str, result: dict[str, Any],
                grant: str, race: bool = False) -> None:
        self.calls += 1
        status = result["status"]
        if status == "ok":
            print(f"  ok: {result['rowcount']} row(s); masked columns {result['masked']}")
            for row in result["rows"]:
                print("   ", row)
        elif status == "approval_required":
            print(f"  needs approval {result['rules']}: {result['reason']}")
            print(f"  digest {result['digest']}")
            if result.get("approval_error"):
                print(f"  the approval presented was rejected: {result['approval_error']}")
        else:
            print(f"  denied {result['rules']}: {result['reason']}")
        if status != expect:
            self.failures.append(f"call {self.calls} ({sql!r}): expected {expect}, got {status}")
            print(f"  !! expected {expect}")
        if self._out:
            record = {"call": self.calls, "agent": tool.agent, "sql": sql, "expect": expect,
                      "grant": grant if tool.grant_id else None, "grant_id": tool.grant_id,
                      "race": race, **result}
            self._out.write(json.dumps(record, default=str) + "\n")
            self._out.flush()

    def close(self) -> None:
        if self._out:
            self._out.close()


def connect(engine: writ.Engine, dbname: str, principal: str, *, groups: Sequence[str] = (),
            grant: Optional[str] = None) -> writ.dbapi.Connection:
    raw = psycopg.connect(dbname=dbname, autocommit=True,
                          application_name=f"writ-example {principal}")
    return writ.dbapi.connect(_NoEmptyParams(raw), engine=engine, principal=principal,
                              groups=groups, resource=RESOURCE, grant=grant)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit-log", required=True, type=Path)
    parser.add_argument("--transcript", type=Path)
    parser.add_argument("--dbname", default="writ_agent")
    args = parser.parse_args()

    # The host: policy, keys (generated now, held here), audit trail, one-shot approvals.
    engine = writ.Engine.from_path(HERE / "policy.yaml")
    grant_key = writ.keygen("orchestrator-grants")
    approval_key = writ.keygen("approvals")
    engine.trust_grant_key(grant_key.verifying_key())
    engine.trust_approval_key(approval_key.verifying_key())
    engine.add_audit_file(args.audit_log)
    approvals = OneShotApprovals(engine)
    engine.add_audit_sink(approvals)
    serial = threading.Lock()
    print(f"policy {engine.policy_version}; audit log {args.audit_log}")

    session = Session(args.transcript)
    orchestrator = SqlTool(ORCHESTRATOR, connect(engine, args.dbname, ORCHESTRATOR,
                                                 groups=ORCHESTRATOR_GROUPS), serial)
    session.call(orchestrator, "SELECT count(*) AS payments, sum(amount) AS total FROM payments",
                 "ok")

    # The orchestrator spawns a helper for a clean-up task, with a grant narrower than itself.
    grant = writ.mint_grant(grant_key, principal=ORCHESTRATOR, groups=ORCHESTRATOR_GROUPS,
                            to=HELPER, scope=HELPER_SCOPE, ttl=HELPER_TTL)
    [grant_id] = grant_link_ids(grant)
    print(f"\norchestrator> grant {grant_id} for {HELPER}: {json.dumps(HELPER_SCOPE)}, "
          f"{HELPER_TTL} s ({len(grant)} bytes)")
    helper = SqlTool(HELPER, connect(engine, args.dbname, HELPER, grant=grant), serial, grant_id)

    # Reads: e-mails and SSNs arrive masked, also through an alias and a join.
    session.call(helper, "SELECT * FROM customers ORDER BY id", "ok")
    session.call(helper, "SELECT c.name, c.email AS contact, o.id AS order_id, o.total "
                         "FROM customers c JOIN orders o ON o.customer_id = c.id "
                         "WHERE o.status = 'cancelled' ORDER BY o.id", "ok")
    session.call(helper, "SELECT name FROM customers WHERE email LIKE '%@example.org'", "ok")
    # Denied by the policy: a drop, a drop smuggled after a read, a probe of the masked SSN.
    session.call(helper, "DROP TABLE orders", "denied")
    session.call(helper, "SELECT name FROM customers; DROP TABLE customers", "denied")
    session.call(helper, "SELECT id FROM customers WHERE ssn LIKE '123-%'", "denied")
    # Outside the helper's grant, though the orchestrator itself may read payments.
    session.call(helper, "SELECT id, amount, card_last4 FROM payments WHERE amount > 100",
                 "denied")

    # A delete needs a data owner: refused with the digest to approve.
    delete = "DELETE FROM orders WHERE status = 'cancelled'"
    pending = session.call(helper, delete, "approval_required")
    digest = pending.get("digest")
    if not digest:
        session.failures.append("the pending delete came back without a digest")
        return finish(session, approvals)
    # The host shows the pending statement to a data owner, who approves exactly this digest.
    token = writ.sign_approval(approval_key, digest=digest, approver=DATA_OWNER,
                               groups=["data-owners"], ttl=300)
    print(f"\n{DATA_OWNER}> approved {digest}")
    # The approval does not cover another statement.
    session.call(helper, "DELETE FROM orders WHERE status = 'open'", "approval_required",
                 approval=token, note="the approval for the other delete")
    # The approved statement runs, once.
    done = session.call(helper, delete, "ok", approval=token, note="the approval")
    if done.get("status") == "ok" and done.get("rowcount") != 2:  # orders 102 and 103
        session.failures.append(f"the approved delete removed {done.get('rowcount')} rows, not 2")
    # Replayed with the same approval (a retrying agent loop, a copied token): refused.
    session.call(helper, delete, "approval_required", approval=token,
                 note="the same approval again")
    # A second approved delete, presented by four threads at once: it runs once.
    big = "DELETE FROM orders WHERE status = 'shipped' AND total > 300"
    pending = session.call(helper, big, "approval_required")
    if pending.get("digest"):
        token = writ.sign_approval(approval_key, digest=pending["digest"], approver=DATA_OWNER,
                                   groups=["data-owners"], ttl=300)
        print(f"\n{DATA_OWNER}> approved {pending['digest']}")
        session.race(helper, big, token, copies=4)
    else:
        session.failures.append("the second pending delete came back without a digest")
    session.call(helper, "SELECT id, status FROM orders ORDER BY id", "ok")

    # A grant is short-lived: one minted ten minutes ago for a minute is refused.
    stale = writ.mint_grant(grant_key, principal=ORCHESTRATOR, groups=ORCHESTRATOR_GROUPS,
                            to=HELPER, scope=HELPER_SCOPE, ttl=60, now=int(time.time()) - 600)
    late = SqlTool(HELPER, connect(engine, args.dbname, HELPER, grant=stale), serial,
                   grant_link_ids(stale)[0])
    session.call(late, "SELECT id, total FROM orders WHERE total > 50", "denied",
                 note="an expired grant", grant="expired")
    # The task is done: the orchestrator revokes the helper's grant before its expiry.
    engine.revoke(grant_id)
    print(f"\norchestrator> revoked grant {grant_id}")
    session.call(helper, "SELECT count(*) AS orders_left FROM orders", "denied",
                 note="the revoked grant", grant="revoked")
    return finish(session, approvals)


def finish(session: Session, approvals: OneShotApprovals) -> int:
    session.close()
    print(f"\n{session.calls} calls; approvals used once each: {sorted(approvals.used)}")
    if session.failures:
        for f in session.failures:
            print(f"FAIL: {f}", file=sys.stderr)
        return 1
    print("every call went as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
