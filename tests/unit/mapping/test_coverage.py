"""Coverage of the catalogue by O, characteristic and dimension (``fiveo-sync validate``)."""

from __future__ import annotations

from pathlib import Path

from fiveo_sync.engine.coverage import coverage
from fiveo_sync.engine.loader import load_mappings
from fiveo_sync.engine.spec import IndicatorSpec

REPO = Path(__file__).resolve().parents[3]


def _spec(ident: str, characteristic: str | None, dimension: str | None) -> IndicatorSpec:
    return IndicatorSpec.model_validate({
        "id": ident, "name": ident, "view": "service", "source": "incident",
        "period": {"kind": "month", "timestamp": "opened_at"}, "measure": {"kind": "count"},
        "unit": "count", "direction": "down", "target": {"kind": "max", "value": 1},
        "characteristic": characteristic, "dimension": dimension})


def test_counts_every_name_and_the_unclassified():
    specs = [_spec("operate.a", "availability", "information_and_technology"),
             _spec("operate.b", "availability", None),
             _spec("observe.c", None, "partners_and_suppliers")]
    result = coverage(specs)
    assert result.by_o == {"organise": 0, "orient": 0, "operate": 2, "observe": 1,
                           "optimise": 0}
    assert result.by_characteristic["availability"] == 2
    assert result.by_characteristic["security"] == 0
    assert result.by_characteristic["unclassified"] == 1
    assert result.by_dimension["partners_and_suppliers"] == 1
    assert result.by_dimension["unclassified"] == 1
    assert result.lines()[0] == "by O: organise 0 · orient 0 · operate 2 · observe 1 · optimise 0"


def test_no_unclassified_entry_when_everything_is_classified():
    result = coverage([_spec("orient.a", "velocity", "organisations_and_people")])
    assert "unclassified" not in result.by_characteristic
    assert "unclassified" not in result.by_dimension


def test_shipped_catalogue_covers_the_whole_approach():
    mappings = load_mappings(REPO / "mappings")
    specs = [spec for f in mappings.indicator_files for spec in f.indicators]
    result = coverage(specs)
    assert len(specs) >= 48
    assert min(result.by_o.values()) >= 8, result.by_o
    assert min(result.by_characteristic.values()) >= 2, result.by_characteristic
    assert "unclassified" not in result.by_characteristic
    assert "unclassified" not in result.by_dimension
    assert min(result.by_dimension.values()) >= 2, result.by_dimension
