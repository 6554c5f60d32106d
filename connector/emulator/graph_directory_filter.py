"""`$filter` on directory lists: the subset of OData Graph's directory accepts, and its rules.

Supported: `eq`, `ne`, `ge`/`gt`/`le`/`lt` (createdDateTime), `in (...)`, `startswith()`,
`endswith()`, `not`, `and`, `or`, parentheses, and the lambda `prop/any(c:c eq 'x')` on
collections (`groupTypes/any(c:c eq 'Unified')`). String comparisons ignore case, as Entra's do.
`ne`, `not`, `endswith` and `eq null` are advanced queries: without `ConsistencyLevel: eventual`
and `$count=true` they answer 400 Request_UnsupportedQuery "Unsupported Query."
(microsoft-graph-docs issues #10324, #11575); a property the type cannot filter on answers 400
Request_UnsupportedQuery naming it; a clause that does not parse answers 400 BadRequest.

`$search` ("displayName:room" AND/OR "mail:adele") needs `ConsistencyLevel: eventual`; it matches
each word of the term against the start of a word of the property, as Entra's tokenized search.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import request

from connector.emulator.odata import GraphHTTPError, query_param

if TYPE_CHECKING:
    from connector.emulator.graph_directory_query import Catalog

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<date>\d{4}-\d\d-\d\dT[\d:.]+Z?)"
    r"|(?P<num>-?\d+(?:\.\d+)?)(?![\w-])|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w./:]*))"
)
_ADVANCED_OPS = {"ne", "not", "endswith"}
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


def unsupported(message: str = "Unsupported Query.") -> GraphHTTPError:
    return GraphHTTPError(400, "Request_UnsupportedQuery", message)


def advanced_query() -> bool:
    """`ConsistencyLevel: eventual` with `$count=true`: what advanced directory queries need."""
    eventual = request.headers.get("ConsistencyLevel", "").lower() == "eventual"
    return eventual and (query_param("$count") or "").lower() == "true"


class FilterParser:
    """A recursive-descent reader of the `$filter` subset directory lists accept."""

    def __init__(self, text: str, catalog: Catalog, advanced: bool) -> None:
        self.catalog, self.advanced, self.text = catalog, advanced, text
        self.tokens = self._tokenize(text)
        self.at = 0
        self.names = {n.lower(): n for n in catalog.properties}

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.at != len(self.tokens):
            raise self._syntax()
        return predicate

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise self._syntax()
            tokens.append((match.lastgroup or "", match.group(match.lastgroup or 0)))
            pos = match.end()
        return tokens

    def _syntax(self) -> GraphHTTPError:
        return GraphHTTPError(400, "BadRequest", f"Invalid filter clause: {self.text}")

    def _peek(self) -> str:
        return self.tokens[self.at][1].lower() if self.at < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens) or (expected and self._peek() != expected):
            raise self._syntax()
        self.at += 1
        return self.tokens[self.at - 1]

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda o: any(p(o) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == "and":
            self._take()
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else lambda o: all(p(o) for p in parts)

    def _unary(self) -> Predicate:
        if self._peek() == "not":
            self._take()
            self._need_advanced()
            inner = self._unary()
            return lambda o: not inner(o)
        if self._peek() == "(":
            self._take()
            inner = self._or()
            self._take(")")
            return inner
        kind, word = self._take()
        if kind != "word":
            raise self._syntax()
        if self._peek() == "(":
            return self._function(word)
        return self._comparison(self._property(word))

    def _function(self, word: str) -> Predicate:
        name = word.lower()
        if name.endswith("/any"):
            return self._any(self._property(word[:-4]))
        if name not in ("startswith", "endswith"):
            raise unsupported()
        self._take("(")
        prop = self._property(self._take()[1])
        self._take(",")
        needle = self._literal()
        self._take(")")
        if name == "endswith":
            self._need_advanced()
        elif prop not in self.catalog.prefix:
            raise self._unsupported_property(prop)
        if not isinstance(needle, str):
            raise self._syntax()
        test = str.endswith if name == "endswith" else str.startswith
        needle = needle.casefold()
        return lambda o: isinstance(o.get(prop), str) and test(o[prop].casefold(), needle)

    def _any(self, prop: str) -> Predicate:
        """`groupTypes/any(c:c eq 'Unified')`, the lambda form on collection properties."""
        self._take("(")
        variable, _, body = self._take()[1].partition(":")
        if body.lower() != variable.lower():
            raise unsupported()
        op = self._take()[1].lower()
        value = self._literal()
        self._take(")")
        if op != "eq" or not isinstance(value, str):
            raise unsupported()
        return lambda o: any(_folded(v) == value.casefold() for v in o.get(prop) or ())

    def _comparison(self, prop: str) -> Predicate:
        op = self._take()[1].lower()
        if op == "in":
            self._take("(")
            values = [self._literal()]
            while self._peek() == ",":
                self._take()
                values.append(self._literal())
            self._take(")")
            folded = {_folded(v) for v in values}
            return lambda o: _folded(o.get(prop)) in folded
        if op not in _COMPARE:
            raise self._syntax()
        value = self._literal()
        if op in _ADVANCED_OPS or value is None:
            self._need_advanced()
        compare = _COMPARE[op]
        if op not in ("eq", "ne") and prop != "createdDateTime":
            raise self._unsupported_property(prop)

        def test(obj: dict[str, Any]) -> bool:
            have = _folded(obj.get(prop))
            if op in ("eq", "ne") or (have is not None and value is not None):
                return compare(have, _folded(value)) if op in ("eq", "ne") else compare(have, value)
            return False

        return test

    def _literal(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "date":
            return text
        words = {"true": True, "false": False, "null": None}
        if kind == "word" and text.lower() in words:
            return words[text.lower()]
        raise self._syntax()

    def _property(self, word: str) -> str:
        name = self.names.get(word.lower())
        if name is None or name not in self.catalog.filterable:
            raise self._unsupported_property(word)
        return name

    def _unsupported_property(self, name: str) -> GraphHTTPError:
        return unsupported(
            f"Unsupported or invalid query filter clause specified for property '{name}' "
            f"of resource '{self.catalog.resource}'."
        )

    def _need_advanced(self) -> None:
        if not self.advanced:
            raise unsupported()


def _folded(value: Any) -> Any:
    """Directory string comparisons ignore case (userPrincipalName eq 'ADELE@...' matches)."""
    return value.casefold() if isinstance(value, str) else value


# -- $search -------------------------------------------------------------------------------------

_SEARCH_PART = re.compile(r'\s*(?:"(?P<prop>[^":]+):(?P<term>[^"]*)"|(?P<op>AND|OR))\s*')
SEARCH_NEEDS_HEADER = (
    "Request with $search query parameter only works through MSGraph with a special request "
    "header: 'ConsistencyLevel: eventual'"
)


def search_predicate(raw: str, catalog: Catalog, eventual: bool) -> Predicate:
    """What `$search` keeps: OR of AND-ed `"property:term"` clauses."""
    if not eventual:
        raise unsupported(SEARCH_NEEDS_HEADER)
    names = {n.lower(): n for n in (*catalog.prefix, "description") if n in catalog.properties}
    alternatives: list[list[tuple[str, list[str]]]] = [[]]
    pos, expect_clause = 0, True
    while pos < len(raw.strip()):
        match = _SEARCH_PART.match(raw, pos)
        if not match or bool(match["op"]) == expect_clause:
            raise GraphHTTPError(400, "BadRequest", f"Syntax error: invalid $search '{raw}'.")
        if match["op"] == "OR":
            alternatives.append([])
        elif match["prop"]:
            prop = names.get(match["prop"].strip().lower())
            if prop is None:
                raise unsupported(f"Invalid search property '{match['prop']}'.")
            alternatives[-1].append((prop, _words(match["term"])))
        pos, expect_clause = match.end(), not expect_clause
    if expect_clause:
        raise GraphHTTPError(400, "BadRequest", f"Syntax error: invalid $search '{raw}'.")

    def found(obj: dict[str, Any], prop: str, terms: list[str]) -> bool:
        words = _words(obj.get(prop) or "")
        return all(any(w.startswith(t) for w in words) for t in terms)

    return lambda o: any(all(found(o, p, t) for p, t in clauses) for clauses in alternatives)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]
