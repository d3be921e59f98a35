from __future__ import annotations

from datetime import UTC, datetime

from fiveo_sync.engine.normalise import normalise
from fiveo_sync.engine.normalise_values import parse_sprint_string, read_jira_sprints
from fiveo_sync.engine.sources_spec import StoryPointsSpec
from fiveo_sync.records import Sprint, WorkItem

from .mapping_fixtures import (
    airbyte,
    devlake_statuses,
    jsonl_data,
    require_fixtures,
    shipped_portfolio,
    shipped_sources,
)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def devlake_sources():
    # DevLake's e2e site keeps story points in customfield_10024 (its StoryPointField).
    return shipped_sources().model_copy(
        update={"story_points": StoryPointsSpec(field="customfield_10024")})


def run(raw, sources=None):
    return normalise(sources or shipped_sources(), shipped_portfolio(), raw)


def test_every_devlake_issue_becomes_a_typed_work_item():
    require_fixtures()
    issues = jsonl_data("issues.jsonl")
    data = run({("jira", "issue"): issues, ("jira", "status"): devlake_statuses()},
               devlake_sources())
    assert data.skipped == {}
    assert len(data.work_items) == len(issues) == 33
    for item in data.work_items:
        assert isinstance(item, WorkItem)
        assert item.status_category in ("new", "indeterminate", "done")
        assert item.created.tzinfo == UTC
        assert all(isinstance(s, int) for s in item.sprints)
        assert list(item.status_history) == sorted(item.status_history, key=lambda c: c.at)
        assert item.story_points is None or isinstance(item.story_points, float)
        if item.status_category == "done":
            assert item.done_at is not None
        else:
            assert item.done_at is None


def test_devlake_localised_status_offsets_story_points_and_sprints():
    data = run({("jira", "issue"): jsonl_data("issues.jsonl"),
                ("jira", "status"): devlake_statuses()}, devlake_sources())
    by_key = {item.key: item for item in data.work_items}
    first = by_key["EE-1"]
    # 已完成 with category key "new": the key decides, never the localised name.
    assert first.status == "已完成" and first.status_category == "new"
    assert first.created == utc(2020, 6, 12, 0, 13, 13, 360000)
    assert first.story_points == -1.0
    assert first.sprints == (7,)
    assert first.labels == {"frontEnd", "Saas"}
    assert first.project == "EE"
    points = sorted(i.story_points for i in data.work_items if i.story_points is not None)
    assert points == [-1.0, 2.0]
    categories = {i.status_category for i in data.work_items if i.status == "已完成"}
    assert categories == {"new", "done"}


def test_every_devlake_changelog_history_is_read():
    histories = jsonl_data("changelogs.jsonl")
    # The histories belong to three issues not in issues.jsonl; wrap them as embedded
    # changelogs in minimal issues so they go through the same path.
    by_issue: dict[str, list[dict]] = {}
    urls = _changelog_urls()
    for url, history in zip(urls, histories, strict=True):
        by_issue.setdefault(url.split("/issue/")[1].split("/")[0], []).append(history)
    issues = [{"key": f"EE-{issue_id}", "fields": {
        "status": {"id": "10068", "statusCategory": {"key": "done"}},
        "created": "2020-01-01T00:00:00.000+0800"},
        "changelog": {"histories": list(reversed(entries))}}
        for issue_id, entries in by_issue.items()]
    assert len(urls) == 279 and len(by_issue) == 3
    data = run({("jira", "issue"): issues, ("jira", "status"): devlake_statuses()})
    assert data.skipped == {}
    statuses = [c for item in data.work_items for c in item.status_history]
    sprints = [c for item in data.work_items for c in item.sprint_history]
    assert len(statuses) == 10 and len(sprints) == 12
    for item in data.work_items:
        ats = [c.at for c in item.status_history]
        assert ats == sorted(ats)
    assert all(isinstance(i, int) for c in sprints for i in (*c.from_sprints, *c.to_sprints))
    assert any(c.to_category == "indeterminate" for c in statuses)


def _changelog_urls() -> list[str]:
    import json

    from .mapping_fixtures import JIRA
    lines = (JIRA / "devlake" / "changelogs.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["url"] for line in lines if line.strip()]


def test_every_devlake_sprint_becomes_a_sprint():
    sprints = jsonl_data("sprints.jsonl")
    data = run({("jira", "sprint"): sprints})
    assert data.skipped == {}
    assert len(data.sprints) == len(sprints) == 30
    for sprint in data.sprints:
        assert isinstance(sprint, Sprint)
        assert sprint.state == "closed"
        assert sprint.complete.tzinfo == UTC and sprint.start < sprint.complete
    assert {s.board for s in data.sprints} == {8, 13}


def test_airbyte_sprint_issue_and_trimmed_payloads():
    data = run({("jira", "sprint"): airbyte("sprints.json")["values"],
                ("jira", "issue"): [*airbyte("issues.json")["issues"],
                                    *airbyte("sprint_issues.json")["issues"],
                                    *airbyte("board_issues.json")["issues"]],
                ("jira", "status"): airbyte("workflow_statuses.json"),
                ("jira", "field"): airbyte("issue_fields.json"),
                ("jira", "board"): airbyte("board.json")["values"]})
    sprint, = data.sprints
    assert (sprint.id, sprint.state, sprint.board, sprint.complete) == (2, "active", 1, None)
    assert sprint.goal == "Deliver results"
    epic, sprint_issue = data.work_items
    assert epic.key == "TESTKEY13-1" and epic.project == "TESTKEY13"
    assert epic.created == utc(2022, 6, 9, 23, 29, 31, 871000)  # -0700
    assert epic.sprints == () and epic.story_points is None
    assert sprint_issue.key == "IT-6" and sprint_issue.project == "IT"
    assert sprint_issue.status_category == "new"
    # board_issues.json is trimmed to timestamps: no status, so it is skipped and counted.
    assert data.skipped == {"work_item": {"missing status_category": 1}}


def test_old_server_sprint_strings_split_only_before_known_keys():
    text = ("com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=266,rapidViewId=174,"
            "state=CLOSED,name=Sprint 12,startDate=2015-01-05T10:00:00.000Z,"
            "goal=Define Scope for Accordion, Complete Icon Link,sequence=266]")
    fields = parse_sprint_string(text)
    assert fields["goal"] == "Define Scope for Accordion, Complete Icon Link"
    assert fields["id"] == "266"
    assert read_jira_sprints([text, {"id": 267}]) == (266, 267)


def test_derived_fields_from_the_changelog():
    statuses = [{"id": "1", "statusCategory": {"key": "new"}},
                {"id": "3", "statusCategory": {"key": "indeterminate"}},
                {"id": "5", "statusCategory": {"key": "done"}}]
    issue = {"key": "PAY-101", "fields": {
        "project": {"key": "PAY"}, "issuetype": {"name": "Story", "subtask": False},
        "status": {"id": "5", "name": "Done", "statusCategory": {"key": "done"}},
        "created": "2025-03-01T09:00:00.000+0100",
        "resolutiondate": "2025-03-20T10:00:00.000+0000",
        "parent": {"key": "PAY-1", "fields": {"issuetype": {"name": "Epic"}}},
        "customfield_10016": 5.0},
        "changelog": {"histories": [
            {"id": "12", "created": "2025-03-10T10:00:00.000+0000", "items": [
                {"field": "status", "from": "3", "to": "5", "toString": "Done"}]},
            {"id": "11", "created": "2025-03-05T10:00:00.000+0000", "items": [
                {"field": "status", "from": "1", "to": "3", "toString": "In Progress"},
                {"field": "Sprint", "from": "", "to": "41, 42"}]},
            {"id": "13", "created": "2025-03-12T10:00:00.000+0000", "items": [
                {"field": "status", "from": "5", "to": "3", "toString": "In Progress"},
                {"field": "Story Points", "fieldId": "customfield_10016",
                 "fromString": "3", "toString": "5"}]},
            {"id": "14", "created": "2025-03-14T10:00:00.000+0000", "items": [
                {"field": "status", "from": "3", "to": "5", "toString": "Done"}]}]}}
    sources = shipped_sources().model_copy(
        update={"story_points": StoryPointsSpec(field="customfield_10016")})
    item, = run({("jira", "issue"): [issue], ("jira", "status"): statuses}, sources).work_items
    assert item.epic_key == "PAY-1"
    assert item.story_points == 5.0
    assert item.started_at == utc(2025, 3, 5, 10)
    assert item.done_at == utc(2025, 3, 14, 10)  # the last entry into done
    assert item.status_category_at(utc(2025, 3, 1)) == "new"
    assert item.status_category_at(utc(2025, 3, 11)) == "done"
    assert item.status_category_at(utc(2025, 3, 13)) == "indeterminate"
    assert item.sprint_history[0].to_sprints == (41, 42)
    assert item.points_history[0].from_points == 3.0


def test_connector_sprint_scope_payload_drops_subtasks():
    payload = {"sprint_id": 42, "board_id": 12, "moment": "start",
               "taken_at": "2025-03-03T10:00:00Z", "source": "snapshot",
               "items": [
                   {"key": "PAY-101", "issue_type": "Story", "is_subtask": False,
                    "story_points": 5, "status_category": "indeterminate"},
                   {"key": "PAY-110", "issue_type": "Sub-task", "is_subtask": True,
                    "story_points": 1, "status_category": "done"}]}
    data = run({("jira", "sprint_scope"): [payload]})
    [scope] = data.sprint_scopes
    assert scope.sprint == 42 and scope.moment == "start" and scope.source == "snapshot"
    assert scope.taken_at == utc(2025, 3, 3, 10)
    assert [item.key for item in scope.items] == ["PAY-101"]
    assert scope.items[0].story_points == 5
