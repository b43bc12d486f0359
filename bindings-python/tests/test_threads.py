"""One engine shared by many threads; the GIL is released while the core works."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import writ

from conftest import PACKS

CASES = [
    ("SELECT * FROM orders", "allow"),
    ("DROP TABLE orders", "deny"),
    ("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "deny"),
    ("SELECT count(*) FROM public.orders", "allow"),
]


def test_concurrent_checks_agree() -> None:
    engine = writ.Engine.from_path(PACKS / "data-agents")
    events = []
    lock = threading.Lock()

    def sink(event: dict) -> None:
        with lock:
            events.append(event)

    engine.add_audit_sink(sink)

    def work(i: int) -> list[tuple[str, str]]:
        out = []
        for sql, _ in CASES:
            d = engine.check_sql("agent:analytics", sql, resource="warehouse",
                                 groups=["analysts"])
            out.append((sql, d.effect.value))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(64)))
    expected = [(sql, effect) for sql, effect in CASES]
    assert all(r == expected for r in results)
    assert len(events) == 64 * len(CASES)


def test_reload_while_checking_is_atomic() -> None:
    allow_delete = """version: 1
resources: [{name: db, kind: sqlite}]
rules: [{id: both, effect: allow, when: {sql: {kinds: [select, delete]}}}]
"""
    reads_only = allow_delete.replace("[select, delete]", "[select]").replace("both", "reads")
    engine = writ.Engine.from_str(reads_only)
    stop = threading.Event()
    seen: set[tuple[str, bool]] = set()
    mixed: list[writ.Decision] = []

    def checker() -> None:
        while not stop.is_set():
            d = engine.check_sql("a", "DELETE FROM t", resource="db")
            # Each decision comes wholly from one policy: allowed only by `both`.
            seen.add((d.policy, d.allowed))
            if d.allowed != (d.rules == ["both"]):
                mixed.append(d)

    threads = [threading.Thread(target=checker) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    i = 0
    while time.monotonic() < deadline and (i < 50 or len({a for _, a in seen}) < 2):
        engine.reload_str(allow_delete if i % 2 == 0 else reads_only)
        time.sleep(0.002)
        i += 1
    stop.set()
    for t in threads:
        t.join()
    assert not mixed
    assert {allowed for _, allowed in seen} == {True, False}
    # One policy version, one answer: no check mixed the two policies.
    by_policy: dict[str, set[bool]] = {}
    for policy, allowed in seen:
        by_policy.setdefault(policy, set()).add(allowed)
    assert len(by_policy) == 2 and all(len(v) == 1 for v in by_policy.values())


def test_the_gil_is_released_during_a_check() -> None:
    engine = writ.Engine.from_path(PACKS / "data-agents")
    # A long text: thousands of statements, each classified and decided.
    sql = "SELECT id, total FROM orders WHERE total > 10; " * 4000
    counter = [0]
    started = threading.Event()
    stop = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    before = counter[0]
    begin = time.perf_counter()
    d = engine.check_sql("agent:analytics", sql, resource="warehouse", groups=["analysts"])
    elapsed = time.perf_counter() - begin
    during = counter[0] - before
    stop.set()
    t.join()
    assert d.allowed
    assert elapsed > 0.02, f"the check was too quick ({elapsed:.4f}s) to tell"
    # With the GIL held for the whole check, the spinning thread could not run at all.
    assert during > 10_000, f"only {during} iterations ran during a {elapsed:.3f}s check"
