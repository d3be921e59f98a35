"""The CLI's last-resort paths: an internal error's traceback, a reader that went away."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from fiveo_sync import logs


def _leaky_failure() -> None:
    # A local any real frame could hold; built at run time, as tracebacks show source lines.
    api_token = "-".join(("tok", "5f1c", "not", "for", "logs"))
    raise RuntimeError(f"failed after {len(api_token)} characters")


def test_a_json_traceback_carries_no_local_variables():
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    try:
        _leaky_failure()
    except RuntimeError:
        logs.get_logger("fiveo_sync.cli").exception("internal_error", exit_code=70)
    line = json.loads(stream.getvalue().splitlines()[-1])
    frames = line["exception"][0]["frames"]
    assert [f["name"] for f in frames][-1] == "_leaky_failure"
    assert all("locals" not in frame for frame in frames)
    assert "tok-5f1c-not-for-logs" not in stream.getvalue()


def test_a_console_traceback_carries_no_local_variables():
    stream = io.StringIO()
    logs.configure("console", stream=stream)
    try:
        _leaky_failure()
    except RuntimeError:
        logs.get_logger("fiveo_sync.cli").exception("internal_error", exit_code=70)
    text = stream.getvalue()
    assert "_leaky_failure" in text
    assert "tok-5f1c-not-for-logs" not in text


def test_a_closed_pipe_ends_the_command_quietly():
    # The read end is closed before the command writes (it needs far longer to start).
    proc = subprocess.Popen([sys.executable, "-m", "fiveo_sync", "validate", "--list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert err == ""
