"""The sandbox's indicator table matches deploy/servicenow; deletions leave audit rows."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import requests

from connectors.servicenow.sandbox import ServiceNowSandbox
from connectors.servicenow.sandbox.schema import load_schemas
from tests.integration.servicenow.conftest import NOW

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "servicenow"
SANDBOX_TYPE = {"String": "string", "Integer": "integer", "Decimal": "decimal",
                "Date/Time": "datetime"}


def test_indicator_and_staging_column_types_follow_the_deployed_definition():
    with (DEPLOY / "u_fiveo_indicator.csv").open(encoding="utf-8") as handle:
        documented = {row["column"]: SANDBOX_TYPE[row["type"]] for row in csv.DictReader(handle)}
    schemas = load_schemas()
    for table in ("u_fiveo_indicator", "u_fiveo_indicator_import"):
        types = schemas[table].types
        assert {c: types[c] for c in documented} == documented, table


def test_excluded_counts_compare_as_numbers_in_queries():
    with ServiceNowSandbox(seed=3, now=NOW, incidents=20, changes=5, problems=2,
                           tls=True) as sb:
        for key, excluded in (("a", "9"), ("b", "10"), ("c", "0")):
            sb.create("u_fiveo_indicator", u_key=f"fiveo:{key}", u_excluded=excluded)
        user, password = sb.credentials["integration"]
        got = requests.get(f"{sb.url}/api/now/table/u_fiveo_indicator",
                           params={"sysparm_query": "u_excluded>5^ORDERBYu_key",
                                   "sysparm_fields": "u_key,u_excluded"},
                           auth=(user, password), timeout=10, verify=sb.ca_bundle)
        assert got.status_code == 200
        assert [r["u_key"] for r in got.json()["result"]] == ["fiveo:a", "fiveo:b"]


def test_deleting_a_record_writes_a_documented_audit_row():
    with ServiceNowSandbox(seed=3, now=NOW, incidents=20, changes=5, problems=2,
                           tls=True) as sb:
        user, password = sb.credentials["integration"]
        victim = sb.table("incident")[0]["sys_id"]
        before = sb.clock().replace(microsecond=0)
        gone = requests.delete(f"{sb.url}/api/now/table/incident/{victim}",
                               auth=(user, password), timeout=10, verify=sb.ca_bundle)
        assert gone.status_code == 204
        got = requests.get(f"{sb.url}/api/now/table/sys_audit_delete",
                           params={"sysparm_query": "tablename=incident^ORDERBYsys_created_on",
                                   "sysparm_fields": "tablename,documentkey,sys_created_on"},
                           auth=(user, password), timeout=10, verify=sb.ca_bundle)
        assert got.status_code == 200
        rows = got.json()["result"]
        (row,) = [r for r in rows if r["documentkey"] == victim]
        assert row["tablename"] == "incident"
        deleted_at = datetime.strptime(row["sys_created_on"], "%Y-%m-%d %H:%M:%S")
        assert before <= deleted_at.replace(tzinfo=UTC) <= sb.clock()
