"""compute_from_store, the compute/report commands and owner views, on a real state store."""

import argparse
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from fiveo_sync.commands import compute as compute_cmd
from fiveo_sync.commands import report as report_cmd
from fiveo_sync.compute import compute_from_store, load_history
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.state import StateStore
from fiveo_sync.views import build_views

NOW = datetime(2025, 4, 3, tzinfo=UTC)
REPO_MAPPINGS = __import__("pathlib").Path(__file__).resolve().parents[3] / "mappings"


def _ctx(tmp_path, out=None):
    settings = SimpleNamespace(state=SimpleNamespace(path=tmp_path / "state.sqlite"),
                               mappings=SimpleNamespace(dir=REPO_MAPPINGS))
    return SimpleNamespace(settings=settings, clock=lambda: NOW, log=None,
                           out=out or io.StringIO())


def test_compute_from_an_empty_store_saves_no_data_results_and_reads_them_back(tmp_path):
    mappings = load_mappings(REPO_MAPPINGS)
    with StateStore(tmp_path / "s.sqlite") as store:
        report = compute_from_store(store, mappings, NOW, "run-1")
        assert report.results
        statuses = {r.status for r in report.results}
        assert statuses <= {"no_data", "met", "missed", "insufficient_data"}
        stored = load_history(store)
    assert {r.key for r in stored} == {r.key for r in report.results}
    mttr = [r for r in stored if r.indicator == "operate.mttr" and r.breakdown == "all"]
    # April (current) and March (ended 3 days ago) are inside the 35-day window.
    assert {r.period for r in mttr if r.scope == mttr[0].scope} >= {"2025-03", "2025-04"}


def test_compute_and_report_commands(tmp_path):
    ctx = _ctx(tmp_path)
    parser = argparse.ArgumentParser()
    compute_cmd.configure(parser)
    assert compute_cmd.execute(parser.parse_args([]), ctx) == 0
    assert ctx.out.getvalue().startswith("computed ")

    parser = argparse.ArgumentParser()
    report_cmd.configure(parser)
    out = io.StringIO()
    assert report_cmd.execute(parser.parse_args(["--format", "json", "--view", "product"]),
                              _ctx(tmp_path, out)) == 0
    views = json.loads(out.getvalue())
    assert views and {v["kind"] for v in views} == {"product"}
    out = io.StringIO()
    assert report_cmd.execute(parser.parse_args([]), _ctx(tmp_path, out)) == 0
    text = out.getvalue()
    assert "Operate" in text and "\x1b[" not in text  # not a terminal: no colours


def test_views_join_service_products_and_combined(tmp_path):
    mappings = load_mappings(REPO_MAPPINGS)
    with StateStore(tmp_path / "s.sqlite") as store:
        results = list(compute_from_store(store, mappings, NOW, "r").results)
    views = build_views(results, mappings.portfolio)
    service = mappings.portfolio.services[0]
    view = next(v for v in views if v.kind == "service" and v.id == service.id)
    scopes = {(r.scope_type, r.scope) for r in view.results}
    assert ("service", service.id) in scopes
    assert {("product", p) for p in service.products} <= scopes
    assert all(r.series_key in view.history for r in view.results)
    product_view = next(v for v in views if v.kind == "product" and v.id == service.products[0])
    kinds = {(r.scope_type, r.view) for r in product_view.results}
    assert ("service", "service") not in kinds and ("service", "combined") in kinds
