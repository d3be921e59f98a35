"""Outage, survey and improvement records in the engine: scopes, evidence, own targets."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from fiveo_sync.compute import compute_records
from fiveo_sync.engine.crosscheck import check_indicators, check_portfolio_targets
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.scope import build_scopes
from fiveo_sync.engine.spec import IndicatorFileSpec, IndicatorSpec
from fiveo_sync.evidence_links import LinkBuilder
from fiveo_sync.records import CanonicalData, Improvement, Outage, SurveyResponse
from fiveo_sync.yamlfile import load_yaml

NOW = datetime(2025, 4, 10, 12, tzinfo=UTC)
PORTFOLIO = PortfolioSpec.model_validate({
    "version": 1, "kind": "portfolio",
    "services": [
        {"id": "payments", "business_service": "Payments", "products": ["payments-web"],
         "targets": {"operate.availability": {"kind": "min", "value": 99.95}}},
        {"id": "portal", "business_service": "Portal"}],
    "products": [
        {"id": "payments-web", "jira_projects": ["PAY"],
         "targets": {"optimise.open_improvements": {"kind": "max", "value": 1}}},
        {"id": "portal-web", "jira_projects": ["WEB"]}],
})
AVAILABILITY = {
    "id": "operate.availability", "name": "Availability", "view": "service",
    "source": "outage", "filters": [{"op": "eq", "field": "type", "value": "outage"}],
    "period": {"kind": "month", "placement": "overlap", "timestamp": "begin", "until": "end"},
    "measure": {"kind": "availability"}, "unit": "%", "direction": "up",
    "target": {"kind": "min", "value": 99.9}}


def at(day, hour=0, month=3):
    return datetime(2025, month, day, hour, tzinfo=UTC)


def outage(ident, service, begin, end, kind="outage"):
    return Outage(id=ident, number=None, type=kind, service=service, begin=begin, end=end,
                  duration_s=None, task=None)


def survey(ident, service):
    return SurveyResponse(id=ident, number=None, survey=None, state="complete", answered=True,
                          score=5.0, answers=1, task=None, service=service, user=None,
                          sent_at=at(1), taken_on=at(2))


def improvement(ident, scope_type, scope):
    return Improvement(id=ident, indicator="operate.mttr", scope_type=scope_type, scope=scope,
                       breakdown="all", state="open", opened_at=at(3), resolved_at=None)


def spec(**changes):
    return IndicatorSpec.model_validate({**AVAILABILITY, **changes})


def by_key(results):
    return {r.key: r for r in results}


def _evidence_by_scope(indicator, data, kind):
    return {(r.view, r.scope): r.evidence.get(kind, ())
            for r in compute_records([indicator], data, PORTFOLIO, NOW)
            if r.period == "2025-03" and r.breakdown == "all"}


def _count(source, view, stamp):
    return spec(id=f"observe.{source}_count", view=view, source=source, filters=[],
                period={"kind": "month", "timestamp": stamp}, measure={"kind": "count"},
                unit="count", direction="down", target={"kind": "max", "value": 9})


def test_outages_and_surveys_belong_to_the_scope_of_their_service():
    data = CanonicalData(outages=(outage("o1", "payments", at(1), at(2)),
                                  outage("o2", "portal", at(1), at(2)),
                                  outage("o3", None, at(1), at(2))),
                         survey_responses=(survey("s1", "payments"), survey("s2", None)))
    assert _evidence_by_scope(_count("outage", "service", "begin"), data, "outage") == {
        ("service", "payments"): ("o1",), ("service", "portal"): ("o2",)}
    assert _evidence_by_scope(_count("outage", "combined", "begin"), data, "outage") == {
        ("combined", "payments"): ("o1",), ("combined", "portal"): ("o2",)}
    assert _evidence_by_scope(_count("survey_response", "service", "taken_on"), data,
                              "survey_response") == {
        ("service", "payments"): ("s1",), ("service", "portal"): ()}


def test_improvements_belong_to_their_service_or_product_and_combined_has_both():
    data = CanonicalData(improvements=(
        improvement("i1", "service", "payments"), improvement("i2", "product", "payments-web"),
        improvement("i3", "product", "portal-web"), improvement("i4", "service", "portal")))
    ids = {}
    for view in ("service", "combined", "product"):
        ids |= _evidence_by_scope(_count("improvement", view, "opened_at"), data, "improvement")
    assert ids == {("service", "payments"): ("i1",), ("service", "portal"): ("i4",),
                   ("combined", "payments"): ("i1", "i2"), ("combined", "portal"): ("i4",),
                   ("product", "payments-web"): ("i2",), ("product", "portal-web"): ("i3",)}


def test_outage_evidence_lists_every_evaluated_outage_and_links_to_the_outage_table():
    data = CanonicalData(outages=(
        outage("o1", "payments", at(10, 10), at(10, 11)),
        outage("o-bad", "payments", at(15, 10), at(15, 9)),
        outage("p1", "payments", at(20), at(20, 4), kind="planned")))
    results = by_key(compute_records([spec()], data, PORTFOLIO, NOW))
    march = results["fiveo:operate.availability:service:payments:all:2025-03"]
    assert march.evidence == {"outage": ("o-bad", "o1")}
    assert (march.n, march.excluded) == (1, 1)
    (link,) = LinkBuilder(servicenow_url="https://x.service-now.com").links(march)
    assert link.url.startswith("https://x.service-now.com/cmdb_ci_outage_list.do?")
    assert link.label == "2 outages"


def test_a_service_target_replaces_the_catalogue_target_for_that_service_only():
    half_hour = at(5).replace(minute=30)
    data = CanonicalData(outages=(outage("o1", "payments", at(5), half_hour),
                                  outage("o2", "portal", at(5), half_hour)))
    results = by_key(compute_records([spec()], data, PORTFOLIO, NOW))
    payments = results["fiveo:operate.availability:service:payments:all:2025-03"]
    portal = results["fiveo:operate.availability:service:portal:all:2025-03"]
    # 30 min of 744 h: 99.933 % — below the service's 99.95, above the catalogue's 99.9
    assert payments.value == pytest.approx(100 * (1 - 0.5 / 744))
    assert (payments.target, payments.target_low) == ("≥ 99.95", 99.95)
    assert (portal.target, portal.target_low) == ("≥ 99.9", 99.9)
    assert portal.status == "met"
    assert payments.status == "at_risk"  # within 10 % tolerance of 99.95


def test_a_combined_view_uses_its_service_target():
    data = CanonicalData(outages=(outage("o1", "payments", at(5), at(5, 1)),))
    results = by_key(compute_records([spec(view="combined")], data, PORTFOLIO, NOW))
    assert results["fiveo:operate.availability:service:payments:all:2025-03"].target_low \
        == 99.95


def test_breakdown_targets_still_win_over_the_service_target():
    breakdown = {"field": "type", "values": ["outage"],
                 "targets": {"outage": {"kind": "min", "value": 99.0}}}
    data = CanonicalData(outages=(outage("o1", "payments", at(5), at(5, 1)),))
    results = by_key(compute_records([spec(breakdown=breakdown)], data, PORTFOLIO, NOW))
    assert results["fiveo:operate.availability:service:payments:all:2025-03"].target_low \
        == 99.95
    assert results["fiveo:operate.availability:service:payments:type=outage:2025-03"] \
        .target_low == 99.0


def test_a_product_target_applies_to_the_product_view():
    count = IndicatorSpec.model_validate({
        "id": "optimise.open_improvements", "name": "Open improvements", "view": "product",
        "source": "improvement", "snapshot": True,
        "filters": [{"op": "eq", "field": "state", "value": "open"}],
        "measure": {"kind": "count"}, "unit": "count", "direction": "down",
        "target": {"kind": "max", "value": 3}})
    data = CanonicalData(improvements=(improvement("i1", "product", "payments-web"),
                                       improvement("i2", "product", "payments-web")))
    results = by_key(compute_records([count], data, PORTFOLIO, NOW))
    web = results["fiveo:optimise.open_improvements:product:payments-web:all:2025-04"]
    other = results["fiveo:optimise.open_improvements:product:portal-web:all:2025-04"]
    assert (web.value, web.target_high, web.status) == (2.0, 1.0, "missed")
    assert (other.value, other.target_high, other.status) == (0.0, 3.0, "met")


def test_overlap_placement_needs_timestamp_and_until():
    with pytest.raises(ValidationError, match="placement overlap needs timestamp"):
        spec(period={"kind": "month", "placement": "overlap", "timestamp": "begin"})


def test_until_needs_overlap_placement():
    with pytest.raises(ValidationError, match="until only applies to placement overlap"):
        spec(period={"kind": "month", "timestamp": "begin", "until": "end"},
             measure={"kind": "count"}, unit="count")


def test_interval_measures_need_overlap_placement():
    with pytest.raises(ValidationError, match="measure mtbf needs period placement overlap"):
        spec(period={"kind": "month", "timestamp": "begin"}, measure={"kind": "mtbf"},
             unit="h")


def test_field_refs_name_until_and_the_repeat_field():
    repeat = spec(period={"kind": "month", "timestamp": "begin"},
                  measure={"kind": "repeat_count", "same": "task"}, unit="count",
                  direction="down", target={"kind": "max", "value": 0})
    assert ("outage", "end") in spec().field_refs()
    assert ("outage", "task") in repeat.field_refs()


def _indicator_files():
    return [(None, IndicatorFileSpec(version=1, kind="indicators", o="operate",
                                     indicators=[spec()]))]


def test_portfolio_targets_are_checked_for_view_and_direction(tmp_path):
    path = tmp_path / "portfolio.yaml"
    path.write_text(
        "version: 1\nkind: portfolio\nservices: []\nproducts:\n"
        "  - id: web\n    jira_projects: [WEB]\n    targets:\n"
        "      operate.availability: {kind: max, value: 1}\n")
    document = load_yaml(path)
    parsed = PortfolioSpec.model_validate(document.data)
    problems = [(loc.line, loc.col, message)
                for loc, message in check_portfolio_targets(document, parsed,
                                                            _indicator_files())]
    assert problems == [
        (8, 7, "indicator 'operate.availability' has view service: a product target never "
               "applies to it"),
        (8, 30, "indicator 'operate.availability' has direction up: its target needs kind "
                "min, got max")]


def test_scope_targets_accept_portfolios_without_them():
    portfolio = SimpleNamespace(
        services=[SimpleNamespace(id="payments", support_groups=(), products=())],
        products=[])
    (scope,) = build_scopes(portfolio)["service"]
    assert scope.target_for("operate.availability") is None


def test_outage_results_name_servicenow_as_their_source():
    data = CanonicalData(outages=(outage("o1", "payments", at(5), at(5, 1)),))
    (result, *_rest) = compute_records([spec()], data, PORTFOLIO, NOW)
    assert result.sources == ("servicenow",)


def test_a_repeat_needs_a_value_of_the_same_field():
    repeat = spec(id="optimise.repeat_outages", period={"kind": "month", "timestamp": "begin"},
                  filters=[],
                  measure={"kind": "repeat_count", "same": "task"}, unit="count",
                  direction="down", target={"kind": "max", "value": 0})
    with_task = [Outage(id=f"o{i}", number=None, type="outage", service="payments",
                        begin=at(day), end=at(day, 1), duration_s=None, task=task)
                 for i, (day, task) in enumerate([(3, None), (4, None), (5, "CHG1"),
                                                  (6, "CHG1"), (7, "CHG2")])]
    results = by_key(compute_records([repeat], CanonicalData(outages=tuple(with_task)), PORTFOLIO,
                             NOW))
    march = results["fiveo:optimise.repeat_outages:service:payments:all:2025-03"]
    # only o3 repeats (o2 by task CHG1); outages without a task never repeat
    assert (march.value, march.n, march.status) == (1.0, 5, "missed")


def test_fields_of_improvement_items_are_checked(tmp_path):
    path = tmp_path / "optimise.yaml"
    path.write_text(
        "version: 1\nkind: indicators\no: optimise\nindicators:\n"
        "  - id: optimise.improvements_opened\n    name: Opened\n    view: service\n"
        "    source: improvement\n    period: {kind: month, timestamp: opend_at}\n"
        "    measure: {kind: count}\n    unit: count\n    direction: band\n"
        "    target: {kind: band, low: 0, high: 5}\n")
    document = load_yaml(path)
    problems = check_indicators([(document, IndicatorFileSpec.model_validate(document.data))])
    assert [(loc.line, message) for loc, message in problems] == [
        (9, "unknown field 'opend_at' for improvement (did you mean 'opened_at'?)")]
