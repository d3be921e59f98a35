"""The shipped catalogue: complete, every indicator pinned by a golden case, admin-editable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from golden_case import CASES, SHIPPED_INDICATORS, load_indicator_files, run_case

O_NAMES = ("organise", "orient", "operate", "observe", "optimise")


def _shipped_ids() -> set[str]:
    return {s.id for f in load_indicator_files(SHIPPED_INDICATORS) for s in f.indicators}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "indicators"
    shutil.copytree(SHIPPED_INDICATORS, target)
    return target


def _edit(path: Path, indicator: str, change) -> None:
    doc = yaml.safe_load(path.read_text())
    for spec in doc["indicators"]:
        if spec["id"] == indicator:
            change(spec)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def test_catalogue_has_every_o_with_at_least_five_and_thirty_in_all():
    files = load_indicator_files(SHIPPED_INDICATORS)
    assert sorted(f.o for f in files) == sorted(O_NAMES)
    assert all(len(f.indicators) >= 5 for f in files)
    assert len(_shipped_ids()) >= 30


def test_every_shipped_indicator_has_a_hand_written_golden_expectation():
    covered = set()
    for case in CASES.iterdir():
        for item in json.loads((case / "expected_results.json").read_text()):
            covered.add(item["key"].split(":")[1])
    assert _shipped_ids() - covered == set()


def test_editing_a_target_in_yaml_changes_the_next_compute(tmp_path):
    indicators = _copy(tmp_path)
    _edit(indicators / "operate.yaml", "operate.mttr",
          lambda s: s.update(target={"kind": "max", "value": 8}))
    case = CASES / "ref_5_1_mttr_and_5_3_sla"
    key = "fiveo:operate.mttr:service:payments:all:2025-03"
    before = {r.key: r for r in run_case(case)}[key]
    after = {r.key: r for r in run_case(case, indicators)}[key]
    assert (before.status, before.target) == ("met", "≤ 24")
    # 9.0 h against ≤ 8 with 10 % tolerance: at_risk up to 8.8, so missed.
    assert (after.value, after.status, after.target) == (9.0, "missed", "≤ 8")


def test_editing_a_filter_in_yaml_changes_the_next_compute(tmp_path):
    indicators = _copy(tmp_path)
    _edit(indicators / "operate.yaml", "operate.mttr",
          lambda s: s["filters"].append({"op": "in", "field": "priority", "values": [1, 2]}))
    key = "fiveo:operate.mttr:service:payments:all:2025-03"
    after = {r.key: r for r in run_case(CASES / "ref_5_1_mttr_and_5_3_sla", indicators)}[key]
    # Priority 1 and 2 only: [2.5, 3.5, 12] → median 3.5.
    assert (after.value, after.n, after.status) == (3.5, 3, "insufficient_data")


def test_setting_wait_statuses_turns_flow_efficiency_on(tmp_path):
    indicators = _copy(tmp_path)
    doc = yaml.safe_load((indicators / "optimise.yaml").read_text())
    doc["parameters"]["wait_statuses"] = ["Blocked"]
    (indicators / "optimise.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    key = "fiveo:optimise.flow_efficiency:product:payments-web:all:2025-03"
    result = {r.key: r for r in run_case(CASES / "jira_flow_and_bugs", indicators)}[key]
    # PAY-1 is active 1 d of its 2 (one day Blocked); PAY-2..5 have no status history and
    # are done now, so no active time: 1 / (2 + 4 + 1 + 3 + 8) d.
    assert result.n == 5
    assert round(result.value, 2) == 5.56
    assert result.status == "missed"


def test_a_new_indicator_in_a_file_needs_no_code(tmp_path):
    indicators = _copy(tmp_path)
    doc = yaml.safe_load((indicators / "observe.yaml").read_text())
    doc["indicators"].append({
        "id": "observe.p1_incidents", "name": "Priority 1 incidents opened",
        "view": "service", "source": "incident",
        "filters": [{"op": "ne", "field": "state", "value": "canceled"},
                    {"op": "eq", "field": "priority", "value": 1}],
        "period": {"kind": "month", "timestamp": "opened_at"},
        "measure": {"kind": "count"}, "unit": "count", "direction": "down",
        "target": {"kind": "max", "value": 1}})
    (indicators / "observe.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    key = "fiveo:observe.p1_incidents:service:payments:all:2025-03"
    result = {r.key: r for r in run_case(CASES / "ref_5_1_mttr_and_5_3_sla", indicators)}[key]
    assert (result.value, result.status) == (1.0, "met")  # INC0010002 only


def test_a_derived_indicator_counts_results_on_target(tmp_path):
    indicators = _copy(tmp_path)
    doc = yaml.safe_load((indicators / "observe.yaml").read_text())
    doc["indicators"].append({
        "id": "observe.change_health", "name": "Change indicators on target",
        "view": "service", "source": "change", "period": {"kind": "month"},
        "measure": {"kind": "on_target_share",
                    "indicators": ["observe.change_failure_rate", "observe.reopen_rate"]},
        "unit": "%", "direction": "up", "target": {"kind": "min", "value": 100}})
    (indicators / "observe.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    key = "fiveo:observe.change_health:service:payments:all:2025-03"
    result = {r.key: r for r in run_case(CASES / "ref_5_2_change_failure", indicators)}[key]
    # March: CFR missed, reopen rate met → 1 of 2 on target.
    assert (result.value, result.n) == (50.0, 2)
