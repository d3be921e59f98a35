import subprocess
import sys

import pytest

from fiveo_sync.cli import main
from fiveo_sync.commands import COMMANDS

DESIGN_COMMANDS = {"demo", "sandbox", "validate", "pull", "compute", "push", "run", "report",
                   "doctor", "sql", "export"}  # sql, export: issue 12


def test_every_design_command_is_listed():
    assert set(COMMANDS) == DESIGN_COMMANDS
    out = subprocess.run([sys.executable, "-m", "fiveo_sync", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in DESIGN_COMMANDS:
        assert name in out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2


def test_pull_without_any_platform_is_a_config_error(capsys):
    assert main(["pull"]) == 78
    assert "no platform configured" in capsys.readouterr().err
