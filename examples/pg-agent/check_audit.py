"""run-test's audit check: the audit log written by agent.py against its transcript.

Usage: python check_audit.py AUDIT_LOG TRANSCRIPT [CLEAR_VALUES]

The chain itself is verified by `writ audit verify` (run-test); this checks the content:
- one decision event per tool call, in order, with the call's SQL and effect;
- every call the helper made with its valid grant carries `actor.delegation` naming the helper
  and that grant's link id, decided for the orchestrator (`actor.user.uid`); the
  orchestrator's own calls carry no delegation; calls with the expired or revoked grant are
  denied before any principal is established (no actor, no delegation) and name the grant in
  their reason;
- exactly two events honour an approval (the two approved DELETEs, by the data owner, one
  approval each), and every later call presenting the same approval, including the copies
  sent concurrently, is refused because that approval id is revoked;
- masking events exist for the reads that returned rows, and no event anywhere holds a clear
  e-mail or SSN (CLEAR_VALUES: a file with one value a line).
Prints each failure and exits 1 when there is one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ORCHESTRATOR = "agent:orchestrator"
HELPER = "agent:report-helper"
EFFECT = {"ok": "allow", "denied": "deny", "approval_required": "approval_required"}

failures: list[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print(f"FAIL (audit): {message}", file=sys.stderr)


def align(calls: list[dict[str, Any]], decisions: list[dict[str, Any]]
          ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pair each call with its decision event. Calls made concurrently (`race`: the same
    statement from several threads) are recorded in no particular order, so within such a
    group calls and events are paired by effect (the one allowed first), which is all that
    distinguishes them."""
    pairs = []
    i = 0
    while i < min(len(calls), len(decisions)):
        call = calls[i]
        if not call.get("race"):
            pairs.append((call, decisions[i]))
            i += 1
            continue
        j = i
        while j < len(calls) and calls[j].get("race") and calls[j]["sql"] == call["sql"]:
            j += 1
        group = sorted(calls[i:j], key=lambda c: c["status"] != "ok")
        events = sorted(decisions[i:j], key=lambda e: e["writ"].get("effect") != "allow")
        pairs.extend(zip(group, events))
        i = j
    return pairs


def main() -> int:
    audit_path, transcript_path = Path(sys.argv[1]), Path(sys.argv[2])
    audit_text = audit_path.read_text(encoding="utf-8")
    events = [json.loads(line) for line in audit_text.splitlines() if line.strip()]
    calls = [json.loads(line) for line in transcript_path.read_text().splitlines() if line]
    decisions = [e for e in events if e["api"]["operation"] != "mask"]
    masks = [e for e in events if e["api"]["operation"] == "mask"]
    if not calls:
        fail("the transcript has no calls")
    if len(decisions) != len(calls):
        fail(f"{len(decisions)} decision events for {len(calls)} tool calls")

    honoured: list[dict[str, Any]] = []
    for call, event in align(calls, decisions):
        where = f"call {call['call']} ({call['sql']!r})"
        w = event["writ"]
        actor = event.get("actor") or {}
        delegation = actor.get("delegation") or []
        if w.get("effect") != EFFECT[call["status"]]:
            fail(f"{where}: audit effect {w.get('effect')}, the tool saw {call['status']}")
        approval = w.get("approval") or {}
        if approval.get("status") == "honoured":
            honoured.append({"call": call, "approval": approval, "seq": event["chain"]["seq"]})
        grant = call.get("grant")
        if call["agent"] == ORCHESTRATOR:
            if delegation:
                fail(f"{where}: the orchestrator's own call carries a delegation {delegation}")
        elif grant == "valid":
            expected = [{"uid": HELPER, "grant_id": call["grant_id"]}]
            if delegation != expected:
                fail(f"{where}: actor.delegation is {delegation}, expected {expected}")
        elif grant in ("expired", "revoked"):
            if delegation or actor.get("user"):
                fail(f"{where}: a call with an {grant} grant has an actor {actor}")
            if w.get("effect") != "deny" or call["grant_id"] not in (w.get("reason") or "") \
                    or grant not in (w.get("reason") or ""):
                fail(f"{where}: expected a deny naming the {grant} grant "
                     f"{call['grant_id']}, got {w.get('effect')}: {w.get('reason')}")
            continue
        else:
            fail(f"{where}: unknown grant state {grant!r}")
            continue
        user = actor.get("user") or {}
        if user.get("uid") != ORCHESTRATOR:
            fail(f"{where}: decided for {user.get('uid')}, not {ORCHESTRATOR}")
        request_sql = ((w.get("request") or {}).get("action") or {}).get("sql")
        if request_sql != call["sql"]:
            fail(f"{where}: the event's request is {request_sql!r}")

    approved_sql = {h["call"]["sql"] for h in honoured}
    ids = {h["approval"].get("id") for h in honoured}
    if len(honoured) != 2 or len(approved_sql) != 2 or len(ids) != 2:
        fail(f"{len(honoured)} events honour an approval ({len(ids)} approvals, "
             f"{len(approved_sql)} statements), expected 2 each")
    pairs = list(align(calls, decisions))
    for h in honoured:
        sql, approval_id, seq = h["call"]["sql"], h["approval"].get("id"), h["seq"]
        if not sql.startswith("DELETE") or h["approval"].get("approver") != "user:dana":
            fail(f"the approval {approval_id} is honoured on {sql!r} by "
                 f"{h['approval'].get('approver')}")
        replays = [(c, e) for c, e in pairs
                   if e["chain"]["seq"] > seq and c["sql"] == sql]
        if not replays:
            fail(f"no replay of the approved {sql!r} was attempted")
        for c, e in replays:
            a = e["writ"].get("approval") or {}
            if e["writ"].get("effect") == "allow" or a.get("status") != "rejected" \
                    or f"`{approval_id}` is revoked" not in (a.get("error") or ""):
                fail(f"replay call {c['call']}: {e['writ'].get('effect')}, approval {a}")
        before = [c for c, e in pairs if e["chain"]["seq"] < seq and c["sql"] == sql
                  and c.get("approval") == "rejected"]
        if any("revoked" in (c.get("approval_error") or "") for c in before):
            fail(f"a call before the approved {sql!r} already saw its approval revoked")

    reads_with_rows = [c for c in calls if c["status"] == "ok" and c.get("rows")]
    if len(masks) < len(reads_with_rows):
        fail(f"{len(masks)} masking events for {len(reads_with_rows)} reads that returned rows")
    for e in masks:
        if not (e["writ"].get("mask") is not None):
            fail(f"masking event {e['chain']['seq']} has no mask summary")

    if len(sys.argv) > 3:
        clear = [v for v in Path(sys.argv[3]).read_text().splitlines() if v]
        for value in clear:
            if value in audit_text:
                fail(f"the clear value {value!r} is in the audit log")

    if failures:
        return 1
    helper_events = sum(1 for c in calls if c["agent"] == HELPER and c.get("grant") == "valid")
    print(f"audit: {len(events)} events ({len(decisions)} decisions, {len(masks)} masking "
          f"passes); {helper_events} helper calls carry its delegation; "
          f"{len(honoured)} approvals honoured, once each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
