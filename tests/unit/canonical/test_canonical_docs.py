"""docs/canonical-tables.md documents every canonical table and column."""

from pathlib import Path

from fiveo_sync.canonical.schema import BUILD, CHANGE_LOG, PREVIOUS, RAW_INDEX, TABLES

DOC = Path(__file__).resolve().parents[3] / "docs" / "canonical-tables.md"


def _sections() -> list[tuple[str, str]]:
    parts = DOC.read_text(encoding="utf-8").split("\n### ")[1:]
    return [(part.split("\n", 1)[0], part) for part in parts]


def test_every_table_has_a_section_naming_each_of_its_columns():
    sections = _sections()
    missing = []
    for table in (*TABLES, BUILD, RAW_INDEX, CHANGE_LOG, *PREVIOUS.values()):
        found = [body for heading, body in sections if f"`{table.name}`" in heading]
        if not found:
            missing.append(f"section for {table.name}")
            continue
        # A previous-rows table documents its generation; the rest are its table's.
        own = ("generation", f"{table.name.removeprefix('canonical_previous_')}") \
            if table in PREVIOUS.values() else table.column_names
        missing += [f"{table.name}.{column}" for column in own
                    if f"`{column}`" not in found[0]]
    assert not missing, missing
