"""Evidence URLs quote their query as urllib would, character for character.

``quote_all`` replaces ``urllib.parse.quote(text, safe="")`` on the hot path of writing
links (thousands of ids per link); any text must give the same bytes.
"""

from __future__ import annotations

import random
import string
from urllib.parse import quote

import pytest

from fiveo_sync.evidence_links import LinkBuilder, quote_all


@pytest.mark.parametrize("text", [
    "", "key in (PAY-1,PAY-2) ORDER BY key", "sys_idINa1,b2^ORDERBYnumber", "100%", "%25",
    "%%41", "a\x00b\x7fc", "tab\there", "Café ü", "名前 = x", "~-._"])
def test_known_texts(text):
    assert quote_all(text) == quote(text, safe="")


def test_random_ascii_with_every_reserved_character():
    rng = random.Random(12)
    alphabet = string.printable + "%%%\x00\x1f\x7f"
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        assert quote_all(text) == quote(text, safe=""), repr(text)


def test_links_carry_the_quoted_query():
    links = LinkBuilder(servicenow_url="https://acme.service-now.com",
                        jira_url="https://acme.atlassian.net")
    jira = links._link("work_item", ("PAY-1", "PAY-2"))
    assert jira.url == "https://acme.atlassian.net/issues/?jql=" + quote(jira.query, safe="")
    incident = links._link("incident", ("a1", "b2"))
    assert incident.url.endswith("sysparm_query=" + quote(incident.query, safe=""))
