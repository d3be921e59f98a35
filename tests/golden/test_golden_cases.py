"""Golden cases: hand-computed expectations of indicators.md (§5 reference values included)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from golden_case import CASES, run_case

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "case.json").is_file())


def _check(result, expected: dict) -> list[str]:
    problems = []
    for name, want in expected.items():
        if name in ("key", "why"):
            continue
        got = getattr(result, name)
        if isinstance(want, list):
            want = tuple(want)
        if isinstance(want, float) and got is not None:
            if not math.isclose(got, want, abs_tol=0.005):
                problems.append(f"{result.key}: {name} = {got!r}, expected {want!r}")
        elif got != want:
            problems.append(f"{result.key}: {name} = {got!r}, expected {want!r}")
    return problems


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_case(case: Path):
    expected = json.loads((case / "expected_results.json").read_text())
    results = {r.key: r for r in run_case(case)}
    problems = []
    for item in expected:
        result = results.get(item["key"])
        if result is None:
            problems.append(f"missing result {item['key']}")
            continue
        problems.extend(_check(result, item))
    assert not problems, "\n".join(problems)


def test_outage_evidence_lists_every_outage_evaluated_even_the_excluded_one():
    # The case's README: March's evidence is every outage evaluated, o-bad included.
    results = {r.key: r for r in run_case(CASES / "outage_availability_downtime_mtbf")}
    march = results["fiveo:operate.availability:service:payments:all:2025-03"]
    assert march.evidence == {"outage": ("o-bad", "o-span", "o1", "o2")}
    assert march.excluded == 1
