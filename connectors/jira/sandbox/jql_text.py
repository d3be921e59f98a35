"""JQL text search (``summary ~ "x"``, ``text ~ "x"``): the rule the sandbox implements.

Jira runs ``~`` through its Lucene index (Atlassian, "Search syntax for text fields"). The
sandbox reproduces the parts an admin relies on, on both the query and the field text:

- case-insensitive and word-based: text is split into words of letters and digits and
  whole words are compared, so ``summary ~ "check"`` finds "check out", not "checkout";
- light English stemming, the same on both sides: a trailing possessive ``'s`` and the
  endings ``-ies`` (→ ``y``), ``-es`` after s/x/z/ch/sh, ``-s`` (not ``-ss``), ``-ing`` and
  ``-ed`` (stem of 3+ letters) are removed, so ``fix`` finds "fixes", "fixed", "fixing";
- English stop words (``a``, ``the``, ``and``, …) are ignored;
- several terms must all occur (Cloud's documented default is AND), in any order;
  ``OR`` between two terms makes either enough; ``-term`` or ``NOT term`` excludes (a
  query of exclusions only matches nothing, as a pure negative Lucene query);
- a quoted phrase (escaped quotes inside a JQL string) needs the words consecutively;
- a trailing ``*`` is a prefix wildcard on unstemmed words; ``?`` is read as ``*``
  (Cloud converts it); a term may not start with either (Jira rejects it).

Fuzzy ``~``, proximity and boosting ``^`` are ignored, as on Cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from connectors.jira.sandbox.jql_syntax import JqlError

STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split())
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUERY_PART = re.compile(r'"([^"]*)"|(\S+)')


def stem(word: str) -> str:
    """The light English stem described in the module docstring."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word


@lru_cache(maxsize=65_536)
def _analyse(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(raw words, stemmed words) of a field text; stop words kept as gaps for phrases."""
    raw = tuple(w.lower() for w in _WORD.findall(text))
    return raw, tuple(stem(w) for w in raw)


def _term_test(term: str, field: str) -> Callable[[str], bool] | None:
    """A test for one term or phrase; ``None`` when it is only stop words."""
    if term[:1] in ("*", "?"):
        raise JqlError(f"The text query '{term}' for field '{field}' is not allowed to start "
                       f"with '{term[0]}'.")
    term = term.replace("?", "*")
    if term.endswith("*") and _WORD.fullmatch(term[:-1]):
        prefix = term[:-1].lower()
        return lambda text: any(w.startswith(prefix) for w in _analyse(text)[0])
    words = [stem(w.lower()) for w in _WORD.findall(term) if w.lower() not in STOP_WORDS]
    if not words:
        return None
    if len(words) == 1:
        only = words[0]
        return lambda text: only in _analyse(text)[1]
    size = len(words)
    wanted = tuple(words)

    def phrase(text: str) -> bool:
        stems = [s for r, s in zip(*_analyse(text), strict=True) if r not in STOP_WORDS]
        return any(tuple(stems[i:i + size]) == wanted for i in range(len(stems) - size + 1))
    return phrase


def build_text_matcher(query: str, field: str) -> Callable[[str], bool]:
    """A predicate over a field's text (empty string for no text) for ``field ~ query``."""
    required: list[list[Callable[[str], bool]]] = []  # AND of OR-groups
    excluded: list[Callable[[str], bool]] = []
    pending_or = negate = False
    for match in _QUERY_PART.finditer(query):
        phrase, word = match.group(1), match.group(2)
        if word in ("AND", "&&", "+"):
            continue
        if word in ("OR", "||"):
            pending_or = True
            continue
        if word in ("NOT", "!"):
            negate = True
            continue
        text = phrase if phrase is not None else word
        if phrase is None and text[:1] in ("-", "!", "+") and len(text) > 1:
            negate, text = negate or text[0] != "+", text[1:]
        test = _term_test(text, field)
        if test is not None:
            if negate:
                excluded.append(test)
            elif pending_or and required:
                required[-1].append(test)
            else:
                required.append([test])
        pending_or = negate = False
    if not required:
        return lambda _text: False

    def matches(text: str) -> bool:
        if not text:
            return False
        return (all(any(t(text) for t in group) for group in required)
                and not any(t(text) for t in excluded))
    return matches
