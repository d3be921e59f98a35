from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree

from support.results import build_result

from fiveo_sync.report.chart import (
    ChartPoint,
    ChartTarget,
    build_chart,
    build_chart_figure,
    build_points,
    build_target,
    chart_anchor,
    partial_periods,
    period_label,
)

SVG = "{http://www.w3.org/2000/svg}"


def _months(n, start_year=2025):
    return [f"{start_year + (i // 12)}-{i % 12 + 1:02d}" for i in range(n)]


def _svg(markup):
    return ElementTree.fromstring(markup)  # noqa: S314 - markup this code just built


def test_points_keep_the_last_twelve_complete_periods_and_the_partial_one():
    history = [(p, float(i), "met") for i, p in enumerate(_months(16))]
    points = build_points(history, partial_periods={"2026-04"})
    assert [p.period for p in points] == _months(16)[3:15] + ["2026-04"]
    assert [p.partial for p in points] == [False] * 12 + [True]
    assert points[0].value == 3.0


def test_points_read_dicts_and_a_partial_flag_and_drop_non_numbers():
    points = build_points([{"period": "a", "value": "x", "status": "met"},
                           ("b", float("nan"), "met"), ("c", 2, None),
                           ("d", 5, "at_risk", True)])
    assert [(p.period, p.value, p.status, p.partial) for p in points] == [
        ("a", None, "met", False), ("b", None, "met", False), ("c", 2.0, "no_data", False),
        ("d", 5.0, "at_risk", True)]


def test_chart_draws_one_point_per_value_coloured_by_status_and_a_hollow_partial():
    points = [ChartPoint("2026-09", 30.0, "missed"), ChartPoint("2026-10", 20.0, "at_risk"),
              ChartPoint("2026-11", 10.0, "met"), ChartPoint("2026-12", 12.0, "met", True)]
    svg = _svg(build_chart(points, title="MTTR", unit="h",
                           target=ChartTarget(None, 24.0, "down", "≤ 24")))
    circles = svg.findall(f"{SVG}circle")
    assert [c.get("class") for c in circles] == [
        "pt status-missed", "pt status-at_risk", "pt status-met", "pt status-met partial"]
    assert [c.get("fill") for c in circles] == ["#c62828", "#b35900", "#1a7f37", "#fff"]
    assert circles[-1].find(f"{SVG}title").text == "2026-12 (to date): 12 h — met"
    assert svg.get("data-points") == "4"
    # Higher values sit higher: y grows downwards.
    ys = [float(c.get("cy")) for c in circles]
    assert ys[0] < ys[1] < ys[2] and ys[3] < ys[2]
    # Complete points on a solid line, the partial one on a dashed segment.
    assert len(svg.find(f"{SVG}polyline").get("points").split()) == 3
    assert [e.get("class") for e in svg.findall(f"{SVG}line") if "series" in e.get("class")] \
        == ["series partial"]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "to date" in texts and "target ≤ 24" in texts
    assert {"Sep", "Oct", "Nov", "Dec", "2026"} <= set(texts)


def test_target_line_sits_at_the_bound_on_the_value_scale():
    points = [ChartPoint("2026-10", 0.0, "met"), ChartPoint("2026-11", 40.0, "missed")]
    svg = _svg(build_chart(points, title="t", unit="%",
                           target=ChartTarget(None, 20.0, "down", "≤ 20")))
    ticks = {t.text: float(t.get("y")) - 3.5 for t in svg.iter(f"{SVG}text")
             if t.get("class") == "tick"}
    assert list(ticks) == ["0%", "10%", "20%", "30%", "40%"]
    target = next(e for e in svg.findall(f"{SVG}line") if e.get("class") == "target")
    assert abs(float(target.get("y1")) - ticks["20%"]) < 0.11
    band = svg.find(f"{SVG}rect[@class='target-band']")
    # "down": the met side is below the line, down to the axis at 0.
    assert abs(float(band.get("y")) - ticks["20%"]) < 0.11
    assert abs(float(band.get("y")) + float(band.get("height")) - ticks["0%"]) < 0.11


def test_band_target_draws_two_lines_and_the_band_between():
    points = [ChartPoint("2026-W40", 10.0, "missed"), ChartPoint("2026-W41", 20.0, "met")]
    svg = _svg(build_chart(points, title="t", unit="%",
                           target=ChartTarget(15.0, 30.0, "band", "15–30")))
    assert len([e for e in svg.findall(f"{SVG}line") if e.get("class") == "target"]) == 2
    assert {"W40", "W41", "target 15–30"} <= {t.text for t in svg.iter(f"{SVG}text")}


def test_gaps_break_the_line_and_show_a_dash():
    points = [ChartPoint("2026-08", 1.0, "met"), ChartPoint("2026-09", 2.0, "met"),
              ChartPoint("2026-10", None, "no_data"), ChartPoint("2026-11", 3.0, "met"),
              ChartPoint("2026-12", 4.0, "met")]
    svg = _svg(build_chart(points, title="t", unit="count"))
    assert len(svg.findall(f"{SVG}polyline")) == 2
    assert len(svg.findall(f"{SVG}circle")) == 4
    gap = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "gap")
    assert gap.find(f"{SVG}title").text == "2026-10: no value"
    # A long unit goes above the axis once instead of on every tick.
    assert any(t.get("class") == "unit" and t.text == "count" for t in svg.iter(f"{SVG}text"))


def test_no_value_at_all_gives_a_text_marker():
    assert "no values yet" in build_chart([ChartPoint("2026-11", None, "no_data")],
                                          title="t", unit="h")


def test_period_labels():
    assert period_label("2026-11") == ("Nov", "")
    assert period_label("2027-01") == ("Jan", "2027")
    assert period_label("2026-W07") == ("W07", "")
    assert period_label("sprint-42") == ("S42", "")


def test_partial_is_the_headline_period_still_running_at_now():
    result = build_result(period="2025-03")  # ends 2025-04-01
    assert partial_periods(result, datetime(2025, 3, 31, 23, tzinfo=UTC)) == {"2025-03"}
    assert partial_periods(result, datetime(2025, 4, 1, tzinfo=UTC)) == set()
    assert partial_periods(result, None) == set()


def test_figure_escapes_hostile_text_and_uses_the_result_target():
    hostile = '<script>alert(1)</script>"'
    result = build_result(name=hostile, target='≤ 24 <b>', period="2025-03")
    history = [("2025-01", 20.0, "missed"), ("2025-02", 14.0, "met"),
               ("2025-03", 12.0, "met")]
    figure = build_chart_figure(result, history, now=datetime(2025, 3, 15, tzinfo=UTC),
                                anchor=chart_anchor(result.series_key), caption=hostile)
    assert "<script" not in figure and "<b>" not in figure
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in figure
    assert "target ≤ 24 &lt;b&gt;" in figure
    assert "last 2 complete periods + current to date" in figure
    assert figure.count('class="pt status-met partial"') == 1
    assert build_target(result) == ChartTarget(None, 24.0, "down", "≤ 24 <b>")
    assert build_target(build_result(target_high=None)) is None


def test_anchor_is_safe_and_distinct_for_names_that_slug_alike():
    a, b = chart_anchor("fiveo:x:service:a b:all"), chart_anchor("fiveo:x:service:a-b:all")
    assert a != b
    assert re.fullmatch(r"chart-[\w-]+", chart_anchor("fiveo:x:service:<b>&\"':all"))


def test_figure_takes_the_views_partial_period_over_the_clock():
    result = build_result(period="2025-02")  # complete at "now"
    history = [("2025-01", 20.0, "missed"), ("2025-02", 14.0, "met"),
               ("2025-03", 12.0, "met")]
    now = datetime(2025, 3, 15, tzinfo=UTC)
    derived = build_chart_figure(result, history, now=now, anchor="a", caption="c")
    assert "partial" not in derived.split("<svg", 1)[1]  # the headline period is over
    marked = build_chart_figure(result, history, now=now, anchor="a", caption="c",
                                partial={"2025-03"})
    assert marked.count('class="pt status-met partial"') == 1
    assert "last 2 complete periods + current to date" in marked


def test_large_values_get_short_ticks_and_flat_series_a_real_scale():
    points = [ChartPoint("2026-10", 12_000.0, "met"), ChartPoint("2026-11", 48_000.0, "met")]
    ticks = [t.text for t in _svg(build_chart(points, title="t", unit="h")).iter(f"{SVG}text")
             if t.get("class") == "tick"]
    assert ticks == ["0 h", "20k h", "40k h", "60k h"]
    flat = [ChartPoint("2026-10", 5.0, "met"), ChartPoint("2026-11", 5.0, "met")]
    ticks = [t.text for t in _svg(build_chart(flat, title="t", unit="%")).iter(f"{SVG}text")
             if t.get("class") == "tick"]
    assert ticks == ["4%", "4.5%", "5%", "5.5%", "6%"]  # a flat line mid-scale, not on an edge


def test_missing_months_and_weeks_become_empty_slots():
    points = build_points([("2026-10", 1, "met"), ("2027-01", 2, "met"), ("2027-02", 3, "met",
                                                                          True)])
    assert [(p.period, p.value) for p in points] == [
        ("2026-10", 1.0), ("2026-11", None), ("2026-12", None), ("2027-01", 2.0),
        ("2027-02", 3.0)]
    late = build_points([("2026-09", 1, "met"), ("2026-11", 2, "met", True)])
    assert [(p.period, p.partial) for p in late] == [
        ("2026-09", False), ("2026-10", False), ("2026-11", True)]
    weeks = build_points([("2026-W52", 1, "met"), ("2027-W02", 2, "met")])
    assert [p.period for p in weeks] == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    sprints = build_points([("sprint-1", 1, "met"), ("sprint-4", 2, "met")])
    assert [p.period for p in sprints] == ["sprint-1", "sprint-4"]  # no calendar: as stored
