import io

import pytest

from fiveo_sync.doctor import Check, exit_code, remedy_of, write_report
from fiveo_sync.errors import AuthError, ConfigError, DataError, MappingError, UnavailableError


def failed(remedy):
    return Check.failed("jira", f"check {remedy}", "detail", "do this", remedy)


def test_all_passing_exits_0():
    assert exit_code([Check.passed("jira", "reachable", "ok")]) == 0
    assert exit_code([]) == 0


@pytest.mark.parametrize("remedies, code", [
    (["permission"], 77), (["unreachable"], 69), (["config"], 78), (["data"], 65),
    (["unreachable", "permission"], 77), (["data", "unreachable"], 69),
    (["permission", "config"], 78),
])
def test_the_worst_failure_decides_the_exit_code(remedies, code):
    checks = [Check.passed("servicenow", "reachable", "ok"), *map(failed, remedies)]
    assert exit_code(checks) == code


@pytest.mark.parametrize("error, remedy", [
    (AuthError("x"), "permission"), (UnavailableError("x"), "unreachable"),
    (ConfigError("x"), "config"), (MappingError([]), "config"), (DataError("x"), "data"),
])
def test_errors_map_to_remedies(error, remedy):
    assert remedy_of(error) == remedy


def test_report_has_one_line_per_check_and_the_fix_of_failures():
    out = io.StringIO()
    write_report([Check.passed("jira", "user time zone", "Europe/Berlin"),
                  Check.failed("jira", "permissions PAY", "missing Edit Issues",
                               "grant Edit Issues", "permission")], out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok") and "jira" in lines[0] and "Europe/Berlin" in lines[0]
    assert lines[1].startswith("FAILED") and "permissions PAY: missing Edit Issues" in lines[1]
    assert lines[2].strip() == "fix: grant Edit Issues"
    assert lines[3] == "doctor: 2 checks, 1 failed"
