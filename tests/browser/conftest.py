"""Headless Chromium fixtures: skipped only off CI when Chromium is missing."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.results import build_views


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


chromium_runner = _load("fiveo_browser_chromium_runner",
                        Path(__file__).with_name("chromium_runner.py"))


@pytest.fixture(scope="session")
def chromium():
    if chromium_runner.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); runs in CI")
    return chromium_runner



@pytest.fixture
def sample_views():
    return build_views()


# The demo at a fixed moment mid-month, so the README screenshots are the same on every
# machine and show a current period to date beside the complete ones.
DEMO_MOMENT = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_dashboard(tmp_path_factory):
    """``fiveo-sync demo`` (seed 7, small) run in-process at ``DEMO_MOMENT``.

    Returns ``(output dir, moment)``.
    """
    from fiveo_sync.demo import DemoOptions, run_demo
    from fiveo_sync.logs import get_logger

    out_dir = tmp_path_factory.mktemp("demo") / "fiveo-demo"
    started = time.monotonic()

    def clock():  # the fixed moment, moving on with real time (the demo waits a second)
        return DEMO_MOMENT + timedelta(seconds=time.monotonic() - started)

    out, err = io.StringIO(), io.StringIO()
    code = run_demo(DemoOptions(out_dir=out_dir), clock=clock, log=get_logger("demo"),
                    out=out, err=err)
    assert code == 0, out.getvalue()[-3000:] + err.getvalue()[-3000:]
    return out_dir, DEMO_MOMENT
