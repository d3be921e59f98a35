"""Both sandboxes for one organisation, and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.demo import DemoOptions, build_demo_settings

WORLD_NOW = datetime(2025, 4, 3, 0, 0, tzinfo=UTC)


class Platforms:
    """The two running sandboxes and the settings a run needs to reach them."""

    def __init__(self, sn: ServiceNowSandbox, jira: JiraSandbox, out_dir: Path,
                 deployment: str, write_mode: str) -> None:
        self.sn, self.jira = sn, jira
        self.settings = build_demo_settings(
            sn, jira, DemoOptions(out_dir=out_dir, deployment=deployment,
                                  write_mode=write_mode))

    def clock(self) -> datetime:
        return self.sn.clock()


def start_platforms(tmp_path: Path, deployment: str = "cloud",
                    write_mode: str = "table") -> Iterator[Platforms]:
    # HTTPS from one shared CA: build_demo_settings sets http.ca_bundle and verify on.
    with ServiceNowSandbox(seed=11, scale="small", now=WORLD_NOW, tls=True) as sn, \
            JiraSandbox(seed=11, scale="small", now=WORLD_NOW, deployment=deployment,
                        tls=True) as jira:
        yield Platforms(sn, jira, tmp_path / "out", deployment, write_mode)


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[Platforms]:
    yield from start_platforms(tmp_path)
