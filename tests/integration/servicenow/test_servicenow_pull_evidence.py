"""Incremental pulls of the evidence streams: outages, survey results, vendors."""

from __future__ import annotations

import pytest

from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.state import StateStore

STREAMS = ["cmdb_ci_outage", "asmt_assessment_instance", "asmt_metric_result", "asmt_metric",
           "asmt_metric_type", "core_company", "sys_user_group"]


def test_first_pull_stores_exactly_the_sandbox_rows(sandbox: ServiceNowSandbox,
                                                    store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, page_size=200)
    sn.pull(conn, store, STREAMS)
    for stream in STREAMS:
        versions = sn.versions(sandbox, stream)
        assert versions and store.record_versions("servicenow", stream) == versions, stream
    stored = {r.key: r.payload for r in store.iter_records("servicenow", "cmdb_ci_outage")}
    row = sandbox.table("cmdb_ci_outage")[0]
    assert {k: stored[row["sys_id"]][k] for k in ("begin", "end", "type", "cmdb_ci")} == {
        k: row[k] for k in ("begin", "end", "type", "cmdb_ci")}
    groups = [r.payload for r in store.iter_records("servicenow", "sys_user_group")]
    assert sum(1 for g in groups if g["vendors"]) == 2  # fields.json asks for vendors


def _change(sandbox: ServiceNowSandbox, stream: str) -> tuple[str, str, str]:
    """Update one row, create one, delete another; return (updated, created, deleted)."""
    rows = sandbox.table(stream)
    edits = {"cmdb_ci_outage": {"end": "2025-02-27 10:00:00", "type": "degradation"},
             "asmt_assessment_instance": {"state": "complete",
                                          "taken_on": "2025-03-03 11:55:00"},
             "asmt_metric_result": {"actual_value": "1"},
             "asmt_metric": {"name": "Overall satisfaction (1-5)"},
             "asmt_metric_type": {"description": "Sent on incident closure."},
             "core_company": {"vendor": "true"}}[stream]
    sandbox.update(stream, rows[1]["sys_id"], **edits)
    created = sandbox.create(stream, **edits)
    sandbox.delete(stream, rows[0]["sys_id"])
    return rows[1]["sys_id"], created["sys_id"], rows[0]["sys_id"]


@pytest.mark.parametrize("stream", STREAMS[:-1])
def test_next_pull_reflects_an_update_a_creation_and_a_deletion(
        sandbox: ServiceNowSandbox, store: StateStore, sn, stream: str) -> None:
    if len(sandbox.table(stream)) < 2:  # one survey: a second one to delete
        sandbox.create(stream, name="Service desk survey", evaluation_method="survey")
    conn = sn.connect(sandbox, page_size=300)
    sn.pull(conn, store, [stream])
    sandbox.advance(30)
    updated, created, deleted = _change(sandbox, stream)
    sandbox.advance(120)  # past the lag
    sn.pull(conn, store, [stream])
    assert store.record_versions("servicenow", stream) == sn.versions(sandbox, stream)
    stored = {r.key: r.payload for r in store.iter_records("servicenow", stream)}
    assert deleted not in stored and created in stored
    expected = {r["sys_id"]: r for r in sandbox.table(stream)}
    for key in (updated, created):
        assert stored[key] == {k: expected[key][k] for k in stored[key]}


def test_an_unchanged_evidence_stream_costs_at_most_two_requests(
        sandbox: ServiceNowSandbox, store: StateStore, sn) -> None:
    conn = sn.connect(sandbox, page_size=500)
    sn.pull(conn, store, STREAMS)
    sandbox.advance(120)
    made = sn.pull(conn, store, STREAMS)
    assert all(count <= 2 for count in made.values()), made
