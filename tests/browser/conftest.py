"""Headless Chromium fixtures: skipped only off CI when Chromium is missing."""

from __future__ import annotations

import importlib.util
import os
import sys
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
