"""How the indicator catalogue covers the 5 O's, the characteristics and the ITIL dimensions.

``fiveo-sync validate`` prints it, so an admin who edits the catalogue sees at once which
characteristic lost its last indicator. Pure: specs in, counts out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from fiveo_sync.engine.spec import CHARACTERISTICS, DIMENSIONS, O_NAMES, IndicatorSpec

UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class Coverage:
    """Indicator counts per O, characteristic and dimension (every known name present)."""

    by_o: dict[str, int]
    by_characteristic: dict[str, int]
    by_dimension: dict[str, int]

    def lines(self) -> list[str]:
        """One line per grouping, e.g. ``by O: organise 8 · orient 8 · …``."""
        return [f"{label}: " + " · ".join(f"{name} {count}" for name, count in counts.items())
                for label, counts in (("by O", self.by_o),
                                      ("by characteristic", self.by_characteristic),
                                      ("by dimension", self.by_dimension))]


def _counts(values: Iterable[str | None], names: tuple[str, ...]) -> dict[str, int]:
    tally = Counter(value or UNCLASSIFIED for value in values)
    out = {name: tally.get(name, 0) for name in names}
    if tally.get(UNCLASSIFIED):
        out[UNCLASSIFIED] = tally[UNCLASSIFIED]
    return out


def catalogue_rows(specs: Iterable[IndicatorSpec]) -> list[tuple[str, ...]]:
    """One row per indicator: id, view, characteristic, dimension, unit, target, name."""
    return [(s.id, s.view, s.characteristic or UNCLASSIFIED, s.dimension or UNCLASSIFIED,
             s.unit, s.target.text(), s.name) for s in specs]


def coverage(specs: Iterable[IndicatorSpec]) -> Coverage:
    """Count indicators per O, characteristic and dimension.

    Names with no indicator are listed with 0; indicators without a characteristic or
    dimension are counted as ``unclassified``.
    """
    items = list(specs)
    return Coverage(by_o=_counts((s.o for s in items), O_NAMES),
                    by_characteristic=_counts((s.characteristic for s in items),
                                              CHARACTERISTICS),
                    by_dimension=_counts((s.dimension for s in items), DIMENSIONS))
