"""The example in examples/python runs end to end and shows what its README says."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_guarded_tool_example() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "guarded_tool.py")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    out = run.stdout
    assert "ada@example.com" not in out and "415" not in out
    assert "[('Ada Lovelace', '[REDACTED]', '[REDACTED]')]" in out
    assert "denied (['no-schema-changes'])" in out
    assert "order 7 cancelled" in out
    assert out.count("needs approval") == 2
    assert "[(7, 'cancelled')]" in out
    assert "hash-chained events" in out
