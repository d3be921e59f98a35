"""``matches`` patterns are Python ``re`` syntax: RE2 (DuckDB) finds what ``re.search`` finds.

The files are validated with Python's ``re``, so its reading is the meaning of a pattern;
``regex.re2_pattern`` rewrites what RE2 reads otherwise (Unicode ``\\d \\w \\s``, ``$``
before a final newline, ``\\Z``) and refuses what RE2 cannot express.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from fiveo_sync.sqlengine import NotCompiled
from fiveo_sync.sqlengine.regex import re2_pattern

TEXTS = ["INC0012", "INC0012\n", "INC0012\nx", "INC٠١٢", "inc12", "", "\n", "a b",
         "a\u00a0b", "a\u2003b", "a\tb", "x_y", "über_1", "日本語", "42", "4-2", "a]b",
         "price $5", "end", "end\n\n", "ＩＮＣ１２", "a\u0085b", "ab\u2028", "-", "a+b"]
PATTERNS = [r"^INC\d+$", r"\d", r"\D", r"^\w+$", r"\W", r"\s", r"\S+", r"a\sb", r"[\d-]+$",
            r"[\w]+", r"[^\d]", r"[]a]", r"[$]", r"\$\d", r"end$", r"end\Z", r"^$",
            r"(?i)^inc", r"(?P<n>\d)\d", r"a+?b", r"a*", r"x{1,2}_", r"(a|b)+$", r"[\s]",
            r"\A\d{2}\Z", r"a\+b"]


def _re2_finds(pattern: str, texts: list[str]) -> list[bool]:
    with duckdb.connect() as conn:
        rows = conn.execute("SELECT regexp_matches(t, $p) FROM (SELECT unnest($t) AS t, "
                            "generate_subscripts($t, 1) AS i) ORDER BY i",
                            {"t": texts, "p": re2_pattern(pattern)}).fetchall()
    return [found for (found,) in rows]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_re2_finds_what_python_finds(pattern):
    assert _re2_finds(pattern, TEXTS) == [bool(re.search(pattern, text)) for text in TEXTS]


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"(?=a)a", "look-ahead"), (r"(?<!a)b", "negative look-behind"), (r"(a)\1", "back-ref"),
    (r"\bword\b", "word boundaries"), (r"\u00e9", "\\u escapes"), (r"(?>a+)b", "atomic"),
    (r"a++", "possessive"), (r"(?x) a", "inline flags"), (r"(?a)\d", "inline flags"),
    (r"[\W]", "inside a character class"), (r"(?P=n)", "back-references"),
])
def test_what_re2_cannot_express_is_refused_with_the_reason(pattern, reason):
    with pytest.raises(NotCompiled, match=re.escape(reason)):
        re2_pattern(pattern)


def test_the_rewrite_leaves_plain_patterns_alone():
    assert re2_pattern(r"^CHG[0-9]+ (ok|failed)\.") == r"^CHG[0-9]+ (ok|failed)\."
    assert re2_pattern("a*?b+?") == "a*?b+?"
