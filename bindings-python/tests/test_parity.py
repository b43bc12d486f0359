"""Front-end parity: every request of `e2e/parity/requests.jsonl`, checked through the Python
binding, gives exactly the decision of its line in `e2e/parity/decisions.jsonl` (the JSON that
`writ eval` prints and the Rust, Node and C suites compare with; see e2e/parity/README.md).

Each request is checked twice: as a dict (`json.loads` of the line, the usual Python path) and
as the JSON text itself. Both decisions must serialize (`to_json`) to the golden bytes, and the
typed attributes must rebuild the golden decision exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import writ

from conftest import PACKS, REPO

PARITY = REPO / "e2e" / "parity"
#: The fixed clock every front end is given (no request of the set depends on it).
NOW = 1_767_225_600


def _lines(name: str) -> list[str]:
    lines = (PARITY / name).read_text(encoding="utf-8").splitlines()
    assert lines, f"{name} is empty"
    return lines


def _request_text(line: str, id: str, pack: str) -> str:
    # The layout e2e/tests/parity.rs checks: the request is everything after this prefix.
    prefix = f'{{"id":"{id}","pack":"{pack}","request":'
    assert line.startswith(prefix) and line.endswith("}"), line
    return line[len(prefix) : -1]


REQUESTS = [json.loads(line) for line in _lines("requests.jsonl")]
GOLDEN = [json.loads(line) for line in _lines("decisions.jsonl")]
GOLDEN_LINES = dict(zip((g["id"] for g in GOLDEN), _lines("decisions.jsonl")))
TEXTS = {
    r["id"]: _request_text(line, r["id"], r["pack"])
    for r, line in zip(REQUESTS, _lines("requests.jsonl"))
}
_ENGINES: dict[str, writ.Engine] = {}


def _engine(pack: str) -> writ.Engine:
    if pack not in _ENGINES:
        _ENGINES[pack] = writ.Engine.from_path(PACKS / pack, now=NOW)
    return _ENGINES[pack]


def test_golden_file_has_one_line_per_request_in_order() -> None:
    requested = [r["id"] for r in REQUESTS]
    golden = [g["id"] for g in GOLDEN]
    missing = [i for i in requested if i not in golden]
    extra = [i for i in golden if i not in requested]
    assert not missing, f"requests without a golden line: {missing}"
    assert not extra, f"golden lines without a request: {extra}"
    assert requested == golden, "the golden file is not in the order of requests.jsonl"
    assert len(requested) == len(set(requested)), "duplicate ids"


def _typed(decision: writ.Decision) -> dict[str, Any]:
    """The decision rebuilt from its typed attributes, in the JSON contract's shape."""
    typed: dict[str, Any] = {
        "effect": decision.effect.value,
        "rules": decision.rules,
        "reason": decision.reason,
        "digest": decision.digest,
        "policy": decision.policy,
        "parts": [
            {"effect": p["effect"].value, "rules": p["rules"], "reason": p["reason"]}
            for p in decision.parts
        ],
        "view": decision.view,
    }
    if decision.mask_plan is not None:
        typed["mask"] = decision.mask_plan
    return typed


@pytest.mark.parametrize("request_line", REQUESTS, ids=[r["id"] for r in REQUESTS])
@pytest.mark.parametrize("form", ["dict", "text"])
def test_decision_matches_golden(request_line: dict[str, Any], form: str) -> None:
    id = request_line["id"]
    engine = _engine(request_line["pack"])
    request = request_line["request"] if form == "dict" else TEXTS[id]
    golden = json.loads(GOLDEN_LINES[id])
    if "error" in golden:
        assert golden == {"id": id, "error": "invalid request"}
        with pytest.raises(writ.RequestError):
            engine.check(request)
        return
    decision = engine.check(request)
    assert f'{{"id":"{id}","decision":{decision.to_json()}}}' == GOLDEN_LINES[id]
    assert decision.to_dict() == golden["decision"]
    assert _typed(decision) == golden["decision"]
