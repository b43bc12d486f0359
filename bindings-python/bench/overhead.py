"""Binding call overhead: `Engine.check_sql` through Python against the same check through
`writ::Host` in Rust (examples/core_check.rs), both on a release build. Not a test: run

    WRIT_PY_PROFILE=release ./scripts/test-python     # or any release install of writ
    cargo build --release -p writ-python --example core_check
    target/py-venv/bin/python bindings-python/bench/overhead.py

It prints ns per call for each path and the difference (the budget in shared/DESIGN.md is under
1 us over the core).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import writ

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies" / "data-agents"
SQL = "SELECT id, total FROM orders WHERE total > 100"
ITERATIONS = 200_000


def best_of(fn, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for _ in range(ITERATIONS):
            fn()
        best = min(best, (time.perf_counter_ns() - started) / ITERATIONS)
    return best


def main() -> int:
    engine = writ.Engine.from_path(PACK)
    groups = ["analysts"]
    request = {"principal": {"id": "agent:analytics", "groups": groups},
               "resource": "warehouse", "action": {"sql": SQL}}
    assert engine.check_sql("agent:analytics", SQL, resource="warehouse", groups=groups).allowed
    python_sql = best_of(
        lambda: engine.check_sql("agent:analytics", SQL, resource="warehouse", groups=groups)
    )
    python_dict = best_of(lambda: engine.check(request))
    python_effect = best_of(
        lambda: engine.check_sql("agent:analytics", SQL, resource="warehouse",
                                 groups=groups).allowed
    )
    binary = REPO / "target" / "release" / "examples" / "core_check"
    core = json.loads(subprocess.run([str(binary), str(PACK)], check=True,
                                     capture_output=True, text=True).stdout)["core_check_sql_ns"]
    print(json.dumps({
        "core_check_sql_ns": core,
        "python_check_sql_ns": round(python_sql, 1),
        "python_check_sql_then_allowed_ns": round(python_effect, 1),
        "python_check_dict_ns": round(python_dict, 1),
        "overhead_check_sql_ns": round(python_sql - core, 1),
        "overhead_check_dict_ns": round(python_dict - core, 1),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
