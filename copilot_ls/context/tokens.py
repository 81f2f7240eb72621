"""Context stage: identifiers and the terms they are compared by.

Retrieval compares code by the words of its identifiers: `computeShippingCost`,
`compute_shipping_cost` and `COMPUTE_SHIPPING_COST` all give the terms `compute`, `shipping`
and `cost`, plus the whole identifier lower-cased (an exact name match counts once more).
Language keywords are left out: every file has them, they say nothing about what it does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
"""Identifiers worth looking up in the index (three characters or more)."""
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
MIN_TERM = 2

KEYWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default del delete do
    elif else enum except export extends false final finally fn for from func function go if impl
    import in interface is lambda let match mod mut new nil none not null or package pass private
    protected pub public raise return self static struct super switch this throw true try type
    typeof use var void while with yield int str bool float string char long double auto unsigned
    args kwargs cls end then local require module include define elif fi esac
    """.split()
)
"""Words too common in code to tell two snippets apart (compared lower-cased)."""


def split_identifier(name: str) -> list[str]:
    """The lower-cased words of an identifier: `parseHTTPResponse2` -> parse, http, response, 2."""
    words: list[str] = []
    for part in name.split("_"):
        words.extend(w.lower() for w in _WORD.findall(part))
    return words


def identifier_terms(name: str) -> list[str]:
    """The terms one identifier contributes: its words and, if it has several, itself."""
    lower = name.lower()
    if lower in KEYWORDS:
        return []
    words = [w for w in split_identifier(name) if len(w) >= MIN_TERM and w not in KEYWORDS]
    if len(words) > 1 or (words and words[0] != lower.strip("_")):
        words.append(lower)
    return words


def terms(text: str) -> list[str]:
    """Every term of every identifier in `text`, in order, repeats kept (for term counts)."""
    out: list[str] = []
    for match in IDENTIFIER.finditer(text):
        out.extend(identifier_terms(match.group(0)))
    return out


def names_nearest_first(lines: Iterable[str], limit: int = 64) -> list[str]:
    """Distinct identifiers of `lines` (keywords left out), the last occurrence first: the
    names nearest to a cursor that sits after the last line."""
    return _nearest_first(lines, limit, lambda line: [m.group(0) for m in NAME.finditer(line)])


def _nearest_first(
    lines: Iterable[str], limit: int, names_of: Callable[[str], list[str]]
) -> list[str]:
    """Distinct names (keywords left out) that `names_of` finds in each line, in line order,
    the last line's last name first, at most `limit`."""
    names: list[str] = []
    seen: set[str] = set()
    for line in reversed(list(lines)):
        for name in reversed(names_of(line)):
            if name not in seen and name.lower() not in KEYWORDS:
                seen.add(name)
                names.append(name)
                if len(names) >= limit:
                    return names
    return names


REFERENCE = re.compile(r"(\.\s*)?\b([A-Za-z_][A-Za-z0-9_]{2,})\b(\s*\()?")
IMPORT_LINE = re.compile(r"\s*(?:from|import|use|using|require|#\s*include)\b")
"""A line that imports: every name on it is another file's (`from pricing import cost`)."""


def references_nearest_first(lines: Iterable[str], limit: int = 64) -> list[str]:
    """Like `names_nearest_first`, but only the names used as a reference to a definition:
    called (`name(`), reached as an attribute (`.name`) or capitalised (a class, a constant).
    A bare lower-case name is a local variable or a parameter far more often than another
    file's definition: `loop`, `transport`, `data` would fetch unrelated methods. On an
    import line every name counts."""
    return _nearest_first(lines, limit, _references)


def _references(line: str) -> list[str]:
    """The names of `line` that `references_nearest_first` counts, in order."""
    imports = IMPORT_LINE.match(line) is not None
    found = []
    for match in REFERENCE.finditer(line):
        dot, name, call = match.groups()
        if imports or dot or call or name.lstrip("_")[:1].isupper():
            found.append(name)
    return found
