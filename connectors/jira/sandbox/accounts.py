"""The sandbox's own accounts: the integration account and the read-only viewer.

They are not people of the world; histories, comments and worklogs they write carry a
negative author index (:data:`ADMIN`, :data:`VIEWER`) that the renderer turns into the
same user object ``/myself`` answers.
"""

from __future__ import annotations

import hashlib
from typing import Any

ADMIN, VIEWER = -1, -2
_CLOUD = {ADMIN: ("svc-fiveo@example.org", "fiveo-sync"), VIEWER: ("viewer@example.org",
                                                                  "Viewer")}
_DC = {ADMIN: "svc_fiveo", VIEWER: "viewer"}


def actor(role: str | None) -> int:
    """The author index of the calling account."""
    return VIEWER if role == "viewer" else ADMIN


def account_id(index: int) -> str:
    """The Cloud ``accountId`` of an integration account."""
    email = _CLOUD[index][0]
    return hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()[:24]


def account_user(index: int, base: str, version: str, cloud: bool,
                 zone: str) -> dict[str, Any]:
    """The user object of an integration account (as in ``/myself``, without groups)."""
    if cloud:
        email, display = _CLOUD[index]
        ident = account_id(index)
        return {"self": f"{base}/rest/api/{version}/user?accountId={ident}",
                "accountId": ident, "accountType": "atlassian", "emailAddress": email,
                "displayName": display, "active": True, "timeZone": zone, "locale": "en_US"}
    name = _DC[index]
    return {"self": f"{base}/rest/api/2/user?username={name}", "key": f"JIRAUSER{len(name)}",
            "name": name, "emailAddress": f"{name}@example.org", "displayName": name,
            "active": True, "deleted": False, "timeZone": zone, "locale": "en_US"}
