"""An agent's tools guarded end to end by writ: no network, no LLM.

The "agent" below is a script of tool calls, as a model would make them, and `call` is what
an agent framework does with each: run the tool, or hand the model the reason it did not run.

- `run_sql(query)` reads through `writ.dbapi`: each statement is checked against policy.yaml
  before SQLite sees it, and every row that comes back is masked.
- `cancel_order(order_id)` is decorated with `@writ.guard`: the call (tool name and
  arguments) is checked before the function runs. The policy says a support lead must approve
  it: the first call raises `writ.ApprovalRequired` with the request's digest, a lead signs an
  approval for exactly that digest, and the same call then runs.

Every decision and masking pass lands in a hash-chained audit log.

Run:  python examples/python/guarded_tool.py
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, Callable

import writ
import writ.dbapi

HERE = Path(__file__).resolve().parent
AGENT = "agent:support-bot"
GROUPS = ["support"]

engine = writ.Engine.from_path(HERE / "policy.yaml")
approval_key = writ.keygen("approvals-1")  # held by the host, never by the agent
engine.trust_approval_key(approval_key)
approved: dict[str, str] = {}  # request digest -> approval token, filled by the host
audit_log = Path(tempfile.mkdtemp()) / "audit.jsonl"
engine.add_audit_file(audit_log)

database = sqlite3.connect(":memory:")
database.executescript(
    """
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, status TEXT);
    INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', '+1 415 555 0100');
    INSERT INTO orders VALUES (7, 1, 129.0, 'open');
    """
)
shop = writ.dbapi.connect(database, engine=engine, principal=AGENT, groups=GROUPS,
                          resource="shop")


def run_sql(query: str) -> list[Any]:
    """Tool: run one SQL query on the shop database."""
    return shop.execute(query).fetchall()


@writ.guard(engine, principal=AGENT, groups=GROUPS, resource="agent-tools", approvals=approved)
def cancel_order(order_id: int) -> str:
    """Tool: cancel an order."""
    shop.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    shop.commit()
    return f"order {order_id} cancelled"


def call(tool: Callable[..., Any], *args: Any) -> Any:
    print(f"\nagent> {tool.__name__}{args!r}")
    try:
        result = tool(*args)
    except writ.ApprovalRequired as pending:
        print(f"tool>  needs approval ({pending.rules}): {pending.digest}")
        return pending
    except writ.PermissionDenied as denied:
        reason = denied.decision.reason if denied.decision is not None else str(denied)
        print(f"tool>  denied ({denied.rules}): {reason}")
        return denied
    print(f"tool>  {result}")
    return result


call(run_sql, "SELECT name, email, phone FROM customers")
call(run_sql, "SELECT c.email AS contact, o.total FROM customers c "
              "JOIN orders o ON o.customer_id = c.id")
call(run_sql, "DROP TABLE orders")
call(run_sql, "SELECT * FROM sqlite_master")

pending = call(cancel_order, 7)
if isinstance(pending, writ.ApprovalRequired) and pending.digest:
    # The host shows the pending call to a support lead, who approves exactly this request.
    approved[pending.digest] = writ.sign_approval(
        approval_key, digest=pending.digest, approver="user:lead", groups=["support-leads"],
        ttl=300,
    )
    print("lead>  approved")
    call(cancel_order, 7)
call(cancel_order, 8)  # another order: the approval does not cover it
call(run_sql, "SELECT id, status FROM orders")

events = [json.loads(line) for line in audit_log.read_text().splitlines()]
print(f"\naudit: {len(events)} hash-chained events in {audit_log}: "
      + ", ".join(e["writ"]["effect"] if e["api"]["operation"] != "mask" else "mask"
                  for e in events))
