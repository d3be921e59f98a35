"""A real Prometheus Pushgateway (Debian's prometheus-pushgateway) on a loopback port."""

import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from fiveo_sync.metrics import publish_metrics, push_to_gateway
from fiveo_sync.report_model import RunReport
from fiveo_sync.settings import MetricsSettings

BINARY = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")


T0 = datetime(2024, 5, 6, 7, 0, 0, tzinfo=UTC)


def make_report(exit_code: int = 0, **overrides) -> RunReport:
    values = dict(
        run_id="r-it", started_at=T0, finished_at=T0 + timedelta(seconds=42.5),
        pulled={"servicenow.incident": 120, "jira.issue": 75}, indicators=318,
        writes={"servicenow": {"created": 10, "updated": 5, "unchanged": 300}},
        retries={"servicenow": 3}, requests={"servicenow": 40, "jira": 25},
        exit_code=exit_code)
    values.update(overrides)
    return RunReport(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test
        return response.read().decode()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    if BINARY is None:
        pytest.fail("prometheus-pushgateway is not installed: apt-get install -y "
                    "prometheus-pushgateway (the CI script .ci/run installs it)")
    port = free_port()
    log_path = tmp_path_factory.mktemp("pushgateway") / "stderr.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [BINARY, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                fetch(f"{base}/-/ready")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pushgateway did not start: "
                                       f"{log_path.read_text()[-500:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()


def pushed_samples(base: str, job: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(fetch(f"{base}/metrics")):
        for sample in family.samples:
            if sample.labels.get("job") == job and sample.name.startswith("fiveo_sync_"):
                labels = {k: v for k, v in sample.labels.items() if k not in ("job", "instance")}
                out[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return out


def test_pushed_metrics_are_readable_back_and_match_the_summary(gateway):
    report = make_report()
    summary = report.summary()
    push_to_gateway(report, gateway, "fiveo_sync_it")
    found = pushed_samples(gateway, "fiveo_sync_it")
    assert found[("fiveo_sync_indicators_computed", ())] == summary["indicators"]
    assert found[("fiveo_sync_run_duration_seconds", ())] == summary["duration_s"]
    assert found[("fiveo_sync_records_pulled",
                  (("source", "servicenow"), ("stream", "incident")))] == 120
    assert found[("fiveo_sync_writes", (("outcome", "unchanged"), ("target", "servicenow")))] \
        == 300
    assert found[("fiveo_sync_last_success_timestamp_seconds", ())] == \
        report.finished_at.timestamp()


def test_a_failed_run_keeps_the_last_success_on_the_gateway(gateway):
    ok = make_report()
    push_to_gateway(ok, gateway, "fiveo_sync_keep")
    later = T0 + timedelta(hours=2)
    failed = make_report(exit_code=77, started_at=later, finished_at=later,
                         failed_targets={"jira": "permission"})
    push_to_gateway(failed, gateway, "fiveo_sync_keep")
    found = pushed_samples(gateway, "fiveo_sync_keep")
    assert found[("fiveo_sync_run_exit_code", ())] == 77
    assert found[("fiveo_sync_last_success_timestamp_seconds", ())] == ok.finished_at.timestamp()
    assert found[("fiveo_sync_run_failed", (("name", "jira"), ("stage", "push")))] == 1


def test_shards_push_to_separate_groups(gateway):
    settings = MetricsSettings(pushgateway_url=gateway, job="fiveo_sync_sharded")
    for index, indicators in ((0, 11), (1, 22)):
        with structlog.testing.capture_logs() as logs:
            published = publish_metrics(make_report(indicators=indicators), settings,
                                        structlog.get_logger(), shard=(index, 2))
        assert published == ["pushgateway"], logs
    found = pushed_samples(gateway, "fiveo_sync_sharded")
    assert found[("fiveo_sync_indicators_computed", (("shard", "0"),))] == 11
    assert found[("fiveo_sync_indicators_computed", (("shard", "1"),))] == 22
