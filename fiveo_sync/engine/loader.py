"""Loading the mapping folder: every file parsed, validated and cross-checked, all at once.

``load_mappings(directory)`` reads ``portfolio.yaml``, ``sources.yaml`` and every
``indicators/*.yaml``; a file's ``kind:`` says what it is (the file name is only a hint when
``kind`` is missing or wrong). Every problem of every file is collected before anything is
raised, each located as ``file:line:col: path: message`` (``style.md`` §5), and raised as
one :class:`fiveo_sync.errors.MappingError`. Nothing here touches the network.

``python -m fiveo_sync.engine.loader --write-schema`` regenerates
``mappings/mapping.schema.json`` from the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fiveo_sync.engine.crosscheck import (
    check_indicators,
    check_portfolio,
    check_portfolio_targets,
    check_sources,
)
from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.problems import Problem, located_problems, suggest
from fiveo_sync.engine.sources_spec import SourcesSpec
from fiveo_sync.engine.spec import IndicatorFileSpec
from fiveo_sync.errors import Location, MappingError
from fiveo_sync.yamlfile import YamlDocument, YamlProblem, display_name, load_yaml

KINDS: dict[str, type[BaseModel]] = {
    "portfolio": PortfolioSpec,
    "sources": SourcesSpec,
    "indicators": IndicatorFileSpec,
    "improvement": ImprovementSpec,
}
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "mappings" / "mapping.schema.json"


@dataclass(frozen=True)
class Mappings:
    """The validated mapping folder.

    Attributes:
        portfolio: the services and products.
        sources: the source maps (raw → canonical records).
        indicator_files: one spec per ``indicators/*.yaml``, in file-name order.
        files: display names of the files read.
        improvement: the improvement loop (``improvement.yaml``), None when absent.
    """

    portfolio: PortfolioSpec
    sources: SourcesSpec
    indicator_files: tuple[IndicatorFileSpec, ...]
    files: tuple[str, ...] = ()
    improvement: ImprovementSpec | None = None

    @property
    def indicator_count(self) -> int:
        """Number of indicators over all indicator files."""
        return sum(len(f.indicators) for f in self.indicator_files)


def iter_mapping_files(directory: Path) -> list[Path]:
    """The YAML files of a mapping folder: top level, then ``indicators/``, sorted."""
    top = sorted(p for p in directory.glob("*.y*ml") if p.is_file())
    nested = sorted(p for p in (directory / "indicators").glob("*.y*ml") if p.is_file())
    return [p for p in (*top, *nested) if p.suffix in (".yaml", ".yml")]


def load_mappings(directory: str | Path) -> Mappings:
    """Load and validate a mapping folder.

    Args:
        directory: the folder holding ``portfolio.yaml``, ``sources.yaml`` and
            ``indicators/``.

    Returns:
        The validated :class:`Mappings`.

    Raises:
        MappingError: with every located problem of every file.
    """
    folder = Path(directory)
    problems: list[Problem] = []
    parsed: dict[str, list[tuple[YamlDocument, BaseModel]]] = {k: [] for k in KINDS}
    files = iter_mapping_files(folder) if folder.is_dir() else []
    if not folder.is_dir():
        problems.append((Location(display_name(folder), 0, 0), "mapping folder not found"))
    # Ids of indicator files that failed validation: not "unknown" elsewhere, only broken.
    broken_ids: set[str] = set()
    for path in files:
        outcome = _load_file(path, folder, problems, broken_ids)
        if outcome is not None:
            kind, document, spec = outcome
            parsed[kind].append((document, spec))
    for document, _spec in parsed["improvement"][1:]:
        problems.append((document.locate(("kind",)),
                         f"a second improvement file (first: {parsed['improvement'][0][0].file})"))
    for kind in ("portfolio", "sources"):
        found = parsed[kind]
        if folder.is_dir() and not found and not _has_file_named(files, kind, problems):
            problems.append((Location(display_name(folder / f"{kind}.yaml"), 0, 0),
                             f"no {kind} file: expected a file with 'kind: {kind}'"))
        for document, _spec in found[1:]:
            problems.append((document.locate(("kind",)),
                             f"a second {kind} file (first: {found[0][0].file})"))
    portfolio = parsed["portfolio"][0] if parsed["portfolio"] else None
    sources = parsed["sources"][0] if parsed["sources"] else None
    if portfolio:
        problems += check_portfolio(*portfolio)  # type: ignore[arg-type]
    if sources:
        problems += check_sources(*sources)  # type: ignore[arg-type]
    problems += check_indicators(parsed["indicators"])  # type: ignore[arg-type]
    if portfolio:
        problems += check_portfolio_targets(*portfolio, parsed["indicators"],  # type: ignore[arg-type]
                                            also_defined=broken_ids)
    if portfolio and not problems:  # the compiler's reasons would repeat those above
        from fiveo_sync.sqlengine.checks import check_compiled  # the compiler imports engine

        problems += check_compiled(parsed["indicators"], portfolio[1])  # type: ignore[arg-type]
    improvement = parsed["improvement"][0] if parsed["improvement"] else None
    if improvement:
        problems += _check_improvement(*improvement, parsed["indicators"],  # type: ignore[arg-type]
                                       also_defined=broken_ids)
    if problems:
        raise MappingError(_ordered(problems))
    assert portfolio is not None and sources is not None
    return Mappings(
        portfolio=portfolio[1],  # type: ignore[arg-type]
        sources=sources[1],  # type: ignore[arg-type]
        indicator_files=tuple(spec for _doc, spec in parsed["indicators"]),  # type: ignore[misc]
        files=tuple(display_name(p) for p in files),
        improvement=improvement[1] if improvement else None,  # type: ignore[arg-type]
    )


def _check_improvement(document: YamlDocument, spec: ImprovementSpec,
                       indicator_files: list[tuple[YamlDocument, IndicatorFileSpec]], *,
                       also_defined: set[str] = frozenset()) -> list[Problem]:
    """Every indicator id the improvement file names must exist."""
    known = {i.id for _doc, f in indicator_files for i in f.indicators} | set(also_defined)
    chosen = spec.indicators
    named = [("include", list(chosen.include) if chosen.include != "all" else []),
             ("exclude", list(chosen.exclude))]
    return [(document.locate(("indicators", field, index)),
             f"unknown indicator {ident!r}" + suggest(ident, known))
            for field, ids in named for index, ident in enumerate(ids) if ident not in known]


def _has_file_named(files: list[Path], kind: str, problems: list[Problem]) -> bool:
    """True when a file named for ``kind`` exists but failed (its problem is reported)."""
    names = {display_name(p) for p in files if p.stem == kind}
    return any(loc.file in names for loc, _msg in problems)


def _load_file(path: Path, folder: Path, problems: list[Problem],
               broken_ids: set[str]) -> tuple[str, YamlDocument, BaseModel] | None:
    try:
        document = load_yaml(path)
    except YamlProblem as exc:
        problems.append((exc.location, exc.message))
        return None
    if not isinstance(document.data, dict):
        problems.append((document.locate(()),
                         "a mapping file must be a mapping starting with 'version: 1' "
                         "and 'kind:'"))
        return None
    kind = _kind_of(document, path, folder, problems)
    if kind is None:
        return None
    model = KINDS[kind]
    try:
        spec = model.model_validate(document.data)
    except ValidationError as exc:
        problems.extend(located_problems(exc, document, model))
        if kind == "indicators":
            broken_ids.update(_raw_indicator_ids(document.data))
        return None
    return kind, document, spec


def _raw_indicator_ids(data: dict) -> set[str]:
    """The ``id`` of every indicator entry of an unvalidated indicator file."""
    entries = data.get("indicators")
    return {str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e} \
        if isinstance(entries, list) else set()


def _kind_of(document: YamlDocument, path: Path, folder: Path,
             problems: list[Problem]) -> str | None:
    """The model to validate with: ``kind:`` when known, else the file name's hint.

    A missing or unknown ``kind`` with a recognisable file name is still validated with the
    hinted model, so its other problems are reported too (the kind error comes from it).
    """
    declared = document.data.get("kind")
    if path.parent.resolve() == (folder / "indicators").resolve():
        hint = "indicators"
    else:
        hint = path.stem if path.stem in ("portfolio", "sources", "improvement") else None
    if isinstance(declared, str) and declared in KINDS:
        return declared
    if hint is not None:
        return hint
    if declared is None:
        problems.append((document.locate(()),
                         "missing required key 'kind' (expected improvement, indicators, "
                         "portfolio, sources)"))
    else:
        problems.append((document.locate(("kind",)),
                         f"unknown kind {declared!r}" + suggest(str(declared), KINDS)))
    return None


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Problems by file, then position, duplicates removed."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p[0].file, p[0].line, p[0].col, p[0].path, p[1]))


def build_schema() -> dict[str, Any]:
    """The JSON Schema of every mapping file kind (``oneOf`` on ``kind``)."""
    defs: dict[str, Any] = {}
    branches = []
    for kind, model in KINDS.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        branches.append({"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                         "then": {"$ref": f"#/$defs/{model.__name__}"}})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://fiveo-sync.invalid/mapping.schema.json",
        "title": "fiveo-sync mapping file",
        "description": "Generated by `python -m fiveo_sync.engine.loader --write-schema`; "
                       "do not edit.",
        "type": "object",
        "required": ["version", "kind"],
        "properties": {"kind": {"enum": list(KINDS)}, "version": {"const": 1}},
        "allOf": branches,
        "$defs": dict(sorted(defs.items())),
    }


def render_schema() -> str:
    """The schema as the text stored in ``mappings/mapping.schema.json``."""
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fiveo_sync.engine.loader")
    parser.add_argument("--write-schema", action="store_true",
                        help=f"regenerate {SCHEMA_PATH.name}")
    parser.add_argument("--schema-path", type=Path, default=SCHEMA_PATH)
    args = parser.parse_args(argv)
    if args.write_schema:
        args.schema_path.write_text(render_schema(), encoding="utf-8")
        sys.stdout.write(f"wrote {args.schema_path}\n")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(_main())
