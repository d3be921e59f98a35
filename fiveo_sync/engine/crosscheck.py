"""Checks across keys and files that a single model cannot make, each located.

- portfolio: duplicate ids, a service linking an unknown product, a project or board
  claimed by two products;
- sources: canonical fields a record kind does not have, required fields not mapped,
  code fields without a value map, value maps naming non-canonical values, unknown
  streams, a Jira-key pattern that does not compile;
- indicators: duplicate ids across files, fields a record kind does not have, references
  to indicators that do not exist;
- portfolio targets: a service's or product's own target naming an unknown indicator, one
  of another view, or of a kind the indicator's direction does not take.
"""

from __future__ import annotations

import dataclasses
import re

from fiveo_sync import records
from fiveo_sync.engine.measures import TARGET_FOR_DIRECTION
from fiveo_sync.engine.portfolio_spec import PortfolioSpec
from fiveo_sync.engine.problems import Problem, suggest
from fiveo_sync.engine.sources_spec import (
    JIRA_STREAMS,
    MAPPABLE_FIELDS,
    RECORD_SOURCES,
    REQUIRED_FIELDS,
    SERVICENOW_STREAMS,
    SourcesSpec,
)
from fiveo_sync.engine.spec import IndicatorFileSpec
from fiveo_sync.yamlfile import YamlDocument

RECORD_CLASSES: dict[str, type] = {
    "incident": records.Incident, "change": records.Change, "problem": records.Problem,
    "sla": records.Sla, "work_item": records.WorkItem, "sprint": records.Sprint,
    "sprint_scope": records.SprintScope, "service": records.ServiceRecord,
    "outage": records.Outage, "survey_response": records.SurveyResponse,
    "supplier": records.Supplier, "group": records.Group,
    "improvement": records.Improvement,
}
# The canonical values a code field may take (indicators.md §2.1).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("incident", "state"): records.INCIDENT_STATES,
    ("change", "type"): records.CHANGE_TYPES,
    ("change", "state"): records.CHANGE_STATES,
    ("change", "close_code"): records.CLOSE_CODES,
    ("problem", "state"): records.PROBLEM_STATES,
    ("sla", "stage"): records.SLA_STAGES,
    ("work_item", "status_category"): records.STATUS_CATEGORIES,
    ("sprint", "state"): records.SPRINT_STATES,
    ("outage", "type"): records.OUTAGE_TYPES,
    ("survey_response", "state"): records.SURVEY_STATES,
}


def canonical_fields(kind: str) -> tuple[str, ...]:
    """Field names of canonical record ``kind`` (plus ``priority`` etc. of the record)."""
    cls = RECORD_CLASSES.get(kind)
    return tuple(f.name for f in dataclasses.fields(cls)) if cls else ()


def check_portfolio(document: YamlDocument, spec: PortfolioSpec) -> list[Problem]:
    """Duplicate ids, unknown products, projects and boards claimed twice."""
    problems: list[Problem] = []
    product_ids = [p.id for p in spec.products]
    for section, items in (("services", spec.services), ("products", spec.products)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append((document.locate((section, i, "id")),
                                 f"duplicate {section[:-1]} id '{item.id}'"))
            seen.add(item.id)
    for i, service in enumerate(spec.services):
        for j, product in enumerate(service.products):
            if product not in product_ids:
                problems.append((document.locate(("services", i, "products", j)),
                                 f"unknown product '{product}'" + suggest(product, product_ids)))
    for attr, what in (("jira_projects", "Jira project"), ("boards", "board")):
        owner: dict[object, str] = {}
        for i, product in enumerate(spec.products):
            for j, value in enumerate(getattr(product, attr)):
                if value in owner and owner[value] != product.id:
                    problems.append((document.locate(("products", i, attr, j)),
                                     f"{what} {value} already belongs to product "
                                     f"'{owner[value]}'"))
                owner.setdefault(value, product.id)
    for i, product in enumerate(spec.products):
        if not product.jira_projects and not product.boards:
            problems.append((document.locate(("products", i)),
                             f"product '{product.id}' needs jira_projects or boards"))
    return problems


def check_sources(document: YamlDocument, spec: SourcesSpec) -> list[Problem]:
    """Fields, streams, value maps and the Jira-key pattern of the source maps."""
    problems: list[Problem] = []
    for kind, allowed in MAPPABLE_FIELDS.items():
        record_map = spec.record_map(kind)
        if record_map is None:
            continue
        base = ("records", kind)
        streams = SERVICENOW_STREAMS if RECORD_SOURCES[kind] == "servicenow" else JIRA_STREAMS
        if record_map.stream not in streams:
            problems.append((document.locate((*base, "stream")),
                             f"unknown {RECORD_SOURCES[kind]} stream '{record_map.stream}'"
                             + suggest(record_map.stream, streams)))
        for name, field_map in record_map.fields.items():
            where = (*base, "fields", name)
            if name not in allowed:
                problems.append((document.locate(where),
                                 f"unknown canonical field '{name}' for {kind}"
                                 + suggest(name, allowed)))
                continue
            problems += _check_field_map(document, spec, kind, name, field_map, where)
        for name in REQUIRED_FIELDS[kind]:
            if name not in record_map.fields:
                problems.append((document.locate((*base, "fields")),
                                 f"missing required field map '{name}' for {kind}"))
    pattern = spec.jira_keys.pattern
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        problems.append((document.locate(("jira_keys", "pattern")),
                         f"invalid regular expression: {exc}"))
    else:
        if compiled.groups < 2:
            problems.append((document.locate(("jira_keys", "pattern")),
                             "the pattern needs two groups: project key and number"))
    return problems


def _check_field_map(document: YamlDocument, spec: SourcesSpec, kind: str, name: str,
                     field_map, where: tuple) -> list[Problem]:  # noqa: ANN001
    problems: list[Problem] = []
    if field_map.type == "code":
        if field_map.values is None:
            problems.append((document.locate(where),
                             "type code needs 'values:' naming a value map"))
        elif field_map.values not in spec.value_maps:
            problems.append((document.locate((*where, "values")),
                             f"unknown value map '{field_map.values}'"
                             + suggest(field_map.values, spec.value_maps)))
        else:
            vocabulary = VOCABULARIES.get((kind, name))
            value_map = spec.value_maps[field_map.values]
            for code, value in value_map.items():
                if vocabulary and value not in vocabulary:
                    problems.append((document.locate(("value_maps", field_map.values, code)),
                                     f"'{value}' is not a valid {kind} {name}"
                                     + suggest(value, vocabulary)))
    elif field_map.values is not None:
        problems.append((document.locate((*where, "values")),
                         "'values' only applies to type code"))
    if field_map.lookup is not None:
        streams = SERVICENOW_STREAMS if RECORD_SOURCES[kind] == "servicenow" else JIRA_STREAMS
        if field_map.lookup.stream not in streams:
            problems.append((document.locate((*where, "lookup", "stream")),
                             f"unknown stream '{field_map.lookup.stream}'"
                             + suggest(field_map.lookup.stream, streams)))
    return problems


def check_indicators(files: list[tuple[YamlDocument, IndicatorFileSpec]]) -> list[Problem]:
    """Duplicate ids across files, unknown canonical fields, unknown indicator references."""
    problems: list[Problem] = []
    places: dict[str, list[tuple[YamlDocument, int]]] = {}
    for document, spec in files:
        for i, indicator in enumerate(spec.indicators):
            places.setdefault(indicator.id, []).append((document, i))
    for indicator_id, found in places.items():
        owners = {document.file for document, _i in found}
        if len(owners) < 2:
            continue  # within one file, the file model reports it
        for document, i in found:
            others = ", ".join(sorted(owners - {document.file}))
            problems.append((document.locate(("indicators", i, "id")),
                             f"duplicate indicator id '{indicator_id}' (also in {others})"))
    known = set(places)
    for document, spec in files:
        for i, indicator in enumerate(spec.indicators):
            for kind, name in sorted(indicator.field_refs()):
                fields = canonical_fields(kind)
                if fields and name.split(".", 1)[0] not in fields:
                    problems.append((_find_value(document, ("indicators", i), name),
                                     f"unknown field '{name}' for {kind}"
                                     + suggest(name, fields)))
            for ref in sorted(indicator.indicator_refs()):
                if ref not in known:
                    problems.append((_find_value(document, ("indicators", i), ref),
                                     f"unknown indicator '{ref}'" + suggest(ref, known)))
    return problems


def check_portfolio_targets(document: YamlDocument, spec: PortfolioSpec,
                            files: list[tuple[YamlDocument, IndicatorFileSpec]], *,
                            also_defined: set[str] = frozenset()) -> list[Problem]:
    """The ``targets:`` of services and products against the indicators they override.

    ``also_defined``: ids of indicator files that failed validation (reported there, not
    as unknown here).
    """
    indicators = {i.id: i for _doc, f in files for i in f.indicators}
    views = {"services": ("service", "combined"), "products": ("product",)}
    problems: list[Problem] = []
    for section, items in (("services", spec.services), ("products", spec.products)):
        for i, item in enumerate(items):
            for ident, target in item.targets.items():
                where = (section, i, "targets", ident)
                indicator = indicators.get(ident)
                if indicator is None:
                    if ident not in also_defined:
                        problems.append((document.locate(where),
                                         f"unknown indicator '{ident}'"
                                         + suggest(ident, indicators)))
                    continue
                if indicator.view not in views[section]:
                    problems.append((document.locate(where),
                                     f"indicator '{ident}' has view {indicator.view}: a "
                                     f"{section[:-1]} target never applies to it"))
                expected = TARGET_FOR_DIRECTION[indicator.direction]
                if target.kind != expected:
                    problems.append((document.locate((*where, "kind")),
                                     f"indicator '{ident}' has direction "
                                     f"{indicator.direction}: its target needs kind "
                                     f"{expected}, got {target.kind}"))
    return problems


def _find_value(document: YamlDocument, base: tuple, value: str):  # noqa: ANN202
    """The location of the first scalar equal to ``value`` under ``base``."""
    node = document.data
    for part in base:
        node = node[part]
    found = _search(node, value, base)
    return document.locate(found if found is not None else base)


def _search(node: object, value: str, path: tuple) -> tuple | None:
    if node == value:
        return path
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return None
    for key, child in items:
        found = _search(child, value, (*path, key))
        if found is not None:
            return found
    return None
