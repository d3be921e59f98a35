"""Fixtures of hand-made indicator results for the unit tests."""

from __future__ import annotations

import pytest
from support.results import build_result, build_views


@pytest.fixture
def make_result():
    return build_result


@pytest.fixture
def sample_views():
    return build_views()
