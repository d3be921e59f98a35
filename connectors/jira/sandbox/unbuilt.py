"""Documented Jira REST endpoints the sandbox does not emulate, answered in Jira's shape.

A client calling one of these gets ``404 {"errorMessages": ["… is not emulated by this
Jira sandbox."], "errors": {}}`` — the error body every Jira client already handles —
instead of a page or a silent success. Paths nobody documents get Jersey's wrong-path
JSON (:func:`connectors.jira.sandbox.routing.wrong_path`). The list follows the resource
groups of the Jira Cloud platform REST API v3 and Data Center REST API 9 reference, for
the resources a reporting or sync client plausibly touches; ``docs/sandbox-coverage.md``
repeats it.
"""

from __future__ import annotations

import re

_API = r"/rest/api/(?:2|3|latest)"
_ISSUE = f"{_API}/issue/[^/]+"
# (methods, path regex, what it is) — methods "*" = any.
_UNBUILT: tuple[tuple[str, str, str], ...] = (
    ("PUT,DELETE", f"{_ISSUE}/comment/\\d+", "Editing or deleting comments"),
    ("GET,PUT,DELETE", f"{_ISSUE}/worklog/\\d+", "Single worklog entries"),
    ("POST,DELETE", f"{_ISSUE}/watchers", "Changing watchers"),
    ("POST,DELETE", f"{_ISSUE}/votes", "Voting"),
    ("PUT", f"{_ISSUE}/assignee", "Assigning issues"),
    ("POST", f"{_ISSUE}/notify", "Issue notifications"),
    ("DELETE", f"{_API}/issue/[^/]+", "Deleting issues"),
    ("POST", f"{_API}/issue/bulk", "Bulk issue creation"),
    ("GET", f"{_API}/issue/createmeta", "The legacy create metadata"),
    ("*", f"{_API}/issueLink(?:/.*)?", "Issue links"),
    ("*", f"{_API}/issueLinkType/.+", "Single issue link types"),
    ("POST,PUT,DELETE", f"{_API}/(?:version|component)(?:/.*)?",
     "Changing versions and components"),
    ("POST,PUT,DELETE", f"{_API}/project(?:/.*)?", "Project administration"),
    ("*", f"{_API}/project/[^/]+/(?:role|properties|avatar|avatars|notificationscheme|"
          "permissionscheme|securitylevel|issuesecuritylevelscheme|hierarchy|features)"
          "(?:/.*)?", "Project roles, properties and schemes"),
    ("*", f"{_API}/(?:workflow|workflows|workflowscheme|screens|screenscheme|"
          "fieldconfiguration|fieldconfigurationscheme|issuetypescheme|"
          "issuetypescreenscheme|permissionscheme|notificationscheme|issuesecurityschemes|"
          "priorityscheme|securitylevel)(?:/.*)?", "Workflow, screen and scheme "
                                                   "administration"),
    ("*", f"{_API}/(?:role|group|groups|permissions|applicationrole|auditing|webhook|"
          "avatar|universal_avatar|task|events|announcementBanner|license|instance|"
          "settings|projectCategory|project/type|statuses|customFieldOption|app|"
          "expression|classification-levels|data-policy|dashboard/search)(?:/.*)?",
     "Site administration, groups, permissions and webhooks"),
    ("*", f"{_API}/(?:user|users)/(?:picker|properties|columns|groups|bulk|email|"
          "permission|viewissue|assignable/multiProjectSearch)(?:/.*)?",
     "User pickers, properties and bulk user lookups"),
    ("*", f"{_API}/field/[^/]+/(?:context|option|screens)(?:/.*)?", "Custom field contexts"),
    ("POST,PUT,DELETE", f"{_API}/field(?:/.*)?", "Field administration"),
    ("*", f"{_API}/jql/(?:autocompletedata|parse|match|sanitize|pdcleaner|"
          "function/computation)(?:/.*)?", "JQL parsing and autocomplete"),
    ("POST,PUT,DELETE", f"{_API}/filter(?:/.*)?", "Changing filters"),
    ("GET", f"{_API}/filter/(?:favourite|my|defaultShareScope)", "Favourite and own "
                                                                 "filters"),
    ("*", f"{_API}/(?:attachment/\\d+|attachment/content/.*|attachment/thumbnail/.*)",
     "Attachment content and metadata by id"),
    ("*", r"/rest/agile/1\.0/(?:epic|backlog|issue/[^/]+/estimation|board/\d+/(?:epic|"
          r"backlog|version|project|quickfilter|properties|features|reports))(?:/.*)?",
     "Agile epics, backlog, board versions, quick filters and reports"),
    ("POST,PUT,DELETE", r"/rest/agile/1\.0/(?:board|sprint/\d+/issue|issue/rank)(?:/.*)?",
     "Agile board and ranking changes"),
)
_COMPILED = tuple((set(m.split(",")), re.compile(f"^{p}$"), what) for m, p, what in _UNBUILT)


def documented_unbuilt(method: str, path: str) -> str | None:
    """Jira's error message for a documented endpoint the sandbox lacks, else ``None``."""
    for methods, pattern, what in _COMPILED:
        if ("*" in methods or method in methods) and pattern.match(path):
            return f"{what} ({method} {path}) is not emulated by this Jira sandbox."
    return None
