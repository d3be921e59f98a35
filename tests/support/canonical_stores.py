"""State stores for the canonical-table tests: a sandbox pull and a hand-made store.

``pull_sandbox_case`` runs a real ``pull`` of the demo organisation (seed 7, scale small:
3,000 incidents, 600 changes, 2,000 Jira Cloud issues with changelogs, boards, sprints,
sprint scopes, lookups) from both sandboxes over loopback HTTP. ``build_hand_case`` holds a
few records whose answers can be computed by hand, plus one incident the normaliser must
skip.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from connectors.base import Page, RawRecord
from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.platforms import build_connectors
from fiveo_sync.pull import pull_all
from fiveo_sync.state import StateStore

REPO_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@dataclass(frozen=True)
class Case:
    """A state store and the mapping folder it is normalised with."""

    store: Path
    mappings: Path

    @property
    def canonical(self) -> Path:
        return self.store.with_suffix(".duckdb")


WORLD_NOW = datetime(2025, 4, 3, tzinfo=UTC)


def pull_sandbox_case(folder: Path) -> Case:
    """Pull the demo organisation from both sandboxes into a store under ``folder``."""
    mappings = folder / "mappings"
    shutil.copytree(REPO_MAPPINGS, mappings)
    with ServiceNowSandbox(seed=7, scale="small", now=WORLD_NOW, tls=True) as sn, \
            JiraSandbox(seed=7, scale="small", now=WORLD_NOW, deployment="cloud",
                        tls=True) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(out_dir=folder / "out"))
        connectors = build_connectors(settings, clock=sn.clock)
        try:
            with StateStore(settings.state.path) as store:
                pull_all(store, connectors, log=structlog.get_logger("test"))
        finally:
            for connector in connectors.values():
                connector.close()
    return Case(Path(settings.state.path), mappings)


def _incident(sys_id: str, number: str, state: str, priority: str, opened: str,
              resolved: str, service: str, text: str = "") -> RawRecord:
    row = {"sys_id": sys_id, "number": number, "state": state, "priority": priority,
           "opened_at": opened, "resolved_at": resolved,
           "business_service": {"value": f"{service.lower()}00000000000000000000000001"[:32],
                                "display_value": service},
           "assignment_group": "", "caused_by": "", "rfc": "", "problem_id": "",
           "reopen_count": "0", "cmdb_ci": "", "category": "software",
           "short_description": text, "description": "", "correlation_id": "",
           "sys_updated_on": opened}
    return RawRecord(sys_id, opened.replace(" ", "T") + "Z", row)


def _status(status_id: str, category: str) -> RawRecord:
    return RawRecord(status_id, "2025-03-01T00:00:00Z",
                     {"id": status_id, "name": status_id, "statusCategory": {"key": category}})


ISSUE = {
    "id": "10007", "key": "PAY-7",
    "fields": {
        "project": {"key": "PAY"}, "issuetype": {"name": "Story", "subtask": False},
        "status": {"id": "10001", "name": "Done", "statusCategory": {"key": "done"}},
        "resolution": {"name": "Done"}, "resolutiondate": "2025-03-05T10:00:00.000+0000",
        "created": "2025-03-01T09:00:00.000+0000", "updated": "2025-03-05T10:00:00.000+0000",
        "labels": ["api", "backend"], "customfield_10020": [{"id": 5, "name": "PAY 5"}],
        "customfield_10016": 3,
    },
    "changelog": {"histories": [
        {"id": "2", "created": "2025-03-05T10:00:00.000+0000", "items": [
            {"field": "status", "fieldId": "status", "from": "3", "to": "10001",
             "fromString": "In Progress", "toString": "Done"}]},
        {"id": "1", "created": "2025-03-02T09:00:00.000+0000", "items": [
            {"field": "status", "fieldId": "status", "from": "1", "to": "3",
             "fromString": "To Do", "toString": "In Progress"},
            {"field": "Sprint", "fieldId": "customfield_10020", "from": "", "to": "5"},
            {"field": "Story Points", "fieldId": "customfield_10016", "fromString": "",
             "toString": "3"}]},
    ]},
}
SCOPE = {"sprint_id": 5, "board_id": 12, "moment": "start",
         "taken_at": "2025-03-01T00:00:00.000Z", "source": "snapshot",
         "items": [{"key": "PAY-7", "issue_type": "Story", "is_subtask": False,
                    "story_points": 3, "status_category": "new"},
                   {"key": "PAY-8", "issue_type": "Bug", "is_subtask": False,
                    "story_points": None, "status_category": "new"},
                   {"key": "PAY-9", "issue_type": "Sub-task", "is_subtask": True,
                    "story_points": 1, "status_category": "new"}]}
SPRINT = {"id": 5, "originBoardId": 12, "state": "closed", "name": "PAY 5",
          "startDate": "2025-03-01T00:00:00.000Z", "completeDate": "2025-03-14T00:00:00.000Z",
          "goal": "Ship checkout"}


def fill_hand_store(path: Path) -> None:
    """Write the hand-made records (the answers in the tests follow from them)."""
    with StateStore(path) as store:
        store.save_page(Page("servicenow", "incident", [
            # Payments: resolved after 2 h and after 6 h; Email: still open.
            _incident("a1", "INC001", "6", "1", "2025-03-01 08:00:00", "2025-03-01 10:00:00",
                      "Payments", "Checkout down after PAY-7"),
            _incident("a2", "INC002", "7", "2", "2025-03-02 08:00:00", "2025-03-02 14:00:00",
                      "Payments"),
            _incident("a3", "INC003", "2", "3", "2025-03-03 08:00:00", "", "Email"),
            _incident("a4", "", "2", "3", "2025-03-04 08:00:00", "", "Email"),  # no number
        ]))
        store.save_page(Page("jira", "status", [_status("1", "new"),
                                                _status("3", "indeterminate"),
                                                _status("10001", "done")]))
        store.save_page(Page("jira", "field", [RawRecord(
            "customfield_10016", "2025-03-01T00:00:00Z",
            {"id": "customfield_10016", "name": "Story Points", "custom": True})]))
        store.save_page(Page("jira", "issue", [RawRecord("10007", "2025-03-05T10:00:00Z",
                                                         ISSUE)]))
        store.save_page(Page("jira", "sprint", [RawRecord("5", "2025-03-14T00:00:00Z",
                                                          SPRINT)]))
        store.save_page(Page("jira", "sprint_scope", [RawRecord("5:start",
                                                                "2025-03-01T00:00:00Z", SCOPE)],
                             insert_only=True))


def build_hand_case(folder: Path) -> Case:
    """The hand-made records with a copy of the shipped mappings."""
    mappings = folder / "mappings"
    shutil.copytree(REPO_MAPPINGS, mappings)
    store = folder / "state.sqlite"
    fill_hand_store(store)
    return Case(store, mappings)
