"""JQL syntax: the lexer and the error wording shared by the parser and its value modules.

The lexer reads strings (single or double quotes, backslash escapes), operators,
punctuation and words; positions are 1-based characters, as in Jira's "(line 1, character
N)" messages.

Jira answers a query it cannot run with HTTP 400 and ``{"errorMessages": [...]}``. The
wordings below are the platform's, as its own functional tests assert them
(``TestJqlSystemFunctions``: "Unable to find JQL function 'echo(HSP)'.", "A value provided
by the function 'now' is invalid for the field 'assignee'.", "Function 'now' expected '0'
arguments but received '1'.") and as real Cloud answers show ("Field 'resolution' does not
exist or you do not have permission to view it.").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class JqlError(ValueError):
    """A JQL query the server rejects (HTTP 400 with ``errorMessages``)."""


def no_field(name: str) -> JqlError:
    """The field is unknown (or hidden from the user)."""
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def no_value(field: str, value: str) -> JqlError:
    """The value does not exist for the field."""
    return JqlError(f"The value '{value}' does not exist for the field '{field}'.")


def no_function(name: str, args: list[str]) -> JqlError:
    """An unknown function; Jira quotes it with its arguments."""
    return JqlError(f"Unable to find JQL function '{name}({', '.join(args)})'.")


def bad_function_value(function: str, field: str) -> JqlError:
    """A known function whose values do not fit the field."""
    return JqlError(f"A value provided by the function '{function}' is invalid for the "
                    f"field '{field}'.")


def bad_operator(op: str, field: str) -> JqlError:
    """The operator is not supported by the field."""
    return JqlError(f"The operator '{op}' is not supported by the '{field}' field.")


_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
                     |(?P<op>!=|>=|<=|=|>|<|~|!~)
                     |(?P<punct>[(),])|(?P<word>[^\s(),=!<>~"']+))""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    """A lexical token with its 1-based character position."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens; quoted strings keep their content without quotes."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved "
                           f"JQL character. (line 1, character {pos + 1})")
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        start = match.start(kind) + 1
        if kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, start))
        pos = match.end()
    return tokens
