"""The table of broken mapping and settings files, each with its exact located message.

``mappings/`` is one broken mapping folder: every file in it holds at least one problem,
and ``expected_mapping_problems.txt`` lists every line ``validate`` must print for it.
``settings/`` holds broken settings files, paired with ``expected_settings_problems.txt``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fiveo_sync.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BROKEN = HERE / "mappings"


def expected(name: str) -> list[str]:
    return (HERE / name).read_text(encoding="utf-8").splitlines()


def broken_files() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in BROKEN.rglob("*.yaml"))


def test_the_table_holds_at_least_twenty_broken_mapping_files():
    assert len(broken_files()) >= 20


def test_validate_lists_every_problem_of_every_broken_file_at_once(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code = main(["validate", "--mappings", str(BROKEN.relative_to(REPO))])
    printed = capsys.readouterr().out.splitlines()
    assert code == 78
    assert printed == expected("expected_mapping_problems.txt")
    located = {line.split(":", 1)[0] for line in printed}
    assert located == set(broken_files())  # every file contributes, none is skipped


@pytest.mark.parametrize("line", expected("expected_mapping_problems.txt"))
def test_each_expected_problem_is_located(line):
    file, row, col, rest = line.split(":", 3)
    assert (REPO / file).is_file()
    assert int(row) >= 1 and int(col) >= 1
    assert rest.strip()


@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "settings").glob("*.yaml")))
def test_broken_settings_files_are_located(name, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    config = f"tests/invalid/settings/{name}"
    code = main(["--config", config, "validate", "--mappings", "mappings"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 78
    assert printed == [line for line in expected("expected_settings_problems.txt")
                       if line.startswith(config + ":")]


def test_shipped_mappings_validate(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code = main(["validate"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[-1].startswith("ok: ") and "indicators" in lines[-1]
    assert [line.split(":", 1)[0] for line in lines[:-1]] == [
        "by O", "by characteristic", "by dimension"]
