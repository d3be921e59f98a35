import os
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from fiveo_sync.metrics import (
    LAST_SUCCESS,
    build_text,
    publish_metrics,
    read_last_success,
    write_textfile,
)
from fiveo_sync.report_model import RunReport
from fiveo_sync.settings import MetricsSettings

T0 = datetime(2024, 5, 6, 7, 0, 0, tzinfo=UTC)


def make_report(exit_code: int = 0, **overrides) -> RunReport:
    values = dict(
        run_id="r-20240506-0700", started_at=T0, finished_at=T0 + timedelta(seconds=42.5),
        pulled={"servicenow.incident": 120, "servicenow.change_request": 30, "jira.issue": 75},
        deleted={"servicenow.incident": 2},
        indicators=318,
        skipped={"incident": {"no_service": 4}, "work_item": {"bad_points": 1}},
        writes={"servicenow": {"created": 10, "updated": 5, "unchanged": 300, "failed": 0},
                "jira": {"created": 1, "updated": 3, "unchanged": 0, "marked": 2}},
        retries={"servicenow": 3, "jira": 0},
        requests={"servicenow": 40, "jira": 25},
        exit_code=exit_code,
    )
    values.update(overrides)
    return RunReport(**values)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found, metric, **labels):
    return found[(f"fiveo_sync_{metric}", tuple(sorted(labels.items())))]


def test_metrics_match_the_run_summary():
    report = make_report()
    summary = report.summary()
    found = samples(build_text(report))

    assert value(found, "run_duration_seconds") == summary["duration_s"] == 42.5
    assert value(found, "run_exit_code") == summary["exit_code"] == 0
    assert value(found, "last_success_timestamp_seconds") == report.finished_at.timestamp()
    assert value(found, "last_run_timestamp_seconds") == report.finished_at.timestamp()
    assert value(found, "indicators_computed") == summary["indicators"]
    assert value(found, "records_skipped") == summary["records_skipped"] == 5
    for key, count in summary["pulled"].items():
        source, stream = key.split(".")
        assert value(found, "records_pulled", source=source, stream=stream) == count
    for key, count in summary["deleted"].items():
        source, stream = key.split(".")
        assert value(found, "records_deleted", source=source, stream=stream) == count
    for target, counts in summary["writes_by_target"].items():
        for outcome, count in counts.items():
            assert value(found, "writes", target=target, outcome=outcome) == count
    # every write action appears for every target, zeros included, so alerts see 0 not absent
    assert value(found, "writes", target="jira", outcome="failed") == 0
    assert sum(v for (n, labels), v in found.items() if n == "fiveo_sync_writes") == sum(
        summary["writes"].values())
    for source, count in summary["requests"].items():
        assert value(found, "http_requests", source=source) == count
    for source, count in summary["retries"].items():
        assert value(found, "http_retries", source=source) == count
    assert value(found, "run_errors", stage="pull") == len(summary["failed_sources"]) == 0
    assert value(found, "run_errors", stage="push") == len(summary["failed_targets"]) == 0
    assert value(found, "run_dry_run") == 0


def test_failed_targets_and_sources_are_counted_and_named():
    report = make_report(exit_code=3, failed_targets={"jira": "403 on PAY"},
                         failed_sources={"servicenow": "unavailable"})
    found = samples(build_text(report))
    assert value(found, "run_exit_code") == 3
    assert value(found, "run_errors", stage="push") == 1
    assert value(found, "run_failed", stage="push", name="jira") == 1
    assert value(found, "run_failed", stage="pull", name="servicenow") == 1
    assert not any(name == LAST_SUCCESS for name, _ in found)
    assert "403 on PAY" not in build_text(report)  # messages stay in logs, not in labels


def test_textfile_is_written_atomically_and_readable(tmp_path):
    path = tmp_path / "fiveo_sync.prom"
    path.write_text("stale\n")
    report = make_report()
    assert write_textfile(report, path) == path
    text = path.read_text()
    assert samples(text) == samples(build_text(report))
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(os.listdir(tmp_path)) == ["fiveo_sync.prom"]  # no temp file left behind


def test_a_failed_run_keeps_the_previous_success_time_in_the_textfile(tmp_path):
    path = tmp_path / "fiveo_sync.prom"
    ok = make_report()
    write_textfile(ok, path)
    later = T0 + timedelta(hours=1)
    failed = make_report(exit_code=69, started_at=later, finished_at=later + timedelta(seconds=5),
                         failed_sources={"jira": "down"})
    write_textfile(failed, path)
    found = samples(path.read_text())
    assert value(found, "last_success_timestamp_seconds") == ok.finished_at.timestamp()
    assert value(found, "last_run_timestamp_seconds") == failed.finished_at.timestamp()
    assert value(found, "run_exit_code") == 69
    assert read_last_success(path) == ok.finished_at.timestamp()


def test_shard_label_is_added_to_every_sample(tmp_path):
    path = tmp_path / "m.prom"
    write_textfile(make_report(), path, labels={"shard": "1"})
    found = samples(path.read_text())
    assert found and all(dict(labels).get("shard") == "1" for _, labels in found)


def test_publish_never_raises_and_logs_a_warning(tmp_path):
    settings = MetricsSettings(textfile=tmp_path / "missing-dir" / "m.prom",
                               pushgateway_url="http://user:hunter2-secret@127.0.0.1:9/",
                               job="fiveo_sync")
    with structlog.testing.capture_logs() as logs:
        published = publish_metrics(make_report(), settings, structlog.get_logger())
    assert published == []
    failures = [e for e in logs if e["event"] == "metrics_publish_failed"]
    assert {e["target"] for e in failures} == {"textfile", "pushgateway"}
    assert all(e["log_level"] == "warning" for e in failures)
    assert "hunter2-secret" not in repr(logs)


def test_publish_writes_the_textfile_when_configured(tmp_path):
    settings = MetricsSettings(textfile=tmp_path / "m.prom")
    with structlog.testing.capture_logs() as logs:
        assert publish_metrics(make_report(), settings, structlog.get_logger(),
                               shard=(0, 2)) == ["textfile"]
    assert [e["event"] for e in logs] == ["metrics_written"]
    assert 'shard="0"' in (tmp_path / "m.prom").read_text()


def test_nothing_configured_publishes_nothing():
    with structlog.testing.capture_logs() as logs:
        assert publish_metrics(make_report(), MetricsSettings(), structlog.get_logger()) == []
    assert logs == []


@pytest.mark.parametrize("text", ["garbage {{{\n", ""])
def test_a_damaged_previous_textfile_is_ignored(tmp_path, text):
    path = tmp_path / "m.prom"
    path.write_text(text)
    assert read_last_success(path) is None


def test_credentials_in_the_gateway_url_are_sent_as_basic_auth_only():
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from fiveo_sync.metrics import push_to_gateway

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://pusher:s3cr%40t@127.0.0.1:{server.server_address[1]}"
        push_to_gateway(make_report(), url, "fiveo_sync", grouping_key={"shard": "1"})
    finally:
        server.shutdown()
        server.server_close()
    path, auth = seen[0]
    assert path == "/metrics/job/fiveo_sync/shard/1"
    assert auth == "Basic " + base64.b64encode(b"pusher:s3cr@t").decode()
