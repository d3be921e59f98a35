"""Evidence links: from a result's counted record ids to the platform's own record lists.

The engine records which records each value was computed over (``IndicatorResult.
evidence``: ``sys_id``s per ServiceNow kind, issue keys for Jira). Here, outside the pure
engine, they become URLs on the instances named in the settings:

- ServiceNow: ``{instance}/{table}_list.do?sysparm_query=sys_idIN<id>,<id>…`` — a list of
  exactly the counted records (``incident``, ``change_request``, ``problem``,
  ``task_sla``, ``cmdb_ci_outage``, ``asmt_assessment_instance``); ``sys_id`` is the
  primary key, so the query can select nothing else.
- Jira: ``{site}/issues/?jql=key in (<KEY>, …) ORDER BY key ASC`` — the issue search of
  exactly the counted issues.

Both are exact lists rather than rebuilt filters (scope, period bounds, breakdown): a
filter would be a second implementation of the engine's rules and could drift from what
was counted. The price is length: a URL over :data:`LONG_URL_CHARS` (the 2 083 characters
ServiceNow documents as the browser limit of a URL field) is still produced and exact but
flagged ``long``; a kind with more than ``EVIDENCE_CAP`` records carries no ids and gets no
link (the result's ``flags["evidence_omitted"]`` says how many there were).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fiveo_sync.engine.result import IndicatorResult

# urllib quotes byte by byte in Python: 2 s per run for the ~5,000 links of the benchmark's
# 100,000 incidents. An ASCII query holds few distinct reserved characters (space, comma,
# parentheses, ^, =): one str.replace each, "%" first so no escape is escaped again.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote_all(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``, fast for ASCII (ids and their queries)."""
    if not text.isascii():
        return quote(text, safe="")
    for char in sorted(set(text) - _UNRESERVED, key=lambda c: c != "%"):
        text = text.replace(char, f"%{ord(char):02X}")
    return text

LONG_URL_CHARS = 2083
SERVICENOW_TABLES = {"incident": "incident", "change": "change_request",
                     "problem": "problem", "sla": "task_sla", "outage": "cmdb_ci_outage",
                     "survey_response": "asmt_assessment_instance"}
KIND_WORDS = {"incident": ("incident", "incidents"), "change": ("change", "changes"),
              "problem": ("problem", "problems"), "sla": ("SLA", "SLAs"),
              "work_item": ("issue", "issues"), "outage": ("outage", "outages"),
              "survey_response": ("survey", "surveys")}


@dataclass(frozen=True)
class EvidenceLink:
    """A link to the records behind one value.

    Attributes:
        platform: ``servicenow`` or ``jira``.
        kind: the canonical record kind (``incident``, ``work_item`` …).
        count: how many records the link selects.
        url: the list or search URL.
        query: the encoded query (ServiceNow) or the JQL (Jira) inside the URL.
        long: True when the URL is longer than :data:`LONG_URL_CHARS`.
    """

    platform: str
    kind: str
    count: int
    url: str
    query: str
    long: bool = False

    @property
    def label(self) -> str:
        """``12 incidents``, ``1 issue``."""
        one, many = KIND_WORDS.get(self.kind, (self.kind, self.kind))
        return f"{self.count} {one if self.count == 1 else many}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (results.json)."""
        return {"platform": self.platform, "kind": self.kind, "count": self.count,
                "url": self.url, "query": self.query, "long": self.long,
                "label": self.label}


def build_servicenow_query(ids: tuple[str, ...] | list[str]) -> str:
    """The encoded query selecting exactly these ``sys_id``s."""
    return "sys_idIN" + ",".join(ids)


def build_jql(keys: tuple[str, ...] | list[str]) -> str:
    """The JQL selecting exactly these issue keys, in key order."""
    return f"key in ({', '.join(keys)}) ORDER BY key ASC"


@dataclass(frozen=True)
class LinkBuilder:
    """Builds evidence links against the configured instances.

    Attributes:
        servicenow_url: the ServiceNow instance URL, or None (no ServiceNow links).
        jira_url: the Jira site URL, or None (no Jira links).
    """

    servicenow_url: str | None = None
    jira_url: str | None = None

    def links(self, result: IndicatorResult | None) -> list[EvidenceLink]:
        """The evidence links of a result (none for a result without evidence)."""
        if result is None:
            return []
        out = []
        for kind, ids in sorted((getattr(result, "evidence", None) or {}).items()):
            if not ids:
                continue
            link = self._link(kind, tuple(ids))
            if link is not None:
                out.append(link)
        return out

    def _link(self, kind: str, ids: tuple[str, ...]) -> EvidenceLink | None:
        if kind == "work_item":
            if not self.jira_url:
                return None
            jql = build_jql(ids)
            url = f"{self.jira_url.rstrip('/')}/issues/?jql={quote_all(jql)}"
            return EvidenceLink("jira", kind, len(ids), url, jql, len(url) > LONG_URL_CHARS)
        table = SERVICENOW_TABLES.get(kind)
        if table is None or not self.servicenow_url:
            return None
        query = build_servicenow_query(ids)
        url = (f"{self.servicenow_url.rstrip('/')}/{table}_list.do?"
               f"sysparm_query={quote_all(query)}")
        return EvidenceLink("servicenow", kind, len(ids), url, query, len(url) > LONG_URL_CHARS)


def build_link_builder(settings: Any) -> LinkBuilder:
    """A link builder for the instances in the settings (either may be missing)."""
    servicenow = getattr(settings, "servicenow", None)
    jira = getattr(settings, "jira", None)
    return LinkBuilder(servicenow_url=getattr(servicenow, "instance_url", None) or None,
                       jira_url=getattr(jira, "url", None) or None)
