"""What the endpoint reads in a SPARQL text before running it: a lexical scan, no evaluation.

pyoxigraph 0.5 executes `SERVICE <url>` and `LOAD <url>` itself, over HTTP: left alone, any
client could make the server fetch any URL (its own network included). So every operation is
scanned first (SPARQL 1.1 Query §19.8 grammar, terminals only): `SERVICE` is allowed only
towards an endpoint of the allowlist, `LOAD` never. The scan also tells the query form
(SELECT, ASK, CONSTRUCT, DESCRIBE), whether the query names its own dataset (FROM), and
where an update's `WHERE` clauses start (to add the protocol's `using-graph-uri`).

Why a scan is enough: `SERVICE` is a keyword (case-insensitive) that cannot hide in a string,
a comment, an IRI or a prefixed name, which the scanner skips as whole tokens. An IRI token
cannot contain spaces, `{` or `<`, and `SERVICE` is always followed by its target then `{`,
so no `SERVICE … {` can fall inside something the scanner took for an IRI. Oxigraph does not
decode `\\u` escapes outside strings and IRIs (a `\\u0053ERVICE` is a syntax error there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
               | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               | '(?:[^'\\\n\r]|\\.)*'
               | "(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][^\s{}()\[\];,.<>=!&|+*/^"'\#@]+)
    | (?P<bnode>_:[^\s{}()\[\];,<>=!&|+*/^"'\#@]+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>(?:[^\W\d_][\w.\-\u00b7]*)?:(?:[^\s{}()\[\];,<>=!&|+*/^"'\#@\\]|\\.)*)
    | (?P<word>[^\W\d][\w]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

FORMS = ("select", "ask", "construct", "describe")
_UPDATE_VERBS = ("insert", "delete", "load", "clear", "create", "drop", "copy", "move", "add")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


class Refused(ValueError):
    """The text asks for something this endpoint does not do (a SERVICE, a LOAD)."""

    def __init__(self, message: str, code: str, target: str | None = None):
        super().__init__(message)
        self.code = code
        self.target = target


def tokens(text: str) -> tuple[Token, ...]:
    """The tokens of a SPARQL text, without spaces and comments (remembered for short texts:
    a repeated query is scanned once)."""
    return _tokens(text) if len(text) <= _REMEMBERED else _scan(text)


_REMEMBERED = 20_000  # characters: at most 512 texts of 20 kB are kept


def _scan(text: str) -> tuple[Token, ...]:
    return tuple(
        Token(match.lastgroup, match.group(), match.start())
        for match in _TOKEN.finditer(text)
        if match.lastgroup not in ("space", "comment")
    )


_tokens = lru_cache(maxsize=512)(_scan)


def query_form(text: str) -> str | None:
    """`select`, `ask`, `construct` or `describe`: the first such keyword (None: not a query)."""
    for token in tokens(text):
        if token.keyword in FORMS:
            return token.keyword
        if token.keyword in _UPDATE_VERBS or token.keyword == "with":
            return None
    return None


def point_describe(text: str) -> bool:
    """Whether a query is only `DESCRIBE` of named resources (IRIs or prefixed names, after
    its prologue): no WHERE, no variable, no FROM, so its cost is that of their descriptions."""
    toks = tokens(text)
    i = 0
    while i < len(toks) and toks[i].keyword in ("base", "prefix"):
        i += 2 if toks[i].keyword == "base" else 3
    if i >= len(toks) or toks[i].keyword != "describe" or i + 1 == len(toks):
        return False
    return all(token.kind in ("iri", "pname") for token in toks[i + 1 :])


def declares_dataset(text: str) -> bool:
    """Whether a query has FROM or FROM NAMED clauses (they are only allowed in its dataset)."""
    return any(token.keyword == "from" for token in tokens(text))


def check(text: str, base: str, allowlist: frozenset[str] = frozenset()) -> list[str]:
    """Refuse a LOAD, a SERVICE outside `allowlist`; return the SERVICE endpoints used.

    `base` is the service's base IRI (relative IRIs resolve against it, or against BASE).
    """
    toks = tokens(text)
    prefixes: dict[str, str] = {}
    services = []
    for i, token in enumerate(toks):
        keyword = token.keyword
        if keyword == "base" and _kind(toks, i + 1) == "iri":
            base = urljoin(base, toks[i + 1].text[1:-1])
        elif keyword == "prefix" and _kind(toks, i + 1) == "pname" and _kind(toks, i + 2) == "iri":
            prefixes[toks[i + 1].text[:-1]] = urljoin(base, toks[i + 2].text[1:-1])
        elif keyword == "load":
            raise Refused(
                "LOAD n'est pas permis : ce serveur ne va chercher aucune donnée sur le web.",
                "load-interdit",
            )
        elif keyword == "service":
            services.append(_service_target(toks, i + 1, base, prefixes, allowlist))
    return services


def _kind(toks: tuple[Token, ...], i: int) -> str | None:
    return toks[i].kind if i < len(toks) else None


def _service_target(
    toks: tuple[Token, ...],
    i: int,
    base: str,
    prefixes: dict[str, str],
    allowlist: frozenset[str],
) -> str:
    if i < len(toks) and toks[i].keyword == "silent":
        i += 1
    target = toks[i] if i < len(toks) else None
    iri = None
    if target is not None and target.kind == "iri":
        iri = urljoin(base, target.text[1:-1])
    elif target is not None and target.kind == "pname":
        prefix, _, local = target.text.partition(":")
        if prefix in prefixes:
            iri = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    if iri is None:
        shown = target.text if target is not None else "rien"
        raise Refused(
            f"SERVICE {shown} : le point d'accès d'un SERVICE doit être une IRI écrite dans "
            "la requête (pas une variable) et figurer dans la liste autorisée.",
            "service-interdit",
            shown,
        )
    if iri not in allowlist:
        allowed = ", ".join(sorted(allowlist)) or "aucun"
        raise Refused(
            f"SERVICE <{iri}> : ce point d'accès n'est pas dans la liste des services "
            f"autorisés (SPARQL_SERVICE_ALLOWLIST : {allowed}).",
            "service-interdit",
            iri,
        )
    return iri


def with_using(update: str, graphs: list[str], named: list[str]) -> str:
    """The update with `USING <g>`/`USING NAMED <g>` before each top-level WHERE of a
    DELETE/INSERT (SPARQL 1.1 Protocol §2.2.3: the protocol's dataset for the operations).

    `DELETE WHERE` takes no USING; nested WHEREs (subqueries) are inside braces.
    """
    clause = "".join(f"USING <{g}> " for g in graphs) + "".join(
        f"USING NAMED <{g}> " for g in named
    )
    depth, cuts, previous = 0, [], None
    for token in tokens(update):
        if token.text in ("{", "}") and token.kind == "other":
            depth += 1 if token.text == "{" else -1
        elif token.keyword == "where" and depth == 0 and previous != "delete":
            cuts.append(token.start)
        previous = token.keyword or token.text
    for at in reversed(cuts):
        update = update[:at] + clause + update[at:]
    return update


def names_dataset(update: str) -> bool:
    """Whether an update has its own USING or WITH clauses (protocol §2.2.3 forbids mixing)."""
    return any(token.keyword in ("using", "with") for token in tokens(update))
