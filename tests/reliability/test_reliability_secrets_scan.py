"""Issue 7, Security: nothing the fault matrix produced holds a secret it used.

Scanned: the captured logs (JSON and console renderers, debug level), the CLI runs' stdout
and stderr, the dry-run write plan (JSON and table), the HTML dashboard and results.json,
the state store's bytes (database and WAL), and what was written to the platforms
(ServiceNow records, Jira properties). Looked for: the ServiceNow passwords, the OAuth
client secret, the access and refresh tokens the sandbox issued, the Jira API token and
PAT — as written, URL-encoded and inside a Basic auth header.
"""

from __future__ import annotations

from .reliability_matrix import CELLS, SECRETS, run_cell
from .reliability_secrets import scan, secret_forms
from .reliability_world import start_platforms

OAUTH_CELL = next(c for c in CELLS if c.oauth)
# Files the matrix must have produced for the scan to mean something.
REQUIRED = ("log.json", "log.console", "plan.json", "plan.txt", "index.html", "results.json",
            "state.sqlite", "servicenow_records.json", "jira_properties.json")


def _logins(platforms_secrets: dict[str, str], sn_users: dict[str, str],
            jira_email: str | None) -> dict[str, str]:
    logins = {name: user for name, user in sn_users.items() if name in platforms_secrets}
    if jira_email:
        logins["jira_api_token"] = jira_email
    return logins


def test_nothing_the_fault_matrix_produced_holds_a_secret(artifacts_dir, tmp_path):
    alone = not (artifacts_dir / OAUTH_CELL.name).exists()
    if alone:
        # Run alone: produce the outputs of the OAuth cell (the one with the most secrets,
        # logged in console format) and of a cell logged in JSON.
        for i, cell in enumerate((OAUTH_CELL, CELLS[0])):
            with start_platforms(tmp_path / f"out{i}", oauth=cell.oauth) as platforms:
                run_cell(cell, platforms, artifacts_dir)
    with start_platforms(tmp_path / "names") as platforms:
        sn_users = {f"servicenow_{name}": user
                    for name, (user, _) in platforms.sn.credentials.items()}
        email = platforms.jira.credentials.get("email")
        secrets = {**platforms.secrets, **SECRETS}
    assert any(name.startswith("servicenow_access_") for name in secrets), \
        "no OAuth access token was recorded: the scan would miss them"
    hits, scanned = scan(artifacts_dir, secret_forms(secrets, _logins(secrets, sn_users,
                                                                      email)))
    names = {path.name for path in scanned}
    assert set(REQUIRED) <= names, f"missing outputs: {set(REQUIRED) - names}"
    # The CLI runs (crash, concurrency, outage) come first in the suite; alone, none ran.
    assert alone or any(name.endswith(".stderr") for name in names)
    assert not hits, "\n".join(hits[:20])


def test_the_scan_finds_a_planted_secret_in_each_form(tmp_path):
    secrets = {"servicenow_integration": "int-0123456789ab", "jira_api_token": "ATATT-x/y+z"}
    (tmp_path / "a.log").write_text("password=int-0123456789ab\n")
    (tmp_path / "b.log").write_text("token=ATATT-x%2Fy%2Bz\n")
    (tmp_path / "c.log").write_text("Authorization: Basic "
                                    "ZmQubm93OmludC0wMTIzNDU2Nzg5YWI=\n")
    (tmp_path / "clean.log").write_text("nothing here\n")
    hits, scanned = scan(tmp_path, secret_forms(secrets, {"servicenow_integration": "fd.now"}))
    assert len(scanned) == 4
    assert sorted(hits) == ["a.log: servicenow_integration",
                            "b.log: jira_api_token (URL-encoded)",
                            "c.log: servicenow_integration (Basic auth header)"]
