"""Fixtures: a sandbox pull of the demo organisation and the hand-made state store."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.canonical_stores import Case, build_hand_case, pull_sandbox_case


@pytest.fixture(scope="module")
def sandbox_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return pull_sandbox_case(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture
def hand_case(tmp_path: Path) -> Case:
    return build_hand_case(tmp_path)
