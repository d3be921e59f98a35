"""Shared fixtures of the reliability suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .reliability_world import end_state, start_platforms


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fault matrix keeps what its runs produced (scanned for secrets)."""
    return tmp_path_factory.mktemp("reliability-artifacts")


@pytest.fixture(scope="session")
def fault_free_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The end state of one fault-free run over the reliability world."""
    from fiveo_sync.logs import get_logger
    from fiveo_sync.runner import Runner

    with start_platforms(tmp_path_factory.mktemp("fault-free")) as platforms:
        report = Runner(platforms.settings, clock=platforms.clock,
                        log=get_logger("fiveo_sync.reliability")).run()
        assert report.exit_code == 0, report.summary()
        return end_state(platforms)


@pytest.fixture
def reliability_platforms(tmp_path: Path) -> Iterator[Any]:
    """Both sandboxes of the reliability world, settings with fast retries."""
    with start_platforms(tmp_path / "out") as platforms:
        yield platforms


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that share the artifact folder on one xdist worker, in file order.

    The folder is per session, and the secrets scan (test_reliability_secrets_scan.py,
    collected after the crash, fault and outage tests) reads what they left in it: split
    over workers, it would scan only part of their output.
    """
    for item in items:
        if "artifacts_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("reliability_artifacts"))
