"""The sandbox's mutable data set: projects, boards, sprints and issues, with mutations.

Issues are generated once from the world; their histories are dropped after generation and
regenerated on demand (:meth:`Dataset.histories`) so that 100,000 issues fit in memory.
Changes made through the API or the test knobs append explicit histories.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.jira.sandbox.data import (
    CLOUD_FIELDS,
    DC_FIELDS,
    SPRINT_LENGTH,
    STATUS_BY_ID,
    Board,
    History,
    Issue,
    Item,
    Sprint,
    add_evidence_fields,
    build_issue,
    build_sprints,
)
from connectors.jira.sandbox.extras import Extras
from connectors.world import World

# Issues whose regenerated histories are kept (oldest evicted first): the 20,000-issue
# tests fit; scale large (100,000 issues) keeps a bounded part.
HISTORY_CACHE = 25_000


class Dataset:
    """Everything the sandbox serves, guarded by one lock.

    Args:
        world: the shared organisation.
        deployment: ``cloud`` or ``datacenter`` (chooses the custom field ids).
    """

    def __init__(self, world: World, deployment: str) -> None:
        self.world = world
        self.fields = CLOUD_FIELDS if deployment == "cloud" else DC_FIELDS
        self.lock = threading.RLock()
        self.projects: dict[str, dict[str, Any]] = {}
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, Sprint] = {}
        self.issues: dict[int, Issue] = {}
        self.by_key: dict[str, int] = {}
        self._next_id = 10000
        self._next_sprint = 1
        self._generated: dict[int, tuple[Any, int]] = {}
        # sprint id -> ids of issues that were ever in it (for sprint reports)
        self.ever_in: dict[int, set[int]] = {}
        # Sprints as they were when issues were generated: histories are regenerated from
        # these, so later sprint edits (start, close, rename) never rewrite the past.
        self._born_sprints: dict[int, list[Sprint]] = {}
        self._history_cache: dict[int, list[History]] = {}
        # board id -> ids of sprints of other boards that it also lists (shared sprints)
        self.shared: dict[int, set[int]] = {}
        # scrum boards whose columns map no status: their sprint list answers 422
        self.unmapped: set[int] = set()
        # Fidelity options (set by the sandbox): old-Server sprint strings on issues, and
        # Cloud search index lag (seconds) that ``reconcileIssues`` sees through.
        self.sprint_strings = False
        self.index_lag_s = 0.0
        # Bumped by every mutation: search results are cached per (query, version).
        self.version = 0
        self.query_cache: dict[tuple[Any, ...], list[Issue]] = {}
        self.order_cache: dict[tuple[Any, ...], list[Issue]] = {}
        for index, product in enumerate(world.products):
            self._build_product(index, product)
        self.extras = Extras(self)

    def _build_product(self, index: int, product: Any) -> None:
        project_id = 10000 + index
        self.projects[product.key] = {"id": project_id, "key": product.key,
                                      "name": product.name, "lead": product.owner}
        self.boards[product.scrum_board_id] = Board(
            product.scrum_board_id, f"{product.key} board", "scrum", product.key, project_id)
        if product.kanban_board_id is not None:
            self.boards[product.kanban_board_id] = Board(
                product.kanban_board_id, f"{product.key} kanban", "kanban", product.key,
                project_id)
        sprints = build_sprints(self.world, product, self._next_sprint)
        self._next_sprint += len(sprints)
        for sprint in sprints:
            self.sprints[sprint.id] = sprint
        self._born_sprints[product.scrum_board_id] = [dataclasses.replace(s) for s in sprints]
        for number in range(1, product.issue_count + 1):
            issue = build_issue(self.world, product, number, self._next_id, sprints,
                                self.fields, len(self.world.people))
            for history in issue.histories or []:
                for item in history.items:
                    if item[0] == "Sprint":
                        for value in (item[3] or "").split(",") + (item[5] or "").split(","):
                            if value.strip():
                                self.ever_in.setdefault(int(value), set()).add(issue.id)
            if len(self._history_cache) < HISTORY_CACHE:
                self._history_cache[issue.id] = issue.histories or []
            issue.histories = None  # the explicit ones only; generated ones come back on demand
            self.issues[issue.id] = issue
            self.by_key[issue.key] = issue.id
            self._generated[issue.id] = (product, number)
            self._next_id += 1
        add_evidence_fields(self.world, product,
                            [self.issues[self.by_key[f"{product.key}-{n}"]]
                             for n in range(1, product.issue_count + 1)], self.fields)

    # -- reading ------------------------------------------------------------------------

    def find(self, id_or_key: str) -> Issue | None:
        """The issue with this id or key, or ``None`` (deleted or unknown)."""
        with self.lock:
            if id_or_key.isdigit():
                return self.issues.get(int(id_or_key))
            issue_id = self.by_key.get(id_or_key.upper())
            return self.issues.get(issue_id) if issue_id is not None else None

    def histories(self, issue: Issue) -> list[History]:
        """The issue's complete history, oldest first (sorted by created, then id)."""
        base = self._generated_histories(issue.id)
        extra = issue.histories or []
        if not extra:
            return list(base)
        return sorted(base + extra, key=lambda h: (h.created, h.id))

    def is_generated(self, issue_id: int) -> bool:
        """Whether the issue came from the world (not created through the API)."""
        return issue_id in self._generated

    def generated_histories(self, issue_id: int) -> list[History]:
        """The histories the issue was generated with (no API changes)."""
        return self._generated_histories(issue_id)

    def _generated_histories(self, issue_id: int) -> list[History]:
        """Regenerated histories, remembered for up to :data:`HISTORY_CACHE` issues.

        Every pull and every sprint report reads them again; regenerating is the sandbox's
        hottest path, while holding all of them would not fit at scale large.
        """
        cached = self._history_cache.get(issue_id)
        if cached is not None:
            return cached
        if issue_id not in self._generated:
            return []
        product, number = self._generated[issue_id]
        sprints = self._born_sprints[product.scrum_board_id]
        base = build_issue(self.world, product, number, issue_id, sprints, self.fields,
                           len(self.world.people)).histories or []
        with self.lock:
            if len(self._history_cache) >= HISTORY_CACHE:
                self._history_cache.pop(next(iter(self._history_cache)))
            self._history_cache[issue_id] = base
        return base

    def iter_issues(self) -> Iterator[Issue]:
        """A snapshot of all issues (safe to iterate while others mutate)."""
        with self.lock:
            return iter(list(self.issues.values()))

    def board_sprints(self, board_id: int) -> list[Sprint]:
        """Sprints shown on a board (its own and shared ones), in sprint id order."""
        shared = self.shared.get(board_id, set())
        return sorted((s for s in self.sprints.values()
                       if s.board_id == board_id or s.id in shared), key=lambda s: s.id)

    # -- agile mutations ----------------------------------------------------------------

    def share_sprint(self, sprint_id: int, board_id: int) -> None:
        """List a sprint on another board too (its ``originBoardId`` stays the same)."""
        with self.lock:
            self.version += 1
            if sprint_id not in self.sprints or board_id not in self.boards:
                raise KeyError((sprint_id, board_id))
            self.shared.setdefault(board_id, set()).add(sprint_id)

    def update_sprint(self, sprint_id: int, when: datetime, *, state: str | None = None,
                      name: str | None = None, goal: str | None = None) -> Sprint:
        """Start, close, rename or re-goal a sprint as a user would; no issue is touched."""
        with self.lock:
            self.version += 1
            sprint = self.sprints[sprint_id]
            if state == "active" and sprint.state == "future":
                sprint.state, sprint.start, sprint.end = "active", when, when + SPRINT_LENGTH
            elif state == "closed" and sprint.state == "active":
                sprint.state, sprint.complete = "closed", when
            elif state is not None and state != sprint.state:
                raise ValueError(f"cannot move a {sprint.state} sprint to {state}")
            if name is not None:
                sprint.name = name
            if goal is not None:
                sprint.goal = goal
            return sprint

    # -- mutations ----------------------------------------------------------------------

    def _record(self, issue: Issue, when: datetime, author: int, *items: Item) -> None:
        extra = issue.histories if issue.histories is not None else []
        extra.append(History(issue.id * 1000 + 500 + len(extra), when, author, items))
        issue.histories = extra
        issue.updated = when

    def update_issue(self, id_or_key: str, when: datetime, *, status: str | None = None,
                     summary: str | None = None, labels_add: tuple[str, ...] = (),
                     labels_remove: tuple[str, ...] = (), points: float | None = None,
                     fields: dict[str, Any] | None = None, author: int | None = None,
                     ) -> Issue:
        """Change an issue as a user would; ``updated`` becomes ``when``.

        ``author`` writes the history entry (default: the assignee, as the test knobs do).
        """
        with self.lock:
            self.version += 1
            issue = self.find(id_or_key)
            if issue is None:
                raise KeyError(id_or_key)
            items: list[Item] = []
            if status is not None and status != issue.status:
                old = issue.status
                items.append(("status", "jira", "status", old, STATUS_BY_ID[old][1], status,
                              STATUS_BY_ID[status][1]))
                if STATUS_BY_ID[status][2] == "done" and issue.resolved is None:
                    items.append(("resolution", "jira", "resolution", None, None, "10000",
                                  "Done"))
                    issue.resolved = when
                elif STATUS_BY_ID[status][2] != "done" and issue.resolved is not None:
                    items.append(("resolution", "jira", "resolution", "10000", "Done", None,
                                  None))
                    issue.resolved = None
                issue.status = status
            if summary is not None and summary != issue.summary:
                items.append(("summary", "jira", "summary", None, issue.summary, None, summary))
                issue.summary = summary
            new_labels = sorted((set(issue.labels) | set(labels_add)) - set(labels_remove))
            if new_labels != issue.labels:
                items.append(("labels", "jira", "labels", None, " ".join(issue.labels), None,
                              " ".join(new_labels)))
                issue.labels = new_labels
            if points is not None and points != issue.points:
                items.append((self.fields.story_points_name, "custom", self.fields.story_points,
                              None, f"{issue.points:g}" if issue.points is not None else None,
                              None, f"{points:g}"))
                issue.points = points
            if fields:
                issue.extra.update(fields)
            if items:
                if author is None:  # the test knobs act as the assignee (or the reporter)
                    author = issue.assignee if issue.assignee is not None else issue.reporter
                self._record(issue, when, author, *items)
            else:
                issue.updated = when
            return issue

    def create_issue(self, project: str, kind: str, summary: str, when: datetime,
                     labels: list[str] | None = None, extra: dict[str, Any] | None = None
                     ) -> Issue:
        """Create an issue numbered after the project's highest number."""
        with self.lock:
            self.version += 1
            numbers = [i.number for i in self.issues.values() if i.project == project]
            number = max(numbers, default=0) + 1
            issue = Issue(self._next_id, f"{project}-{number}", project, number, kind, "10000",
                          when, when, None, sorted(labels or []), [], None, summary, 0, 0,
                          None, [], dict(extra or {}))
            self._next_id += 1
            self.issues[issue.id] = issue
            self.by_key[issue.key] = issue.id
            return issue

    def delete_issue(self, id_or_key: str) -> None:
        """Delete an issue for good (Jira keeps no tombstone)."""
        with self.lock:
            self.version += 1
            issue = self.find(id_or_key)
            if issue is None:
                raise KeyError(id_or_key)
            del self.issues[issue.id]
            del self.by_key[issue.key]
            self._generated.pop(issue.id, None)
            self._history_cache.pop(issue.id, None)
