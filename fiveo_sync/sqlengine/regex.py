r"""``matches`` patterns (Python ``re`` syntax, as the files are validated) rewritten for RE2.

DuckDB's ``regexp_matches`` is RE2, which reads some of Python's syntax otherwise. The
common differences are rewritten to what Python means:

- ``\d`` is any Unicode decimal digit, ``\w`` any letter, number or ``_``, ``\s`` the
  Unicode white space ``str.isspace`` knows (RE2: ASCII only), and their negations;
- ``$`` matches at the end or before a final newline (RE2: at the end only), ``\Z`` at the
  very end (RE2 spells it ``\z``).

Over every character both Unicode versions assign (Python's ``unicodedata`` and RE2's),
``\d`` and ``\w`` match the same. What RE2 cannot express is refused with the reason:
look-around, back-references, word boundaries, ``\u``/``\U``/``\N`` escapes, atomic
groups, possessive quantifiers, conditionals, and the ``a``, ``L``, ``u`` and ``x`` flags.
"""

from __future__ import annotations

import sys

from fiveo_sync.sqlengine.fields import NotCompiled

WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
"""Exactly the characters ``str.isspace`` (and ``str.strip()``, and Python's ``\\s``) know."""

_SPACE = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE)
_WORD = r"\p{L}\p{N}_"
# Escape → (outside a class, inside one); None inside: not expressible in a class.
_CLASSES = {"d": (r"\p{Nd}", r"\p{Nd}"), "D": (r"\P{Nd}", r"\P{Nd}"),
            "w": (f"[{_WORD}]", _WORD), "W": (f"[^{_WORD}]", None),
            "s": (f"[{_SPACE}]", _SPACE), "S": (f"[^{_SPACE}]", None)}
_REFUSED_ESCAPES = {"b": "word boundaries (\\b)", "B": "word boundaries (\\B)",
                    "u": "\\u escapes (write the character itself)",
                    "U": "\\U escapes (write the character itself)",
                    "N": "\\N{...} escapes (write the character itself)"}
_REFUSED_GROUPS = {"=": "look-ahead", "!": "negative look-ahead", "<=": "look-behind",
                   "<!": "negative look-behind", "P=": "back-references",
                   ">": "atomic groups", "(": "conditionals"}
_QUANTIFIERS = frozenset("*+?}")


def re2_pattern(pattern: str) -> str:
    """The RE2 pattern that finds what ``re.search(pattern, text)`` finds.

    Raises:
        NotCompiled: for syntax RE2 cannot express, naming it.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0  # index of the first member of the open class
    quantified = False  # the last token was a quantifier: a "+" now would be possessive
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(_escape(pattern[i + 1], in_class))
            i, quantified = i + 2, False
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            class_start = i + 1
            if pattern.startswith("^", class_start):
                class_start += 1
            if pattern.startswith("]", class_start):  # a leading "]" is a member
                class_start += 1
            out.append(c)
        elif c == "(" and pattern.startswith("?", i + 1):
            _check_group(pattern, i + 2)
            out.append(c)
        elif c == "$":
            out.append(r"(?:\n?\z)")
        elif c == "+" and quantified:
            raise NotCompiled(f"pattern {pattern!r}: RE2 has no possessive quantifiers")
        else:
            out.append(c)
        quantified = c in _QUANTIFIERS and not (c == "?" and quantified)
        i += 1
    return "".join(out)


def _escape(letter: str, in_class: bool) -> str:
    if letter in _REFUSED_ESCAPES:
        raise NotCompiled(f"RE2 has no {_REFUSED_ESCAPES[letter]}")
    if letter.isdigit() and letter != "0":
        raise NotCompiled("RE2 has no back-references")
    if letter == "Z":
        return r"\z"
    if letter in _CLASSES:
        outside, inside = _CLASSES[letter]
        if not in_class:
            return outside
        if inside is None:
            raise NotCompiled(f"\\{letter} inside a character class is not compiled")
        return inside
    return "\\" + letter


def _check_group(pattern: str, at: int) -> None:
    """Refuse the ``(?…`` groups RE2 does not have; flags RE2 reads otherwise."""
    for opener, name in _REFUSED_GROUPS.items():
        if pattern.startswith(opener, at):
            raise NotCompiled(f"RE2 has no {name}")
    flags = ""
    while at < len(pattern) and pattern[at].isalpha():
        flags += pattern[at]
        at += 1
    if set(flags) & set("aLux"):
        raise NotCompiled(f"the inline flags {flags!r} are not compiled (RE2 has i, m, s)")
