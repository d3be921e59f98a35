"""Issue 7, bad input: mapping files cannot execute anything, and no regex can hang a run.

YAML tags that would build Python objects are refused (located, exit 78, nothing run); a
catastrophic ``matches`` pattern is refused by ``validate``; an allowed pattern applied to
a huge hostile value looks only at the first ``MATCH_INPUT_LIMIT`` characters, so a
``compute`` over it finishes (it runs in a subprocess with a deadline, so a regression
fails the test instead of hanging the suite).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Page, RawRecord
from fiveo_sync.cli import main
from fiveo_sync.compute import load_history
from fiveo_sync.engine.filters import MATCH_INPUT_LIMIT
from fiveo_sync.state import StateStore

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

PROBE = """
  - id: operate.hostile_probe
    name: Incidents whose category ends in a run of a
    description: Reliability probe of the matches filter.
    view: service
    source: incident
    filters:
      - {{op: matches, field: category, pattern: {pattern!r}}}
    period: {{kind: month, timestamp: opened_at}}
    measure: {{kind: count}}
    unit: count
    direction: down
    target: {{kind: max, value: 1000}}
"""


def _mappings_with_probe(tmp_path: Path, pattern: str) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    operate = folder / "indicators" / "operate.yaml"
    operate.write_text(operate.read_text() + PROBE.format(pattern=pattern))
    return folder


def _settings_file(tmp_path: Path, mappings: Path) -> Path:
    config = tmp_path / "fiveo.yaml"
    config.write_text(f"mappings:\n  dir: {mappings}\nstate:\n  path: {tmp_path / 's.db'}\n")
    return config


def _validate(config: Path, capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    code = main(["--config", str(config), "--log-format", "json", "validate"])
    captured = capsys.readouterr()
    return code, [line for line in (captured.out + captured.err).splitlines()
                  if not line.startswith("{")]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!custom {marker}",
])
def test_yaml_tags_in_a_mapping_file_are_refused_and_never_run(tmp_path, capsys, tag):
    marker = tmp_path / "executed"
    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    portfolio = folder / "portfolio.yaml"
    text = portfolio.read_text()
    assert "    owner: alice.martin\n" in text
    portfolio.write_text(text.replace("    owner: alice.martin\n",
                                      f"    owner: {tag.format(marker=marker)}\n", 1))
    line = text[:text.index("    owner: alice.martin")].count("\n") + 1
    code, lines = _validate(_settings_file(tmp_path, folder), capsys)
    assert code == 78
    assert len(lines) == 1, lines
    assert f"portfolio.yaml:{line}:12: services[0].owner: YAML tag" in lines[0], lines
    assert not marker.exists()


@pytest.mark.parametrize("pattern", ["(a+)+$", r"(\w*)*@", "((a+))+$", "(a|aa)*c",
                                     r"(x+x+)+y", r"(.*,)*z"])
def test_catastrophic_matches_pattern_is_refused_by_validate(tmp_path, capsys, pattern):
    folder = _mappings_with_probe(tmp_path, pattern)
    text = (folder / "indicators" / "operate.yaml").read_text()
    line = text[:text.index("pattern: " + repr(pattern))].count("\n") + 1
    code, lines = _validate(_settings_file(tmp_path, folder), capsys)
    assert code == 78
    assert len(lines) == 1, lines
    assert f"operate.yaml:{line}:" in lines[0], lines
    assert ".filters[0].pattern: " in lines[0]
    assert "backtrack catastrophically" in lines[0]


def test_the_same_file_with_a_safe_pattern_validates(tmp_path, capsys):
    code, lines = _validate(_settings_file(tmp_path, _mappings_with_probe(tmp_path, "a+$")),
                            capsys)
    assert code == 0, lines


def _incident(number: int, category: str, opened: datetime) -> RawRecord:
    stamp = opened.strftime("%Y-%m-%d %H:%M:%S")
    sys_id = f"{number:032x}"
    return RawRecord(key=sys_id, updated=opened.strftime("%Y-%m-%dT%H:%M:%SZ"), payload={
        "sys_id": sys_id, "number": f"INC{number:07d}", "state": "1", "priority": "3",
        "opened_at": stamp, "sys_updated_on": stamp, "category": category,
        "business_service": {"value": "f" * 32, "display_value": "Payments"}})


def test_huge_hostile_input_through_an_allowed_regex_is_bounded(tmp_path):
    # "a+$" is linear to validate but quadratic to search: on 300,000 characters ending in
    # "b" an unbounded re.search would take hours. Only the first MATCH_INPUT_LIMIT
    # characters are looked at, which also decides what the filter sees:
    now = datetime.now(UTC)
    this_month = now.replace(day=1, hour=0, minute=0, second=1, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=2)
    hostile = "a" * 300_000 + "b"               # the cut text is all a's: matches
    hidden = "x" * (MATCH_INPUT_LIMIT * 5) + "aaa"  # the run of a's is past the cut
    config = _settings_file(tmp_path, _mappings_with_probe(tmp_path, "a+$"))
    with StateStore(tmp_path / "s.db") as store:
        store.save_page(Page("servicenow", "incident", records=[
            _incident(1, hostile, this_month), _incident(2, "network-a", this_month),
            _incident(3, hidden, last_month)]))
    proc = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "fiveo_sync", "--config", str(config), "--log-format", "json",
         "compute"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with StateStore(tmp_path / "s.db") as store:
        probe = {r.period: r for r in load_history(store)
                 if r.indicator == "operate.hostile_probe" and r.scope == "payments"}
    assert probe[f"{this_month:%Y-%m}"].value == 2
    last = probe.get(f"{last_month:%Y-%m}")
    assert last is None or not last.value
