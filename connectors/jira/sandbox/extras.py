"""Comments, worklogs, versions and components: generated on demand, plus API additions.

Everything generated here comes from its own ``random.Random`` streams keyed by
``(seed, what, key)``, so adding it changed no value the sandbox served before (issue
fields, changelogs, sprints). Generated comments and worklogs fall between an issue's
creation and its last *generated* change, so they never move ``updated``. Comments and
worklogs added through the API are kept on the issue (``issue.extra``) and do.

Authors are people indexes (``int``); negative indexes are the integration accounts
(:mod:`connectors.jira.sandbox.accounts`). Bodies are kept as posted: a string (wiki
markup, ``/rest/api/2``) or an ADF document (``/rest/api/3``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.jira.sandbox.data import Issue

if TYPE_CHECKING:
    from connectors.jira.sandbox.dataset import Dataset

_COMMENTS = ("Picked this up, starting with the {area} side.", "Reproduced on staging.",
             "Waiting on a review from {name}.", "Deployed to the test environment, please "
             "verify.", "Blocked by an upstream change; {name} is on it.",
             "Verified in production.")
_AREAS = ("API", "Web", "Mobile", "Data", "Infrastructure", "Documentation")
_WORK = ("Investigation", "Implementation", "Code review", "Testing", "")
# Jira's default time tracking: 1w = 5d, 1d = 8h.
_UNITS = (("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60))
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[wdhm]\s*)+$")


@dataclass
class Comment:
    """One comment (generated or added)."""

    id: int
    author: int
    body: Any
    created: datetime
    updated: datetime


@dataclass
class Worklog:
    """One worklog entry."""

    id: int
    author: int
    comment: Any
    started: datetime
    created: datetime
    seconds: int


def duration(seconds: int) -> str:
    """``1d 2h 30m`` as Jira writes time spent (``0m`` for nothing)."""
    parts, rest = [], seconds
    for unit, size in _UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) or "0m"


def parse_duration(text: str) -> int | None:
    """Seconds of a Jira duration such as ``2h 30m`` or ``1.5d``; ``None`` if invalid."""
    if not isinstance(text, str) or not _DURATION.match(text):
        return None
    sizes = dict(_UNITS)
    total = sum(float(n) * sizes[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([wdhm])", text))
    return int(total)


def _person(index: int | None, issue: Issue) -> int:
    """An author index; unassigned issues (assignee ``None``) fall back to the reporter."""
    return issue.reporter if index is None else index


class Extras:
    """The comments, worklogs, versions and components of one data set."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self._next_comment = 5_000_000
        self._next_worklog = 6_000_000
        # Versions and components never change: built once per project.
        self._versions: dict[str, list[dict[str, Any]]] = {}
        self._components: dict[str, list[dict[str, Any]]] = {}

    # -- projects -----------------------------------------------------------------------

    def versions(self, project: str) -> list[dict[str, Any]]:
        """The project's versions: four-weekly releases over the history, then one ahead."""
        if project not in self._versions:
            self._versions[project] = self._build_versions(project)
        return self._versions[project]

    def _build_versions(self, project: str) -> list[dict[str, Any]]:
        info = self.data.projects[project]
        world = self.data.world
        out, n = [], 0
        release = world.history_start + timedelta(days=28)
        while True:
            start = release - timedelta(days=28)
            out.append({"id": str(info["id"] * 100 + n), "name": f"{project} {1 + n // 10}."
                        f"{n % 10}", "archived": False,
                        "released": release <= world.now,
                        "startDate": start.date().isoformat(),
                        "releaseDate": release.date().isoformat(),
                        "projectId": info["id"], "description": ""})
            if release > world.now:
                return out
            n += 1
            release += timedelta(days=28)

    def components(self, project: str) -> list[dict[str, Any]]:
        """Three components per project, each with a lead."""
        if project not in self._components:
            self._components[project] = self._build_components(project)
        return self._components[project]

    def _build_components(self, project: str) -> list[dict[str, Any]]:
        info = self.data.projects[project]
        rng = random.Random(f"{self.data.world.seed}:components:{project}")
        names = rng.sample(_AREAS, 3)
        people = len(self.data.world.people)
        return [{"id": str(info["id"] * 10 + i), "name": name, "description": f"{name} work",
                 "lead": rng.randrange(people), "assigneeType": "PROJECT_DEFAULT",
                 "project": project, "projectId": info["id"]}
                for i, name in enumerate(names)]

    def issue_links(self, issue: Issue) -> tuple[list[str], list[str], list[str]]:
        """(component ids, affects-version ids, fix-version ids) of an issue."""
        rng = random.Random(f"{self.data.world.seed}:issue-meta:{issue.key}")
        comps = self.components(issue.project)
        chosen = sorted(rng.sample(range(len(comps)), rng.choice((0, 1, 1, 2))))
        versions = self.versions(issue.project)
        affects = []
        if issue.type == "Bug" and rng.random() < 0.5:
            before = [v for v in versions if v["released"]
                      and v["releaseDate"] <= issue.created.date().isoformat()]
            affects = [before[-1]["id"]] if before else []
        fixes = []
        if issue.resolved is not None:
            day = issue.resolved.date().isoformat()
            fixes = [next((v["id"] for v in versions if v["releaseDate"] >= day),
                          versions[-1]["id"])]
        return [comps[i]["id"] for i in chosen], affects, fixes

    # -- comments and worklogs ----------------------------------------------------------

    def _span(self, issue: Issue) -> tuple[datetime, timedelta] | None:
        if not self.data.is_generated(issue.id):
            return None
        generated = self.data.generated_histories(issue.id)
        last = max([issue.created] + [h.created for h in generated])
        span = last - issue.created
        return (issue.created, span) if span > timedelta(minutes=1) else None

    def comments(self, issue: Issue) -> list[Comment]:
        """All comments of an issue, oldest first."""
        out: list[Comment] = []
        span = self._span(issue)
        if span is not None:
            rng = random.Random(f"{self.data.world.seed}:comments:{issue.key}")
            people = self.data.world.people
            times = sorted(span[0] + span[1] * rng.random()
                           for _ in range(rng.choice((0, 0, 1, 1, 2, 3))))
            for j, when in enumerate(times):
                when = when.replace(microsecond=rng.randrange(1000) * 1000)
                text = rng.choice(_COMMENTS).format(
                    area=rng.choice(_AREAS), name=people[rng.randrange(len(people))]
                    .display_name)
                author = rng.choice((issue.assignee, issue.reporter))
                out.append(Comment(issue.id * 10 + j, _person(author, issue), text, when, when))
        return out + list(issue.extra.get("comments", []))

    def add_comment(self, issue: Issue, author: int, body: Any, when: datetime) -> Comment:
        """Add a comment now; the issue's ``updated`` moves to ``when``."""
        with self.data.lock:
            self.data.version += 1
            self._next_comment += 1
            comment = Comment(self._next_comment, author, body, when, when)
            issue.extra.setdefault("comments", []).append(comment)
            issue.updated = when
            return comment

    def worklogs(self, issue: Issue) -> list[Worklog]:
        """All worklogs of an issue (issues that left To Do have some), oldest first."""
        out: list[Worklog] = []
        span = self._span(issue)
        if span is not None and issue.status != "10000":
            rng = random.Random(f"{self.data.world.seed}:worklogs:{issue.key}")
            for j in range(rng.choice((0, 1, 1, 2))):
                started = span[0] + span[1] * rng.random()
                started = started.replace(second=0, microsecond=0)
                out.append(Worklog(issue.id * 10 + j, _person(issue.assignee, issue),
                                   rng.choice(_WORK),
                                   started, started, 900 * rng.randint(1, 24)))
            out.sort(key=lambda w: (w.started, w.id))
        return out + list(issue.extra.get("worklogs", []))

    def add_worklog(self, issue: Issue, author: int, seconds: int, comment: Any,
                    started: datetime, when: datetime) -> Worklog:
        """Log work now; the issue's ``updated`` moves to ``when``."""
        with self.data.lock:
            self.data.version += 1
            self._next_worklog += 1
            worklog = Worklog(self._next_worklog, author, comment, started, when, seconds)
            issue.extra.setdefault("worklogs", []).append(worklog)
            issue.updated = when
            return worklog

