"""A Jira improvement item stays within Jira's 32,767-character description limit.

At 100,000 incidents a period's evidence link lists up to 2,000 keys (~20,000 characters):
an item of a dozen missed months did not fit and Jira (and its sandbox) refused it. Long
links become text first; when even rows without links do not fit, the earliest periods
leave and the intro says how many.
"""

from __future__ import annotations

import json
import re

import pytest

from fiveo_sync.engine.improvement_spec import ImprovementSpec
from fiveo_sync.improvement import ImprovementItem
from fiveo_sync.writers.improvement import build_jira_improvement_plan
from fiveo_sync.writers.jira_markup import MAX_DESCRIPTION_CHARS

SPEC = ImprovementSpec(version=1, kind="improvement")
JQL = "https://acme.atlassian.net/issues/?jql=key%20in%20%28"
SHORT = JQL + "PAY-1,PAY-2%29"


def _long_url(month: int) -> str:
    return JQL + ",".join(f"PAY-{month * 10_000 + i}" for i in range(2_000)) + "%29"


def _item(periods) -> ImprovementItem:
    return ImprovementItem(
        action="create", key="fiveo-improvement:orient.defect_debt_share:product:pay:all:2024-01",
        platform="jira", reason="target missed", indicator="orient.defect_debt_share",
        name="Defect debt share", scope_type="product", scope="pay", breakdown="all",
        scope_name="Payments Web", target="≤ 20 %", title="Improve defect debt share",
        periods=tuple(periods), digest="0123456789abcdef", project="PAY")


def _description(item, flavour):
    (op,) = build_jira_improvement_plan([item], SPEC, flavour=flavour)
    document = op.fields["description"]
    return document if isinstance(document, str) else json.dumps(document)


@pytest.mark.parametrize("flavour", ["adf", "wiki"])
def test_long_links_become_text_and_short_ones_stay(flavour):
    periods = [(f"2024-{m:02d}", f"{30 + m} %", "missed", _long_url(m)) for m in range(1, 13)]
    periods.append(("2025-01", "25 %", "missed", SHORT))
    assert len(_long_url(1)) > 20_000
    text = _description(_item(periods), flavour)
    assert len(text) <= MAX_DESCRIPTION_CHARS
    assert SHORT in text and JQL + "PAY-10000," not in text
    assert text.count("too many for a link here, see the dashboard") == 12
    assert ("2024\\-01" if flavour == "wiki" else "2024-01") in text
    assert "digest 0123456789abcdef" in text
    assert "left out" not in text


@pytest.mark.parametrize("flavour", ["adf", "wiki"])
def test_the_earliest_periods_leave_when_rows_alone_do_not_fit(flavour):
    periods = [(f"sprint{n}", f"{n} %", "missed", "") for n in range(1, 1001)]
    text = _description(_item(periods), flavour)
    assert len(text) <= MAX_DESCRIPTION_CHARS
    shown = sorted({int(n) for n in re.findall(r"sprint(\d+)", text)})
    first = shown[0]
    assert first > 1 and shown == list(range(first, 1001))  # the latest, none skipped
    assert f"The {first - 1} earliest periods are left out here" in text


def test_an_item_that_fits_is_written_whole():
    links = [JQL + ",".join(f"PAY-{m * 100 + i}" for i in range(50)) + "%29" for m in range(12)]
    assert all(len(link) > 250 for link in links)
    text = _description(_item([(f"2024-{m + 1:02d}", "30 %", "missed", link)
                               for m, link in enumerate(links)]), "adf")
    assert all(link in text for link in links) and "left out" not in text
