"""The Jira connector: field, status, board, sprint, sprint_scope and issue streams.

Every stream yields :class:`connectors.base.Page` objects.

``issue`` is incremental on ``updated`` (jira-api.md §4): the query starts at the bookmark
minus the overlap window, written in the user's zone; ``(id, updated)`` pairs stored in the
overlap are skipped; the bookmark never passes run start minus ``lag_s`` and commits with
each page. Deleted issues are found by a periodic id-only census against the ids the
bookmark remembers (never inferred from a failed fetch: any error aborts the census).
On Cloud, a backfill (no cursor yet) lists ids only and bulk-fetches details in parallel
(:mod:`connectors.jira.backfill`); its bookmark keeps the old cursor plus a ``pass``
(``since``, ``after_id``, ``newest``) until the pass ends, so a killed backfill resumes after
its last stored chunk and the cursor never passes an issue not yet stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from connectors.base import Page, RawRecord
from connectors.jira import agile
from connectors.jira.backfill import build_backfill_jql, iter_backfill
from connectors.jira.changelog import complete_changelogs
from connectors.jira.client import JiraApi
from connectors.jira.ids import compress_ids, expand_ids
from connectors.jira.jql import build_census_jql, build_issue_jql, iso_utc, parse_jira_time
from connectors.jira.search import iter_all_ids, iter_changed_issues
from fiveo_sync.errors import ConfigError
from fiveo_sync.improvement import ITEM_LABEL_PREFIX

log = structlog.get_logger(__name__)

SOURCE = "jira"
STREAMS = ("field", "status", "board", "sprint", "sprint_scope", "issue")
BASE_FIELDS = ["summary", "status", "issuetype", "project", "created", "updated",
               "resolutiondate", "resolution", "labels", "assignee", "reporter", "priority",
               "parent", "statuscategorychangedate", "duedate", "fixVersions", "components",
               "security"]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


class JiraConnector:
    """Pulls one Jira site.

    Args:
        api: the authenticated client.
        projects: project keys in scope (empty = every visible project).
        clock: returns the current aware time.
        overlap_s: re-read window before the bookmark.
        lag_s: the bookmark never passes run start minus this.
        backfill_days: how far back a first pull without projects reaches.
        page_size: issues asked per search page.
        census_every_s: seconds between deletion censuses.
        concurrency: bulk fetches in flight during a Cloud backfill.
    """

    source = SOURCE

    def __init__(self, api: JiraApi, *, projects: Sequence[str], clock: Callable[[], datetime],
                 overlap_s: int = 300, lag_s: int = 60, backfill_days: int = 400,
                 page_size: int = 100, census_every_s: int = 86_400,
                 own_label: str | None = None, concurrency: int = 4) -> None:
        self.api = api
        # Scorecard issues carry this label: they are fiveo-sync's output, never its input.
        self.own_label = own_label
        self.projects = sorted({p.upper() for p in projects})
        self.clock = clock
        self.overlap = timedelta(seconds=overlap_s)
        self.lag = timedelta(seconds=lag_s)
        self.backfill = timedelta(days=backfill_days)
        self.page_size = page_size
        self.census_every = timedelta(seconds=census_every_s)
        self.concurrency = max(1, concurrency)
        self.stats = api.stats
        self._boards: list[dict[str, Any]] | None = None
        self._configs: dict[int, dict[str, Any]] = {}
        self._sprints: list[tuple[int, dict[str, Any]]] | None = None

    def _own(self, issue: dict[str, Any]) -> bool:
        """Whether fiveo-sync wrote this issue: a scorecard or an improvement item.

        Improvement items carry a ``fiveo-imp-<hash>`` label (:mod:`fiveo_sync.improvement`)
        whatever label improvement.yaml configures.
        """
        labels = [str(label) for label in issue["fields"].get("labels") or ()]
        return bool(self.own_label and self.own_label in labels) or any(
            label.startswith(ITEM_LABEL_PREFIX) for label in labels)

    def streams(self) -> Sequence[str]:
        """Stream names, in pull order (sprints before their scope)."""
        return STREAMS

    def close(self) -> None:
        """Release the HTTP session."""
        self.api.close()

    def iter_pages(self, stream: str, bookmark: dict[str, Any] | None,
                   *, full: bool = False) -> Iterator[Page]:
        """Yield pages of ``stream`` changed since ``bookmark``."""
        handlers = {"field": self._fields, "status": self._statuses, "board": self._board_pages,
                    "sprint": self._sprint_pages, "sprint_scope": self._scope_pages,
                    "issue": self._issue_pages}
        if stream not in handlers:
            raise ConfigError(f"unknown jira stream {stream!r}")
        before = self.stats.requests
        for page in handlers[stream](None if full else bookmark):
            yield Page(page.source, page.stream, page.records, page.deleted_keys,
                       page.bookmark, page.insert_only, self.stats.requests - before)
            before = self.stats.requests

    # -- reference data -----------------------------------------------------------------

    def _snapshot(self, stream: str, items: list[dict[str, Any]], key: str,
                  bookmark: dict[str, Any] | None) -> Iterator[Page]:
        digests = {str(i[key]): _digest(i) for i in items}
        old = (bookmark or {}).get("digests") or {}
        now = iso_utc(self.clock())
        changed = [RawRecord(str(i[key]), now, i) for i in items
                   if old.get(str(i[key])) != digests[str(i[key])]]
        deleted = sorted(set(old) - set(digests))
        yield Page(SOURCE, stream, changed, deleted, {"digests": digests})

    def _fields(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        yield from self._snapshot("field", self.api.fields(), "id", bookmark)

    def _statuses(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        _, body = self.api.get(f"{self.api.api}/status")
        yield from self._snapshot("status", list(body or []), "id", bookmark)

    # -- boards and sprints -------------------------------------------------------------

    def _board_list(self) -> list[dict[str, Any]]:
        if self._boards is None:
            self._boards = list(agile.iter_boards(self.api, set(self.projects)))
        return self._boards

    def _board_pages(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        old = (bookmark or {}).get("digests") or {}
        refreshed = (bookmark or {}).get("configured_at")
        due = refreshed is None or self.clock() - datetime.fromisoformat(
            refreshed.replace("Z", "+00:00")) >= self.census_every
        boards = self._board_list()
        digests, records = {}, []
        for board in boards:
            board_id = str(board["id"])
            digests[board_id] = _digest(board)
            if due or old.get(board_id) != digests[board_id]:
                config = agile.fetch_configuration(self.api, int(board["id"]))
                self._configs[int(board["id"])] = config
                records.append(RawRecord(board_id, iso_utc(self.clock()),
                                         {**board, "configuration": config}))
        new_mark = {"digests": digests,
                    "configured_at": iso_utc(self.clock()) if due else refreshed}
        yield Page(SOURCE, "board", records, sorted(set(old) - set(digests)), new_mark)

    def _sprint_list(self) -> list[tuple[int, dict[str, Any]]]:
        if self._sprints is None:
            found: dict[int, tuple[int, dict[str, Any]]] = {}
            for board in self._board_list():
                # Team-managed ("simple") boards can have sprints too; 400 means none.
                if board.get("type") == "kanban":
                    continue
                for sprint in agile.iter_board_sprints(self.api, int(board["id"])):
                    origin = int(sprint.get("originBoardId") or board["id"])
                    found.setdefault(int(sprint["id"]), (origin, sprint))
            self._sprints = [found[k] for k in sorted(found)]
        return self._sprints

    def _sprint_pages(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        """Every sprint of every scrum or team-managed board, stored when it changed.

        Cost: one ``/board/{id}/sprint`` request per such board (per 50 sprints), even
        when nothing changed, so a no-change pull exceeds 2 requests here once there are
        more than 2 scrum boards. Nothing cheaper is correct (jira-api.md §5):

        - the Agile API lists sprints only per board; there is no cross-board sprint list
          and no "changed since" filter, and sprint objects carry no update stamp;
        - starting, completing, renaming, re-goaling or re-dating a sprint touches no issue
          (``updated`` does not move), so the issue stream cannot tell when to look;
        - no schedule predicts those events: sprints start and close when someone clicks,
          not at ``startDate``/``endDate``;
        - closed sprints still change (their ``name`` and ``goal`` can be edited), so
          asking only ``state=active,future`` would miss edits that sprint-goal
          indicators read.

        The board list is read once per run and shared with ``sprint_scope``, which adds
        requests only for sprints that need a scope snapshot or a sprint report.
        """
        old = (bookmark or {}).get("digests") or {}
        digests, records = {}, []
        for _, sprint in self._sprint_list():
            key = str(sprint["id"])
            digests[key] = _digest(sprint)
            if old.get(key) != digests[key]:
                stamp = sprint.get("completeDate") or sprint.get("startDate") \
                    or sprint.get("createdDate")
                updated = iso_utc(parse_jira_time(stamp)) if stamp else iso_utc(self.clock())
                records.append(RawRecord(key, updated, sprint))
        yield Page(SOURCE, "sprint", records, (), {"digests": digests})

    def _scope_pages(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        taken = set((bookmark or {}).get("taken") or [])
        for board_id, sprint in self._sprint_list():
            sprint_id, state = int(sprint["id"]), sprint.get("state")
            records = []
            if state == "active" and f"{sprint_id}:start" not in taken:
                field_id = agile.points_field(self.api, self._config(board_id))
                items = agile.fetch_sprint_members(self.api, sprint_id, field_id)
                records.append(self._scope_record(sprint_id, board_id, "start", "snapshot",
                                                  items))
            elif state == "closed" and f"{sprint_id}:close" not in taken:
                report = agile.fetch_sprint_report(self.api, board_id, sprint_id)
                if report is not None:
                    start, close = agile.scope_from_report(report)
                    if f"{sprint_id}:start" not in taken:
                        records.append(self._scope_record(sprint_id, board_id, "start",
                                                          "sprint_report", start))
                    records.append(self._scope_record(sprint_id, board_id, "close",
                                                      "sprint_report", close))
            if records:
                taken.update(r.key for r in records)
                yield Page(SOURCE, "sprint_scope", records, (), {"taken": sorted(taken)},
                           insert_only=True)

    def _config(self, board_id: int) -> dict[str, Any]:
        if board_id not in self._configs:
            self._configs[board_id] = agile.fetch_configuration(self.api, board_id)
        return self._configs[board_id]

    def _scope_record(self, sprint_id: int, board_id: int, moment: str, source: str,
                      items: list[dict[str, Any]]) -> RawRecord:
        taken_at = iso_utc(self.clock())
        return RawRecord(f"{sprint_id}:{moment}", taken_at, {
            "sprint_id": sprint_id, "board_id": board_id, "moment": moment,
            "taken_at": taken_at, "source": source, "items": items})

    # -- issues ---------------------------------------------------------------------------

    def _issue_fields(self) -> list[str]:
        extra = [self.api.sprint_field()] + self.api.story_point_fields() + \
            self.api.satisfaction_fields()
        return BASE_FIELDS + sorted({f for f in extra if f})

    def _issue_pages(self, bookmark: dict[str, Any] | None) -> Iterator[Page]:
        if bookmark and bookmark.get("scope") != self.projects:
            log.info("bookmark_invalidated", stream="issue", reason="project scope changed")
            bookmark = None
        run_start = self.clock()
        cap = run_start - self.lag
        zone = self.api.zone
        cursor = parse_jira_time(bookmark["updated"]) if bookmark and bookmark.get(
            "updated") else None
        since = cursor - self.overlap if cursor else None
        floor = run_start - self.backfill
        known = set(expand_ids((bookmark or {}).get("known_ids") or []))
        seen: dict[str, tuple[datetime, str]] = {
            k: (parse_jira_time(v), v) for k, v in ((bookmark or {}).get("boundary") or {}).items()}
        census_at = (bookmark or {}).get("census_at")
        fields = self._issue_fields()
        started = time.monotonic()

        def mark() -> dict[str, Any]:
            newest = max((stamp for stamp, _ in seen.values()), default=cursor)
            new_cursor = min(newest, cap) if newest else None
            threshold = (new_cursor - self.overlap) if new_cursor else None
            boundary = {k: raw for k, (stamp, raw) in seen.items()
                        if threshold is not None and stamp >= threshold}
            return {"updated": iso_utc(new_cursor) if new_cursor else None,
                    "boundary": boundary, "known_ids": compress_ids(known),
                    "census_at": census_at, "scope": self.projects}

        pass_state = (bookmark or {}).get("pass")
        if self.api.cloud and self.concurrency > 1 and (cursor is None or pass_state):
            census_at = yield from self._bulk_pass(bookmark, known, census_at, run_start,
                                                   floor, fields)
            changed: Iterator[list[dict[str, Any]]] = iter(())
        else:
            changed = iter_changed_issues(
                self.api, lambda c: build_issue_jql(self.projects, c, zone, floor=floor),
                since, fields=fields, expand="changelog", page_size=self.page_size,
                skip={k: raw for k, (_, raw) in seen.items()})
        for issues in changed:
            complete_changelogs(self.api, issues)
            records = []
            for issue in issues:
                raw = issue["fields"]["updated"]
                stamp = parse_jira_time(raw)
                seen[str(issue["id"])] = (stamp, raw)
                if self._own(issue):
                    continue
                known.add(int(issue["id"]))
                records.append(RawRecord(str(issue["id"]), iso_utc(stamp), issue))
            if records or not bookmark:
                yield Page(SOURCE, "issue", records, (), mark())
        log.info("issues_pulled", seconds=round(time.monotonic() - started, 3))
        due = census_at is None or run_start - parse_jira_time(census_at) >= self.census_every
        if known and due:
            census = set(iter_all_ids(self.api, lambda after: build_census_jql(
                self.projects, after)))
            if not census:
                log.warning("census_skipped", reason="no issue visible; not inferring deletions")
                return
            deleted = sorted(str(i) for i in known - census)
            known = census
            census_at = iso_utc(run_start)
            log.info("census_taken", visible=len(census), deleted=len(deleted))
            yield Page(SOURCE, "issue", (), deleted, mark())


    def _bulk_pass(self, bookmark: dict[str, Any] | None, known: set[int],
                   census_at: str | None, run_start: datetime, floor: datetime,
                   fields: list[str]) -> Generator[Page, None, str | None]:
        """A Cloud backfill by id listing and parallel bulk fetch; returns ``census_at``."""
        state = dict((bookmark or {}).get("pass") or {})
        old_cursor = (bookmark or {}).get("updated")
        if state:
            since = parse_jira_time(state["since"]) if state.get("since") else None
        else:
            since = parse_jira_time(old_cursor) - self.overlap if old_cursor else None
        newest = parse_jira_time(state["newest"]) if state.get("newest") else None
        cap = run_start - self.lag
        skip: dict[str, str] = dict((bookmark or {}).get("boundary") or {})
        recent: dict[str, tuple[datetime, str]] = {}
        issue_jql = build_issue_jql(self.projects, since, self.api.zone, floor=floor)
        base = {"updated": old_cursor, "boundary": skip, "census_at": census_at,
                "scope": self.projects}
        for last_id, issues in iter_backfill(
                self.api, lambda after: build_backfill_jql(issue_jql, after),
                state.get("after_id"), fields=fields, chunk=min(self.page_size, 100),
                concurrency=self.concurrency):
            records = []
            for issue in issues:
                key, raw = str(issue["id"]), issue["fields"]["updated"]
                stamp = parse_jira_time(raw)
                # Issues are listed by id, not by time: an edit made after the listing
                # must not move the cursor past issues still to come (read next run).
                if stamp < cap:
                    newest = stamp if newest is None else max(newest, stamp)
                recent[key] = (stamp, raw)
                if skip.get(key) == raw:
                    continue
                if self._own(issue):
                    continue
                known.add(int(key))
                records.append(RawRecord(key, iso_utc(stamp), issue))
            if newest is not None and len(recent) > 1000:
                floor_stamp = min(newest, cap) - self.overlap
                recent = {k: v for k, v in recent.items() if v[0] >= floor_stamp}
            state = {"since": iso_utc(since) if since else None, "after_id": last_id,
                     "newest": iso_utc(newest) if newest else None}
            yield Page(SOURCE, "issue", records, (),
                       {**base, "known_ids": compress_ids(known), "pass": state})
        cursor = min(newest, cap) if newest else (
            parse_jira_time(old_cursor) if old_cursor else None)
        threshold = cursor - self.overlap if cursor else None
        boundary = {k: raw for k, (stamp, raw) in recent.items()
                    if threshold is not None and stamp >= threshold}
        if since is None and self.projects:
            census_at = iso_utc(run_start)  # this pass listed every visible issue
        yield Page(SOURCE, "issue", (), (), {
            "updated": iso_utc(cursor) if cursor else None, "boundary": boundary,
            "known_ids": compress_ids(known), "census_at": census_at, "scope": self.projects})
        return census_at


def build_connector(settings: Any, *, clock: Callable[[], datetime] | None = None,
                    projects: Sequence[str] | None = None,
                    sleep: Callable[[float], None] | None = None) -> JiraConnector:
    """The Jira connector from the full fiveo settings.

    Args:
        settings: fiveo ``Settings`` (uses ``jira``, ``http`` and ``sync``).
        clock: returns the current aware time (defaults to the system clock, UTC).
        projects: project keys in scope; defaults to ``settings.jira.projects``.
        sleep: the retry layer's wait (tests pass a no-op).
    """
    jira = settings.jira
    if jira is None or not jira.url:
        raise ConfigError("jira is not configured (jira.url)")
    api = JiraApi(jira, getattr(settings, "http", None), sleep=sleep or time.sleep)
    sync = getattr(settings, "sync", None)
    return JiraConnector(
        api, projects=list(projects if projects is not None else jira.projects),
        clock=clock or (lambda: datetime.now(UTC)),
        overlap_s=getattr(sync, "overlap_s", 300), lag_s=getattr(sync, "lag_s", 60),
        backfill_days=getattr(sync, "backfill_days", 400), page_size=jira.page_size,
        census_every_s=jira.census_every_s, own_label=jira.scorecard.label,
        concurrency=getattr(getattr(settings, "http", None), "concurrency", 4))
