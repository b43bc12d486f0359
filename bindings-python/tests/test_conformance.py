"""The shared conformance corpus: every case of every pack in `policies/`, read here in
Python, checked through the binding, compared with the case's expectations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import writ

from conftest import PACKS


def _cases() -> list[Any]:
    params = []
    packs = sorted(p for p in PACKS.iterdir() if p.is_dir())
    assert packs, f"no policy packs under {PACKS}"
    for pack in packs:
        files = sorted(
            f
            for f in pack.iterdir()
            if f.name.endswith((".test.yaml", ".test.yml", ".test.json"))
        )
        assert files, f"pack {pack.name} has no test file"
        for file in files:
            document = yaml.safe_load(file.read_text())
            cases = document["cases"]
            assert cases, f"{file} has no cases"
            for case in cases:
                params.append(pytest.param(pack, case, id=f"{pack.name}/{case['name']}"))
    return params


CASES = _cases()
_ENGINES: dict[Path, writ.Engine] = {}


def _engine(pack: Path) -> writ.Engine:
    if pack not in _ENGINES:
        _ENGINES[pack] = writ.Engine.from_path(pack)
    return _ENGINES[pack]


def test_the_corpus_is_all_there() -> None:
    # Every pack contributes, and the corpus is not silently empty or truncated.
    assert len({p.values[0] for p in CASES}) == len([p for p in PACKS.iterdir() if p.is_dir()])
    assert len(CASES) >= 300


@pytest.mark.parametrize("pack,case", CASES)
def test_case(pack: Path, case: dict[str, Any]) -> None:
    decision = _engine(pack).check(case["request"])
    assert decision.effect == case["expect"], (
        f"expected {case['expect']}, got {decision.effect.value}: {decision.reason}"
    )
    assert isinstance(decision.effect, writ.Effect)
    for rule in case.get("rules") or []:
        assert rule in decision.rules, f"rule {rule} not among {decision.rules}"
    if case.get("masked") is not None:
        assert decision.masked_columns == case["masked"]
