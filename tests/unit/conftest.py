"""Fixtures of hand-made indicator results for the unit tests."""

from __future__ import annotations

import pytest
import responses
from support.results import build_result, build_views


@pytest.fixture
def make_result():
    return build_result


@pytest.fixture
def sample_views():
    return build_views()


@pytest.fixture
def mocked():
    """``responses`` mocks answered in order, every one required to be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True,
                                registry=responses.registries.OrderedRegistry) as rsps:
        yield rsps
