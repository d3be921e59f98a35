"""Issue 7, bad input: malformed upstream records are skipped and counted; the run completes.

The records are created in the sandboxes and pulled over loopback HTTP like any other. A
first run gives the baseline; the second (incremental) run must count exactly the bad
records we added, by kind and reason, exit 0, and still compute every good record,
including ones with huge strings and any Unicode.
"""

from __future__ import annotations

import pytest

from fiveo_sync.logs import get_logger
from fiveo_sync.runner import Runner

from .security_platforms import canonical_data, start_platforms

LOG = get_logger("test")
MEGABYTE = 1_000_000
# RTL override, emoji and an astral CJK ideograph, combining marks, zero-width joiner and
# C0/C1 control characters (NUL excluded: no platform stores it).
ANY_UNICODE = ("\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 "
               "\U0001F600\U0001F469\u200d\U0001F4BB \U00020BB7 e\u0301 \x01\x07\x1b[31m\x7f"
               "\u0085\u2028\ufeff")


def _differences(after: dict[str, dict[str, int]], before: dict[str, dict[str, int]]):
    out: dict[str, dict[str, int]] = {}
    for kind, reasons in after.items():
        for reason, count in reasons.items():
            extra = count - before.get(kind, {}).get(reason, 0)
            if extra:
                out.setdefault(kind, {})[reason] = extra
    return out


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bad-input")
    for platforms in start_platforms(tmp_path):
        runner = Runner(platforms.settings, clock=platforms.clock, log=LOG)
        first = runner.run()
        assert first.exit_code == 0, first.summary()
        good = _add_records(platforms)
        # Past the pull's lag window (sync.lag_s), as the next nightly run would be.
        platforms.sn.advance(600)
        platforms.jira.advance(600)
        second = runner.run()
        yield platforms, first, second, good


def _add_records(platforms):
    sn, jira = platforms.sn, platforms.jira
    stamp = sn.clock().strftime("%Y-%m-%d %H:%M:%S")
    service = sorted(sn.table("cmdb_ci_service"), key=lambda r: r["name"])[0]["sys_id"]
    base = {"state": "1", "priority": "2", "impact": "2", "urgency": "2", "opened_at": stamp,
            "business_service": service, "short_description": "bad input probe"}
    # Malformed: each is skipped with the reason named in the expected counts below.
    sn.create("incident", **{**base, "number": "INC9900001", "opened_at": "yesterday-ish"})
    sn.create("incident", **{**base, "number": "INC9900002", "opened_at": "2025-02-30 10:00:00"})
    sn.create("incident", **{**base, "number": ""})
    sn.create("incident", **{**base, "number": "INC9900004", "state": "banana"})
    sn.create("incident", **{**base, "number": "INC9900005", "priority": "high"})
    sn.create("incident", **{**base, "number": "INC9900006", "reopen_count": "1.5e"})
    sn.create("change_request", number="CHG9900001", state="3", type="normal",
              closed_at="31/03/2025 25:61", business_service=service)
    sn.create("problem", state="", opened_at=stamp, business_service=service)
    sn.create("problem", state="107", opened_at=stamp, business_service=service,
              known_error="maybe")
    # Good, however strange: a megabyte of text, any Unicode.
    good = {
        "huge": sn.create("incident", **{**base, "number": "INC9900010",
                                          "short_description": "x" * MEGABYTE,
                                          "description": ANY_UNICODE * (MEGABYTE // 40)}),
        "unicode": sn.create("incident", **{**base, "number": "INC99\U0001F60000",
                                             "category": ANY_UNICODE,
                                             "short_description": ANY_UNICODE}),
    }
    product = jira.world.products[0]
    fields = jira.data.fields
    keys = [f"{product.key}-{n}" for n in range(1, 4)]
    jira.update_issue(keys[0], fields={fields.story_points: "lots"})
    jira.update_issue(keys[1], fields={fields.sprint: "not a sprint"})
    jira.update_issue(keys[2], fields={fields.sprint: [{"name": "sprint without id"}]})
    huge_key = jira.create_issue(product.key, "Story", "y" * MEGABYTE)
    jira.update_issue(huge_key, fields={"description": "z" * MEGABYTE},
                      labels_add=("\U0001F600", "\u05e9\u05dc\u05d5\u05dd", "a\u200db"))
    unicode_key = jira.create_issue(product.key, "Bug", ANY_UNICODE)
    good.update(huge_issue=huge_key, unicode_issue=unicode_key)
    return good


EXPECTED_SKIPS = {
    "incident": {"unparsable opened_at": 2, "missing number": 1, "unknown state": 1,
                 "unparsable priority": 1, "unparsable reopen_count": 1},
    "change": {"unparsable closed_at": 1},
    "problem": {"missing state": 1, "unparsable known_error": 1},
    "work_item": {"unparsable story_points": 1, "unparsable sprints": 2},
}


def test_malformed_records_are_skipped_and_counted_with_reasons(bad_input_run):
    _platforms, first, second, _good = bad_input_run
    assert second.exit_code == 0, second.summary()
    assert not second.failed_sources and not second.failed_targets
    assert _differences(second.skipped, first.skipped) == EXPECTED_SKIPS
    added = sum(sum(reasons.values()) for reasons in EXPECTED_SKIPS.values())
    summary = second.summary()
    assert summary["records_skipped"] == first.summary()["records_skipped"] + added
    assert summary["status"] == "ok"


def test_bad_records_are_pulled_and_kept_not_lost(bad_input_run):
    # Skipping is a normalisation decision: the raw records are stored, so fixing the
    # mapping (e.g. a new state code in a value map) picks them up without a re-pull.
    _platforms, first, second, _good = bad_input_run
    assert second.pulled["servicenow.incident"] >= 8
    assert second.pulled["servicenow.problem"] >= 2
    assert second.pulled["jira.issue"] >= 5
    assert second.indicators > 0 and second.writes["servicenow"]["failed"] == 0


def test_good_records_with_huge_strings_and_any_unicode_are_computed(bad_input_run):
    platforms, _first, _second, good = bad_input_run
    data = canonical_data(platforms.settings)
    incidents = {i.id: i for i in data.incidents}
    assert good["huge"]["sys_id"] in incidents
    unicode_incident = incidents[good["unicode"]["sys_id"]]
    assert unicode_incident.category == ANY_UNICODE
    assert unicode_incident.number == "INC99\U0001F60000"
    items = {w.key: w for w in data.work_items}
    assert good["huge_issue"] in items and good["unicode_issue"] in items
    assert {"\U0001F600", "\u05e9\u05dc\u05d5\u05dd", "a\u200db"} <= set(
        items[good["huge_issue"]].labels)
    # Every incident the sandbox holds is either computed or one of the counted skips.
    skipped = sum(EXPECTED_SKIPS["incident"].values())
    assert len(incidents) == len(platforms.sn.table("incident")) - skipped
