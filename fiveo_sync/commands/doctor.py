"""``fiveo-sync doctor``: can this configuration sync? One line per check, with the fix.

Checks, in order: the mapping files (which name the Jira projects and boards to check),
then per configured platform reachability, credentials, the read permission of every
stream, the write-back target (ServiceNow table or import-set staging table, probed with a
record that is removed again), the Jira account's time zone, its permissions in each
product project and the story-points field of each board.

Exit codes: 0 when every check passes; 77 when a credential or permission check fails;
69 when a platform is unreachable; 78 when a setting or mapping must change; 65 when a
platform answered something unusable (see :mod:`fiveo_sync.doctor`).
"""

from __future__ import annotations

import argparse
from typing import Any

from fiveo_sync.doctor import Check, exit_code, write_report
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.errors import MappingError
from fiveo_sync.platforms import SOURCES, configured_sources


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``doctor``."""
    parser.add_argument("--source", action="append", choices=SOURCES,
                        help="check only this platform (repeatable)")


def execute(args: argparse.Namespace, ctx: Any) -> int:
    """Run every check, print one line each, exit with the worst failure's code."""
    settings = ctx.settings
    sources = configured_sources(settings, args.source)
    checks: list[Check] = []
    projects: list[str] = []
    boards: list[int] = []
    try:
        mappings = load_mappings(settings.mappings.dir)
    except MappingError as exc:
        checks.append(Check.failed(
            "settings", "mappings", f"{len(exc.problems)} problem(s) in {settings.mappings.dir}",
            "run `fiveo-sync validate` for each problem with its file, line and column",
            "config"))
    else:
        portfolio = mappings.portfolio
        projects = sorted(portfolio.jira_projects)
        boards = sorted({b for product in portfolio.products for b in product.boards})
        checks.append(Check.passed(
            "settings", "mappings", f"{len(mappings.files)} files valid; "
            f"{len(portfolio.services)} services, {len(portfolio.products)} products, "
            f"{mappings.indicator_count} indicators"))
    if "servicenow" in sources:
        from connectors.servicenow.doctor import run_checks as servicenow_checks

        checks += servicenow_checks(settings)
    if "jira" in sources:
        from connectors.jira.doctor import run_checks as jira_checks

        checks += jira_checks(settings, projects, boards)
    write_report(checks, ctx.out)
    code = exit_code(checks)
    failed = [f"{c.platform}: {c.name}" for c in checks if not c.ok]
    ctx.log.info("doctor_finished", checks=len(checks), failed=len(failed),
                 failed_checks=failed, exit_code=code)
    return code
