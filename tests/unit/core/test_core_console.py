import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from fiveo_sync import logs
from fiveo_sync.cli import build_parser, configure_logs
from fiveo_sync.progress import Progress, print_summary
from fiveo_sync.report_model import RunReport


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    logs.configure("json", stream=io.StringIO())


@pytest.mark.parametrize(("fmt", "verbose", "log_file", "tty", "expected"), [
    ("auto", 0, None, False, True),     # cron, Kubernetes: JSON lines on stderr
    ("auto", 0, None, True, False),     # a person at a terminal: progress instead
    ("json", 0, None, True, True),      # asked for
    ("console", 0, None, True, True),
    ("auto", 1, None, True, True),      # -v: the detail, as log lines
    ("json", 0, "run.log", False, False),
])
def test_log_lines_reach_stderr_only_where_someone_reads_them(fmt, verbose, log_file, tty,
                                                              expected):
    assert logs.log_lines_on_stderr(fmt, verbose, log_file, tty) is expected


def test_log_file_gets_json_lines_and_stderr_only_short_notices(tmp_path, capsys):
    log_file = tmp_path / "logs" / "run.log"
    logs.configure("auto", log_file=log_file, notices=True)
    log = logs.get_logger("fiveo_sync.test")
    log.info("page_fetched", rows=3)
    log.warning("tls_verification_disabled", hint="http.verify is false")
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["page_fetched", "tls_verification_disabled"]
    assert logs.active().file == log_file and not logs.active().on_terminal
    err = capsys.readouterr().err
    assert err == "warning: tls_verification_disabled: hint=http.verify is false\n"


def test_log_file_is_appended_unless_truncated(tmp_path):
    log_file = tmp_path / "run.log"
    log_file.write_text('{"event": "earlier"}\n')
    logs.configure("json", log_file=log_file)
    logs.get_logger().info("run_finished")
    assert len(log_file.read_text().splitlines()) == 2
    logs.configure("json", log_file=log_file, truncate=True)
    logs.get_logger().info("run_finished")
    assert len(log_file.read_text().splitlines()) == 1


def test_quiet_terminal_shows_warnings_and_errors_but_no_info(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    args = build_parser().parse_args(["run"])
    configure_logs(args)
    log = logs.get_logger("fiveo_sync.test")
    log.info("stream_pulled", records=5)
    log.error("source_failed", source="jira", error="401 Unauthorized")
    logging.getLogger("urllib3.connectionpool").warning("retrying %s", "GET /x")
    assert terminal.getvalue().splitlines() == [
        "error: source_failed: source=jira error=401 Unauthorized",
        "warning: retrying GET /x"]


def test_notices_and_listeners_never_carry_secrets(capsys):
    from fiveo_sync.redaction import register_secret

    register_secret("s3cret-Token-99")
    seen = []
    logs.configure("json", stream=io.StringIO(), quiet=True, notices=True)
    with logs.listen(seen.append):
        logs.get_logger().warning("auth_retry", header="Bearer s3cret-Token-99")
    assert "s3cret-Token-99" not in capsys.readouterr().err
    assert seen and "s3cret-Token-99" not in json.dumps(seen)


def _report(**changes):
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    report = RunReport(run_id="abc123", started_at=start,
                       finished_at=start + timedelta(seconds=4.2), indicators=120,
                       pulled={"servicenow.incident": 30, "jira.issue": 12},
                       writes={"servicenow": {"created": 2, "updated": 1, "unchanged": 50},
                               "jira": {"updated": 0, "unchanged": 4}}, outputs=3)
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def test_summary_says_outcome_counts_and_where_to_look(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = FakeTerminal()
    progress = Progress(terminal, enabled=True)
    progress.warnings.append("tls_verification_disabled")
    print_summary(progress, _report(), dashboard=tmp_path, log_file=tmp_path / "run.log")
    text = _plain(terminal.getvalue())
    assert "fiveo-sync run ok in 4.2 s (run abc123, exit 0)" in text
    assert "pulled    42 records from 2 streams; computed 120 indicator results" in text
    assert "servicenow 2 created, 1 updated, 50 unchanged" in text
    assert "jira      4 unchanged" in text
    assert f"dashboard {tmp_path.resolve() / 'index.html'}" in text
    assert "warnings and errors above (1): tls_verification_disabled" in text
    assert f"log       {(tmp_path / 'run.log').resolve()}" in text
    assert not re.search("\x1b\\[[0-9;]*3[0-9]m", terminal.getvalue())  # NO_COLOR


def test_summary_names_a_failed_target_with_its_message_verbatim(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = FakeTerminal()
    report = _report(failed_targets={"jira": "HTTP 403 [project PAY] no permission"},
                     exit_code=3)
    print_summary(Progress(terminal, enabled=True), report)
    text = _plain(terminal.getvalue())
    assert "fiveo-sync run partial in 4.2 s" in text
    assert "! jira failed: HTTP 403 [project PAY] no permission" in text


def test_progress_follows_the_run_through_its_log_events():
    logs.configure("json", stream=io.StringIO())
    progress = Progress(FakeTerminal(), enabled=True, sources=2)
    log = logs.get_logger()
    with progress:
        progress.update("servicenow incident", 100)
        progress.update("servicenow incident", 250)
        log.info("stream_pulled", source="servicenow", stream="incident", records=250,
                 pages=2)
        progress.done()
        assert "pulling" in _rendered(progress)
        log.info("stream_pulled", source="jira", stream="issue", records=0, pages=0)
        progress.done()
        assert "computing indicators" in _rendered(progress)
        log.info("plan_executed", platform="jira", created=1, updated=2, unchanged=3,
                 failed=0)
        text = _rendered(progress)
    assert "servicenow incident" in text and "250 records" in text and "2 pages" in text
    assert "jira issue" in text and "0 records" in text
    assert "push jira" in text and "1 created, 2 updated, 3 unchanged, 0 failed" in text


def test_disabled_progress_draws_nothing():
    terminal = FakeTerminal()
    progress = Progress(terminal, enabled=False)
    with progress:
        progress.update("jira issue", 5)
        progress.done()
    print_summary(progress, _report())
    assert terminal.getvalue() == ""


def _rendered(progress):
    console = progress.console
    with console.capture() as captured:
        console.print(progress._render())
    return captured.get()


def _plain(text):
    return re.sub("\x1b\\[[0-9;?]*[A-Za-z]", "", text)


def test_an_internal_error_keeps_its_traceback_on_a_quiet_terminal(capsys):
    logs.configure("json", stream=io.StringIO(), quiet=True, notices=True)
    try:
        raise KeyError("boom")
    except KeyError:
        logs.get_logger("fiveo_sync.cli").exception("internal_error", exit_code=70)
    err = capsys.readouterr().err
    assert err.startswith("error: internal_error: exit_code=70\nTraceback")
    assert "KeyError: 'boom'" in err


def test_a_failed_command_is_not_told_twice_on_the_terminal(capsys):
    logs.configure("json", stream=io.StringIO(), quiet=True, notices=True)
    logs.get_logger("fiveo_sync.cli").error("command_failed", command="pull", exit_code=77)
    assert capsys.readouterr().err == ""


def test_without_a_with_block_each_source_leaves_its_table_behind(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    logs.configure("json", stream=io.StringIO())
    terminal = FakeTerminal()
    progress = Progress(terminal, enabled=True)  # as `fiveo-sync pull` uses it
    progress.update("jira issue", 100)
    logs.get_logger().info("stream_pulled", source="jira", stream="issue", records=100,
                           pages=1)
    progress.done()
    assert progress._live is None  # stopped with the source
    last_frame = _plain(terminal.getvalue()).rsplit("\r", 1)[-1]
    assert "jira issue" in last_frame and "100 records" in last_frame
    assert "pulling" not in last_frame
