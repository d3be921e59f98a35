"""Fixture: the hand-made state store (``support.canonical_stores``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.canonical_stores import Case, build_hand_case


@pytest.fixture
def hand_case(tmp_path: Path) -> Case:
    return build_hand_case(tmp_path)
