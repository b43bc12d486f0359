"""Shared fixtures: paths to the repository's policy packs and the suite's own policies."""

from __future__ import annotations

from pathlib import Path

import pytest

import writ

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PACKS = REPO / "policies"
SUPPORT_POLICY = HERE / "policies" / "sqlite-support.yaml"

#: A fixed clock for grants and approvals.
NOW = 1_800_000_000


@pytest.fixture
def support_engine() -> writ.Engine:
    return writ.Engine.from_path(SUPPORT_POLICY, now=NOW)


@pytest.fixture
def data_agents() -> writ.Engine:
    return writ.Engine.from_path(PACKS / "data-agents")
