"""A real run over both sandboxes writes a textfile whose numbers are its run_finished line."""

from datetime import UTC, datetime

import structlog
from prometheus_client.parser import text_string_to_metric_families

from connectors.jira.sandbox import JiraSandbox
from connectors.servicenow.sandbox import ServiceNowSandbox
from fiveo_sync.demo import DemoOptions, build_demo_settings
from fiveo_sync.runner import Runner, RunOptions
from fiveo_sync.settings import MetricsSettings

NOW = datetime(2025, 4, 3, tzinfo=UTC)


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name.removeprefix("fiveo_sync_"),
                 tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_textfile_of_a_real_run_matches_its_run_finished_summary(tmp_path):
    textfile = tmp_path / "fiveo_sync.prom"
    with ServiceNowSandbox(seed=7, scale="small", now=NOW, tls=True) as sn, \
            JiraSandbox(seed=7, scale="small", now=NOW, tls=True) as jira:
        settings = build_demo_settings(sn, jira, DemoOptions(out_dir=tmp_path / "out"))
        settings = settings.model_copy(update={"metrics": MetricsSettings(textfile=textfile)})
        with structlog.testing.capture_logs() as logs:
            report = Runner(settings, clock=sn.clock, log=structlog.get_logger()).run(
                RunOptions())
    (finished,) = [e for e in logs if e["event"] == "run_finished"]
    assert report.exit_code == 0 and finished["exit_code"] == 0
    found = samples(textfile.read_text())
    assert found[("run_exit_code", ())] == finished["exit_code"]
    assert found[("run_duration_seconds", ())] == finished["duration_s"]
    assert found[("indicators_computed", ())] == finished["indicators"] > 0
    assert found[("records_skipped", ())] == finished["records_skipped"]
    assert found[("last_success_timestamp_seconds", ())] == report.finished_at.timestamp()
    pulled = {f"{dict(k)['source']}.{dict(k)['stream']}": v
              for (name, k), v in found.items() if name == "records_pulled"}
    assert pulled == finished["pulled"] and sum(pulled.values()) > 0
    writes = {(dict(k)["target"], dict(k)["outcome"]): v
              for (name, k), v in found.items() if name == "writes"}
    expected = {(target, outcome): n for target, counts in finished["writes_by_target"].items()
                for outcome, n in counts.items()}
    assert writes == expected and writes[("servicenow", "created")] > 0
    assert {dict(k)["source"]: v for (name, k), v in found.items()
            if name == "http_requests"} == finished["requests"]
    assert {dict(k)["source"]: v for (name, k), v in found.items()
            if name == "http_retries"} == finished["retries"]
    assert found[("run_errors", (("stage", "pull"),))] == len(finished["failed_sources"])
    assert found[("run_errors", (("stage", "push"),))] == len(finished["failed_targets"])
