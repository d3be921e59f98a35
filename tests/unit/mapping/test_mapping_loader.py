from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from fiveo_sync.engine.loader import SCHEMA_PATH, load_mappings, render_schema
from fiveo_sync.errors import MappingError

REPO = Path(__file__).resolve().parents[3]
MAPPINGS = REPO / "mappings"


def test_schema_file_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "run: python -m fiveo_sync.engine.loader --write-schema")


def test_shipped_files_validate_against_the_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    files = [*MAPPINGS.glob("*.yaml"), *MAPPINGS.glob("indicators/*.yaml")]
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert errors == [], path


def test_shipped_mappings_load():
    mappings = load_mappings(MAPPINGS)
    assert len(mappings.portfolio.services) == 6
    assert mappings.sources.record_map("incident").stream == "incident"


def copy_mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def test_every_problem_of_every_file_is_reported(tmp_path, monkeypatch):
    folder = copy_mappings(tmp_path)
    monkeypatch.chdir(tmp_path)
    portfolio = folder / "portfolio.yaml"
    portfolio.write_text(portfolio.read_text().replace("owner: alice.martin",
                                                       "ownr: alice.martin"))
    sources = folder / "sources.yaml"
    sources.write_text(sources.read_text().replace("kind: sources", "kind: sources\nextra: 1"))
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    text = str(caught.value)
    assert "mappings/portfolio.yaml:" in text
    assert "services[0].ownr: unknown key 'ownr' (did you mean 'owner'?)" in text
    assert "mappings/sources.yaml:" in text and "extra: unknown key 'extra'" in text
    assert len(caught.value.problems) == 2


def test_located_positions_are_one_based_line_and_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = copy_mappings(tmp_path)
    (folder / "portfolio.yaml").write_text(
        "version: 1\nkind: portfolio\nservices:\n  - id: pay\n    business_service: P\n"
        "    products: [web]\nproducts: []\n")
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    (location, message), = caught.value.problems
    assert (location.file, location.line, location.col) == ("mappings/portfolio.yaml", 6, 16)
    assert location.path == "services[0].products[0]"
    assert message == "unknown product 'web'"


def test_an_indicator_the_sql_engine_cannot_compute_is_a_located_problem(tmp_path,
                                                                          monkeypatch):
    # Valid to the model, but a count has no meaning over overlapping intervals: the one
    # engine cannot compute it, so loading refuses it where it is written.
    monkeypatch.chdir(tmp_path)
    folder = copy_mappings(tmp_path)
    operate = folder / "indicators" / "operate.yaml"
    text = operate.read_text()
    operate.write_text(text.replace("    measure: {kind: downtime, unit: min}",
                                    "    measure: {kind: count}", 1))
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    (location, message), = caught.value.problems
    line = text.splitlines().index("    measure: {kind: downtime, unit: min}") + 1
    assert (location.file, location.line) == ("mappings/indicators/operate.yaml", line)
    assert location.path.endswith(".measure")
    assert message == ("cannot be computed: placement overlap places intervals: it takes the "
                       "measures availability, downtime, mtbf, not count")
