"""Indicator results as one Jira scorecard issue per product, diffed into a write plan.

design.md "Write-back" and jira-api.md §6: each product (a Jira project in the portfolio)
gets one issue, summary ``5 O scorecard — <product>``, carrying the scorecard label. It is
found again by label and the ``fiveo.scorecard`` entity property (never by summary, which
people edit), so it is never duplicated. The description is a table per O (ADF on Cloud,
wiki markup on Data Center); the property holds the results as JSON (≤ 32 768 characters:
history is trimmed to the latest period per series first). A digest of everything written
sits in the property, so an unchanged scorecard costs no write at all.

Not nagging: a run that changes a headline (complete-period) status adds one comment listing
every such change, compared with the headlines the property kept from the last write; a
change of a value, or of the period to date, edits the scorecard without a comment (and the
executor asks Jira not to notify watchers of edits). The comment's marker — the stored digest
it starts from plus the changes — lets a rerun after a crash find it instead of posting it
twice.

The description leads with each series' last complete period (its status is the one that
counts) and shows the current period to date beside it, marked partial
(docs/owner-views.md); the owner and linked services appear by display name, and each value
links to a Jira issue search or ServiceNow list of exactly the records it counted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fiveo_sync.engine.result import IndicatorResult, parse_utc
from fiveo_sync.evidence_links import EvidenceLink
from fiveo_sync.headline import split_series
from fiveo_sync.writers import jira_markup
from fiveo_sync.writers.context import PublishContext
from fiveo_sync.writers.plan import Plan, WriteOp
from fiveo_sync.writers.servicenow import format_number

TARGET = "jira"
PROPERTY_KEY = "fiveo.scorecard"
MAX_PROPERTY_CHARS = 32_768
O_ORDER = ("organise", "orient", "operate", "observe", "optimise")
HEADER = ("Indicator", "Scope", "Period", "Value", "Target", "Status", "Trend", "Source")
SCORECARD_HEADER = ("Indicator", "Scope", "Complete period", "Value", "Target", "Status",
                    "Trend", "To date (partial)", "Evidence", "Source")
MAX_DESCRIPTION_CHARS = jira_markup.MAX_DESCRIPTION_CHARS


@dataclass(frozen=True)
class ScorecardTarget:
    """A product that gets a scorecard issue.

    Attributes:
        product: the product's portfolio id (the ``scope`` of its results).
        name: the product's display name (used in the summary).
        project_key: the Jira project the scorecard issue lives in.
        services: linked services whose combined results join the scorecard.
    """

    product: str
    name: str
    project_key: str
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class CurrentScorecard:
    """A scorecard issue as Jira holds it now.

    Attributes:
        issue_key: e.g. ``PAY-101``.
        summary: the summary as it is now (people may have edited it).
        labels: the issue's labels.
        scorecard: the ``fiveo.scorecard`` property value, or None when absent.
    """

    issue_key: str
    summary: str = ""
    labels: tuple[str, ...] = ()
    scorecard: Mapping[str, Any] | None = None


def build_summary(target: ScorecardTarget) -> str:
    """``5 O scorecard — <product name>`` (single line)."""
    return f"5 O scorecard — {jira_markup.clean_text(target.name or target.product)}"


def select_results(target: ScorecardTarget,
                   results: Iterable[IndicatorResult]) -> list[IndicatorResult]:
    """The product's own results plus the combined results of its linked services."""
    services = set(target.services)
    chosen = [r for r in results
              if (r.scope_type == "product" and r.scope == target.product)
              or (r.view == "combined" and r.scope_type == "service" and r.scope in services)]
    return sorted(chosen, key=lambda r: (r.key, r.period_start))


def latest_per_series(results: Iterable[IndicatorResult]) -> list[IndicatorResult]:
    """The result of the latest period of each series (indicator, scope, breakdown)."""
    latest: dict[str, IndicatorResult] = {}
    for result in results:
        held = latest.get(result.series_key)
        if held is None or result.period_start > held.period_start:
            latest[result.series_key] = result
    return [latest[k] for k in sorted(latest)]


def _value_text(result: IndicatorResult) -> str:
    if result.value is None:
        return "no data"
    number = format_number(result.value)
    return f"{number}%" if result.unit == "%" else f"{number} {result.unit}".strip()


def _row(result: IndicatorResult) -> tuple[str, ...]:
    scope = f"{result.scope_type} {result.scope}"
    if result.view == "combined":
        scope += " (combined)"
    if result.breakdown and result.breakdown != "all":
        scope += f" [{result.breakdown}]"
    return (result.name or result.indicator, scope, result.period, _value_text(result),
            result.target or "-", result.status.replace("_", " "), result.trend,
            ", ".join(result.sources))


@dataclass(frozen=True)
class ScorecardRow:
    """One series of the scorecard: the last complete period and the period to date."""

    headline: IndicatorResult | None
    partial: IndicatorResult | None

    @property
    def lead(self) -> IndicatorResult:
        """The result naming the row: the headline, else the partial."""
        lead = self.headline or self.partial
        assert lead is not None
        return lead


def build_scorecard_rows(chosen: Sequence[IndicatorResult], now: datetime) -> list[ScorecardRow]:
    """Per series, the headline and partial results (complete periods first)."""
    series: dict[str, list[IndicatorResult]] = {}
    for result in chosen:
        series.setdefault(result.series_key, []).append(result)
    rows = []
    for key in sorted(series):
        split = split_series(series[key], now)
        if split.lead is not None:
            rows.append(ScorecardRow(split.headline, split.partial))
    return rows


def _evidence_cell(links: Sequence[EvidenceLink], budget: int) -> jira_markup.Cell:
    if not links:
        return "-"
    link = links[0]
    if len(link.url) <= budget:
        return (link.label, link.url)
    return link.label  # a count without a link: the URL does not fit


STATUS_COLOURS = {"met": "green", "at_risk": "yellow", "missed": "red"}


def status_lozenge(status: str) -> jira_markup.Lozenge:
    """A status as a lozenge: met green, at risk yellow, missed red, the rest grey."""
    return jira_markup.Lozenge(status.replace("_", " "), STATUS_COLOURS.get(status, "neutral"))


def scope_cell(result: IndicatorResult, context: PublishContext) -> str:
    """The scope as a person reads it, the id beside the name.

    ``Payments (service payments, combined)``, ``Payments Web (product payments-web)``;
    an unnamed scope reads ``payments (service, combined)``; a breakdown joins the details.
    """
    name = context.scope_name(result.scope_type, result.scope)
    details = [result.scope_type if name == result.scope
               else f"{result.scope_type} {result.scope}"]
    if result.view == "combined":
        details.append("combined")
    if result.breakdown and result.breakdown != "all":
        details.append(result.breakdown)
    return f"{name} ({', '.join(details)})"


def _scorecard_row(row: ScorecardRow, context: PublishContext,
                   budget: int) -> tuple[jira_markup.Cell, ...]:
    lead, head, part = row.lead, row.headline, row.partial
    scope = scope_cell(lead, context)
    partial = f"{part.period}: {_value_text(part)} (partial)" if part is not None else "-"
    shown = head if head is not None else part
    return (lead.name or lead.indicator, scope, head.period if head else "none complete yet",
            _value_text(head) if head else "-", lead.target or "-",
            status_lozenge(head.status) if head else "-", head.trend if head else "-",
            partial, _evidence_cell(context.evidence(shown), budget),
            ", ".join(lead.sources))


def build_scorecard_description(target: ScorecardTarget, rows: Sequence[ScorecardRow],
                                flavour: str, context: PublishContext | None = None) -> Any:
    """The description: per O, complete period first, partial beside, evidence links.

    The intro names the product owner and the linked services by display name. When the
    description would exceed Jira's limit, the longest links become counts first.
    """
    context = context or PublishContext()
    owner_id, owner_name = context.owner("product", target.product)
    intro = (f"5 O indicators for {target.name or target.product}, written by fiveo-sync. "
             "Each row leads with the last complete period and its status; the current "
             "period to date is shown beside it and decides no status. ")
    if owner_id:
        intro += (f"Product owner: {owner_name} ({owner_id}). " if owner_name != owner_id
                  else f"Product owner: {owner_id}. ")
    ownership = context.owner_state("product", target.product)
    if ownership is not None and ownership.flagged:  # owners who left (docs/ownership.md)
        intro += f"Attention: {ownership.sentence()}. "
    if target.services:
        names = ", ".join(context.scope_name("service", s) for s in target.services)
        intro += f"Services: {names}. "
    intro += "Edits to this description are overwritten by the next run."
    if not rows:
        intro += " No results yet."
    for budget in jira_markup.LINK_BUDGETS:
        document, size = _scorecard_document(intro, rows, context, budget, flavour)
        if size <= MAX_DESCRIPTION_CHARS:
            return document
    return _scorecard_within_limit(intro, rows, context, flavour)


# Which rows a scorecard keeps first when not all fit: what needs the owner's attention.
_KEEP_ORDER = ("missed", "at_risk", "insufficient_data", "met", "no_data")
_SHORT_LINKS = 250  # links kept on the rows that stay: evidence of a few records each


def _scorecard_within_limit(intro: str, rows: Sequence[ScorecardRow],
                            context: PublishContext, flavour: str) -> Any:
    """Not every row fits even without links: keep the most telling rows, short links.

    Rows leave in reverse order of :data:`_KEEP_ORDER` (unrated ones first, the last of an
    O before the first); the intro names what was left out, the dashboard shows everything.
    """
    def rank(item: tuple[int, ScorecardRow]) -> tuple[int, int]:
        status = item[1].headline.status if item[1].headline is not None else "no_data"
        return (_KEEP_ORDER.index(status) if status in _KEEP_ORDER else len(_KEEP_ORDER),
                item[0])

    leaving = [row for _i, row in sorted(enumerate(rows), key=rank, reverse=True)]
    kept = list(rows)
    document: Any = None
    while kept:
        left = [r for r in rows if r not in kept]
        names = ", ".join(f"{r.lead.name or r.lead.indicator}" for r in left)
        note = (f" Left out here to stay within Jira's size limit, shown on the dashboard: "
                f"{names}." if left else "")
        document, size = _scorecard_document(intro + note, kept, context, _SHORT_LINKS,
                                             flavour)
        if size <= MAX_DESCRIPTION_CHARS:
            return document
        kept.remove(leaving.pop(0))
    return document


def _scorecard_document(intro: str, rows: Sequence[ScorecardRow], context: PublishContext,
                        budget: int, flavour: str) -> tuple[Any, int]:
    """The description with links up to ``budget`` characters, and its size."""
    sections = []
    for o in O_ORDER + tuple(sorted({r.lead.o for r in rows} - set(O_ORDER))):
        cells = [_scorecard_row(r, context, budget) for r in rows if r.lead.o == o]
        if cells:
            sections.append((o.capitalize(), cells))
    if flavour == "adf":
        document = jira_markup.build_adf_document(intro, sections, SCORECARD_HEADER)
    else:
        document = jira_markup.build_wiki_document(intro, sections, SCORECARD_HEADER)
    return document, jira_markup.document_size(document)


def build_description(target: ScorecardTarget, latest: Sequence[IndicatorResult],
                      flavour: str) -> Any:
    """The description without a clock: a table per O of the latest results.

    Kept for callers without ``now``; :func:`build_scorecard_description` is what the plan
    writes when it knows the time.
    """
    sections = []
    for o in O_ORDER + tuple(sorted({r.o for r in latest} - set(O_ORDER))):
        rows = [_row(r) for r in latest if r.o == o]
        if rows:
            sections.append((o.capitalize(), rows))
    intro = (f"5 O indicators for {target.name or target.product}, written by fiveo-sync. "
             "Edits to this description are overwritten by the next run.")
    if not sections:
        intro += " No results yet."
    if flavour == "adf":
        return jira_markup.build_adf_document(intro, sections, HEADER)
    return jira_markup.build_wiki_document(intro, sections, HEADER)


def written_result(result: IndicatorResult) -> dict[str, Any]:
    """A result as the scorecard holds it: numbers rounded to 2 decimals, like every writer.

    Unrounded values would make a snapshot indicator (an age measured against ``now``)
    differ on every run and rewrite an unchanged scorecard. The evidence ids stay out (the
    property has 32 768 characters; the description carries the links).
    """
    data = result.to_dict()
    data.pop("evidence", None)
    for name in ("value", "baseline", "delta"):
        if isinstance(data.get(name), float):
            data[name] = round(data[name], 2)
    return data


def property_json(value: Mapping[str, Any]) -> str:
    """The property value exactly as it is sent (compact JSON, ASCII)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def build_property(target: ScorecardTarget, chosen: Sequence[IndicatorResult],
                   digest: str,
                   headlines: Sequence[IndicatorResult] | None = None) -> dict[str, Any]:
    """The ``fiveo.scorecard`` value: every result, trimmed to fit 32 768 characters.

    Trimming keeps the latest period per series first, then drops the ``flags`` and
    ``name`` of each result, then drops results from the end (``truncated`` counts them).
    ``headlines`` (series key → ``[period, status]`` of the complete period the scorecard
    leads with) are kept whole: the next run's status changes are read from them.
    """
    value: dict[str, Any] = {"version": 1, "product": target.product,
                             "project": target.project_key, "digest": digest,
                             "trimmed": False, "truncated": 0,
                             "results": [written_result(r) for r in chosen]}
    if headlines is not None:
        value["headlines"] = {r.series_key: [r.period, r.status] for r in headlines}
    if len(property_json(value)) <= MAX_PROPERTY_CHARS:
        return value
    value["trimmed"] = True
    value["results"] = [written_result(r) for r in latest_per_series(chosen)]
    if len(property_json(value)) <= MAX_PROPERTY_CHARS:
        return value
    for item in value["results"]:
        item.pop("flags", None)
        item.pop("name", None)
    while value["results"] and len(property_json(value)) > MAX_PROPERTY_CHARS:
        value["results"].pop()
        value["truncated"] += 1
    return value


def _statuses(scorecard: Mapping[str, Any] | None,
              now: datetime | None = None) -> dict[str, tuple[str, str]]:
    """Series key → (period, status) of the latest period in a stored property.

    With ``now``, only periods complete at ``now`` count (a partial status decides nothing).
    """
    out: dict[str, tuple[str, str, str]] = {}
    for item in (scorecard or {}).get("results") or []:
        try:
            series = (f"fiveo:{item['indicator']}:{item['scope_type']}:{item['scope']}:"
                      f"{item.get('breakdown') or 'all'}")
            start, period, status = item["period_start"], item["period"], item["status"]
            if now is not None and parse_utc(item["period_end"]) > now:
                continue
        except (KeyError, TypeError, ValueError):
            continue  # a property edited by hand: ignore what cannot be read
        if series not in out or start > out[series][0]:
            out[series] = (start, period, status)
    return {k: (v[1], v[2]) for k, v in out.items()}


def status_changes(before: Mapping[str, Any] | None,
                   latest: Sequence[IndicatorResult],
                   now: datetime | None = None) -> list[str]:
    """Human lines for each series whose latest status differs from the stored one.

    With ``now``, ``latest`` are the headline (complete) results, compared with the
    headlines the scorecard showed when it was written (its property's ``headlines``;
    a property written before they were kept is read from its complete periods).
    """
    stored = (before or {}).get("headlines") if now is not None else None
    if isinstance(stored, dict):
        old = {k: (str(v[0]), str(v[1])) for k, v in stored.items()
               if isinstance(v, list) and len(v) == 2}
    else:
        old = _statuses(before, now)
    lines = []
    for result in latest:
        held = old.get(result.series_key)
        if held is None or held[1] == result.status:
            continue
        scope = _row(result)[1]
        lines.append(f"{result.name or result.indicator} ({scope}): "
                     f"{held[1].replace('_', ' ')} → {result.status.replace('_', ' ')} "
                     f"({result.period})")
    return lines


def build_digest(summary: str, flavour: str, label: str,
                 chosen: Sequence[IndicatorResult], description: Any = None) -> str:
    """A short hash of everything the scorecard shows; equal digests mean nothing to write.

    The description is part of it: it changes when a period completes, a name or a link
    changes, even if no result does.
    """
    content: dict[str, Any] = {"summary": summary, "flavour": flavour, "label": label,
                               "results": [written_result(r) for r in chosen]}
    if description is not None:
        content["description"] = description
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def build_comment_marker(before: Mapping[str, Any] | None, changes: Sequence[str]) -> str:
    """What identifies one set of status changes: the scorecard they start from and them.

    A run that posted the comment but died before recording the new property recomputes
    the same changes from the same stored property, finds the marker and posts nothing;
    the same change happening again later starts from another property and is posted.
    """
    payload = json.dumps([(before or {}).get("digest"), list(changes)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def build_comment(changes: Sequence[str], marker: str, flavour: str) -> Any:
    """The one status-change comment of a run (its marker stops a rerun posting it twice)."""
    intro = f"5 O status changes (fiveo:{marker}):"
    if flavour == "adf":
        return jira_markup.build_adf_list(intro, changes)
    return jira_markup.build_wiki_list(intro, changes)


def build_jira_plan(targets: Iterable[ScorecardTarget], results: Iterable[IndicatorResult],
                    current: Mapping[str, CurrentScorecard], *, flavour: str, label: str,
                    issue_type: str = "Task", now: datetime | None = None,
                    context: PublishContext | None = None) -> Plan:
    """Diff each product's scorecard against the issue Jira holds into a plan.

    Args:
        targets: the products that get a scorecard.
        results: all results (each target picks its own).
        current: the scorecard issues found, by product id.
        flavour: ``adf`` (Cloud, REST v3) or ``wiki`` (Data Center, REST v2).
        label: the scorecard label (settings ``jira.scorecard.label``).
        issue_type: the issue type to create scorecards with.
        now: the push's clock: the description leads with complete periods and status
            changes are those of complete periods (None: the latest period of each series).
        context: names and evidence links (None: ids, no links).

    Returns:
        One ``create``, ``update`` or ``skip_unchanged`` operation per product.
    """
    if flavour not in ("adf", "wiki"):
        raise ValueError(f"unknown Jira rich-text flavour {flavour!r}")
    all_results = list(results)
    ops = []
    for target in targets:
        chosen = select_results(target, all_results)
        summary = build_summary(target)
        if now is None:
            latest = latest_per_series(chosen)
            description = build_description(target, latest, flavour)
            digest = build_digest(summary, flavour, label, chosen)
        else:
            rows = build_scorecard_rows(chosen, now)
            latest = [r.headline for r in rows if r.headline is not None]
            description = build_scorecard_description(target, rows, flavour, context)
            digest = build_digest(summary, flavour, label, chosen, description)
        headlines = latest if now is not None else None
        fields = {"project": target.project_key, "issue_type": issue_type,
                  "summary": summary, "labels": [label],
                  "description": description,
                  "property": build_property(target, chosen, digest, headlines),
                  "comment": None}
        held = current.get(target.product)
        if held is None:
            ops.append(WriteOp("create", TARGET, target.product, fields,
                               reason=f"no scorecard in {target.project_key}"))
            continue
        changed = []
        if summary != held.summary:
            changed.append("summary")
        if label not in held.labels:
            changed.append("labels")
        if (held.scorecard or {}).get("digest") != digest:
            changed += ["description", "property"]
        if not changed:
            ops.append(WriteOp("skip_unchanged", TARGET, target.product, {},
                               reason="unchanged", ref=held.issue_key))
            continue
        changes = status_changes(held.scorecard, latest, now)
        if changes:
            # One comment per run, listing every status change: one notification.
            marker = build_comment_marker(held.scorecard, changes)
            fields["comment"] = build_comment(changes, marker, flavour)
            fields["comment_marker"] = marker
            changed.append("comment")
        ops.append(WriteOp("update", TARGET, target.product, fields, ref=held.issue_key,
                           reason=f"{len(changes)} status change(s)" if changes
                           else "scorecard changed", changed=tuple(changed)))
    return Plan(tuple(ops))


def build_scorecard_targets(portfolio: Any) -> list[ScorecardTarget]:
    """One target per portfolio product with a Jira project (its first project gets it).

    Args:
        portfolio: the portfolio spec (``products`` and ``services_of_product``).

    Returns:
        The targets, in portfolio order.
    """
    targets = []
    for product in portfolio.products:
        if not product.jira_projects:
            continue
        services = tuple(s.id for s in portfolio.services_of_product(product.id))
        targets.append(ScorecardTarget(product=product.id, name=product.name or product.id,
                                       project_key=product.jira_projects[0],
                                       services=services))
    return targets
