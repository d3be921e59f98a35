"""The shipped portfolio describes the demo organisation, build_world(seed=7, scale="small").

Run this file as a script (``python tests/unit/mapping/test_mapping_portfolio_world.py``) to
regenerate ``mappings/portfolio.yaml`` after a change to ``connectors/world.py``.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from connectors.servicenow.sandbox.evidence import MISS_SERVICE
from connectors.world import build_world
from fiveo_sync.engine.portfolio_spec import PortfolioSpec

REPO = Path(__file__).resolve().parents[3]
PORTFOLIO = REPO / "mappings" / "portfolio.yaml"
AVAILABILITY_TARGET = {"kind": "min", "value": 99.95, "tolerance": 0.05}

HEADER = """\
# Portfolio: which ServiceNow business services and Jira products belong together,
# and who owns each of them.
#
# Services
#   id                a short name of your choice; it appears in every result key
#                     (fiveo:<indicator>:service:<id>:...), so keep it stable.
#   business_service  the ServiceNow business service (table cmdb_ci_service), by its
#                     name or by its sys_id. A sys_id survives renames; a name is easier
#                     to read. Incidents, changes and problems belong to the service whose
#                     business service they name.
#   owner             the ServiceNow user_name of the service owner (default: the
#                     service's "Owned by").
#   support_groups    optional: assignment group names that support the service; used by
#                     organise.service_attribution to find incidents that should have
#                     named this service.
#   products          the products (below) that deliver this service. Their results are
#                     combined with the service's in "combined" indicators.
#   targets           optional: this service's own targets, replacing the catalogue's
#                     for its service and combined results, e.g.
#                       targets:
#                         operate.availability: {kind: min, value: 99.95, tolerance: 0.05}
#                     (the same forms as in the indicator files; min for direction up,
#                     max for down, band for band).
#
# Products
#   id                a short name of your choice (lower case, digits, - and _).
#   jira_projects     the Jira project keys of the product; work items belong to the
#                     product by project.
#   boards            optional: the Jira boards whose sprints are the product's sprints.
#   owner             the product owner's Jira accountId (Data Center: user name).
#   targets           optional: the product's own targets, as for services.
#
# Governance (optional; docs/ownership.md)
#   An owner who is missing (none here and no "Owned by"), inactive (ServiceNow
#   sys_user.active=false, a deactivated Jira account) or not found in the pulled data is
#   flagged on every view and listed on the dashboard's governance page.
#   fallback_owner       shown as the acting owner of a flagged service or product (a
#                        ServiceNow user_name or a Jira accountId; default: the
#                        improvement manager); it also receives the element's
#                        improvement items (improvement.yaml).
#   improvement_manager  the continual improvement manager, named on the governance page.
#
# This file describes the demo organisation of the sandboxes (seed 7, scale "small").
# Replace it with your own services and products.
"""


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def expected_portfolio() -> dict:
    world = build_world(seed=7, scale="small", now=datetime(2025, 4, 3, tzinfo=UTC))
    product_by_key = {p.key: p for p in world.products}
    services = []
    for service in world.services:
        services.append({
            "id": service.id,
            "business_service": service.name,
            "owner": service.owner.user_name,
            "support_groups": [service.support_group],
            "products": [slug(product_by_key[k].name) for k in service.products
                         if k in product_by_key],
        })
    # The service whose outages the sandbox makes miss 99.9 % (connectors/servicenow/
    # sandbox/evidence.py) is customer-facing: it sets its own, tighter target.
    services[MISS_SERVICE]["targets"] = {"operate.availability": AVAILABILITY_TARGET}
    products = []
    for product in world.products:
        boards = [product.scrum_board_id]
        if product.kanban_board_id is not None:
            boards.append(product.kanban_board_id)
        products.append({
            "id": slug(product.name),
            "name": product.name,
            "jira_projects": [product.key],
            "boards": boards,
            "owner": product.owner.jira_account_id,
        })
    # The demo's continual improvement manager, who also acts for the owner who left
    # (build_world marks the owner of hr-self-service as a leaver).
    manager = world.people[18].user_name
    governance = {"fallback_owner": manager, "improvement_manager": manager}
    return {"version": 1, "kind": "portfolio", "services": services,
            "governance": governance, "products": products}


def render(data: dict) -> str:
    lines = [HEADER, "version: 1", "kind: portfolio", "", "services:"]
    for s in data["services"]:
        lines += [f"  - id: {s['id']}",
                  f"    business_service: {s['business_service']}",
                  f"    owner: {s['owner']}",
                  f"    support_groups: [{', '.join(s['support_groups'])}]"]
        if s["products"]:
            lines.append(f"    products: [{', '.join(s['products'])}]")
        else:
            lines.append("    products: []        # no Jira product yet")
        if s.get("targets"):
            lines.append("    targets:            # customer-facing: tighter than the "
                         "catalogue's 99.9")
            for indicator, target in s["targets"].items():
                fields = ", ".join(f"{k}: {v}" for k, v in target.items())
                lines.append(f"      {indicator}: {{{fields}}}")
        lines.append("")
    leaver = next(p for p in build_world(seed=7, scale="small").people if not p.active)
    service = next(s for s in data["services"] if s["owner"] == leaver.user_name)
    lines += [f"# {leaver.display_name} ({service['id']}) left in the sandboxes: his account "
              "is inactive.", "governance:"]
    lines += [f"  {key}: {value}" for key, value in data["governance"].items()]
    lines += ["", "products:"]
    for p in data["products"]:
        lines += [f"  - id: {p['id']}",
                  f"    name: {p['name']}",
                  f"    jira_projects: [{', '.join(p['jira_projects'])}]",
                  f"    boards: [{', '.join(str(b) for b in p['boards'])}]"
                  + ("        # scrum, kanban" if len(p["boards"]) > 1 else "        # scrum"),
                  f"    owner: \"{p['owner']}\"", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def test_shipped_portfolio_matches_the_demo_world():
    shipped = yaml.safe_load(PORTFOLIO.read_text(encoding="utf-8"))
    assert shipped == expected_portfolio()


def test_shipped_portfolio_is_a_valid_spec_with_linked_products():
    spec = PortfolioSpec.model_validate(yaml.safe_load(PORTFOLIO.read_text(encoding="utf-8")))
    product_ids = {p.id for p in spec.products}
    assert product_ids == {"payments-web", "mail-platform", "customer-portal",
                           "identity-service"}
    for service in spec.services:
        assert set(service.products) <= product_ids
    assert spec.product_of_project("PAY").id == "payments-web"
    assert spec.jira_projects == {"PAY", "MAIL", "PORT", "IAM"}


def test_shipped_portfolio_reads_as_a_commented_admin_file():
    text = PORTFOLIO.read_text(encoding="utf-8")
    assert text.startswith("# Portfolio:")
    assert text.count("\n#") >= 10


if __name__ == "__main__":
    PORTFOLIO.write_text(render(expected_portfolio()), encoding="utf-8")
    sys.stdout.write(f"wrote {PORTFOLIO}\n")
