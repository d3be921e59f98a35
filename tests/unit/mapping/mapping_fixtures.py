"""Shared helpers for the normaliser tests: the recorded fixtures and the shipped maps."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.sources_spec import SourcesSpec

REPO = Path(__file__).resolve().parents[3]
FIXTURES = (REPO / ".." / "shared" / "fixtures").resolve()
SERVICENOW = FIXTURES / "servicenow-recorded"
JIRA = FIXTURES / "jira-recorded"


def require_fixtures() -> None:
    # Never skip: CI has shared/ beside the clone, so a missing folder is a broken setup.
    assert SERVICENOW.is_dir() and JIRA.is_dir(), f"recorded fixtures missing at {FIXTURES}"


def shipped_sources() -> SourcesSpec:
    return SourcesSpec.model_validate(yaml.safe_load((REPO / "mappings" / "sources.yaml")
                                                     .read_text(encoding="utf-8")))


def shipped_portfolio() -> PortfolioSpec:
    return PortfolioSpec.model_validate(yaml.safe_load((REPO / "mappings" / "portfolio.yaml")
                                                       .read_text(encoding="utf-8")))


def servicenow_records(name: str) -> list[dict]:
    body = json.loads((SERVICENOW / name).read_text(encoding="utf-8"))
    result = body.get("result", body)
    return result if isinstance(result, list) else [result]


def jsonl_data(name: str) -> list[dict]:
    lines = (JIRA / "devlake" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["data"] for line in lines if line.strip()]


def devlake_statuses() -> list[dict]:
    with (JIRA / "devlake" / "_raw_jira_api_status.csv").open(encoding="utf-8") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


def airbyte(name: str):
    return json.loads((JIRA / "airbyte" / name).read_text(encoding="utf-8"))
