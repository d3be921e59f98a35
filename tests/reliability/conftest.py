"""Shared fixtures of the reliability suite, and the fault matrix printed at its end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .reliability_matrix import MATRIX
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault matrix (cells, requests, retries, outcome) after the suite."""
    if not MATRIX.rows:
        return
    terminalreporter.section("fault matrix")
    for line in MATRIX.render():
        terminalreporter.write_line(line)
