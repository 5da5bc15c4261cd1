"""The URL grammar of the listing and the statistics: read it strictly, write it canonically.

    /fiches?nature=formation&nature=accompagnement&annee=2017&q=numérique&tri=titre&page=2

* a facet parameter per facet (`nature participants duree statut reussite licence annee
  auteur`), repeated or comma-separated for several values (OR); the values of our
  schemes are the concepts' notations (`formation`, `cc-by-sa-4.0`), years are 4 digits,
  authors are the slugs of their IRIs (`sarah-gaucher`);
* `q`: words to search in titles, descriptions and authors' names;
* `tri`: titre, creation, modification, annee, pertinence; `-x` reverses
  (default: pertinence with `q`, else titre);
* `page` (from 1) and `par_page` (1–100, default 20);
* `lang` and `format`, read as on every page (i18n.py, negotiation.py).

Anything else, a value outside a scheme, a malformed year or page, or a query string
longer than `MAX_QUERY_STRING` is a 400 with a message that says what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from werkzeug.datastructures import MultiDict

from ..errors import BadRequest
from ..facets import FACETS, SORTS, Query, notations

MAX_QUERY_STRING = 2048
MAX_TEXT = 200
MAX_VALUES = 50
PER_PAGE, MAX_PER_PAGE, MAX_PAGE = 20, 100, 1_000_000
CONTROL = ("q", "tri", "page", "par_page", "lang", "format")
KNOWN = tuple(f.name for f in FACETS) + CONTROL

_YEAR = re.compile(r"[0-9]{4}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NUMBER = re.compile(r"[0-9]{1,9}")


class BadQuery(BadRequest):
    """A malformed listing URL; names the parameter at fault."""

    code = "parametre-invalide"

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message, detail={"parameter": parameter})


def parse(args: MultiDict, query_string: bytes = b"") -> Query:
    """Read a listing URL's parameters, or raise BadQuery."""
    if len(query_string) > MAX_QUERY_STRING:
        raise BadQuery(f"L'adresse est trop longue (plus de {MAX_QUERY_STRING} caractères).")
    unknown = sorted(set(args) - set(KNOWN))
    if unknown:
        name = unknown[0][:40]
        raise BadQuery(f"Paramètre inconnu : « {name} ». Paramètres : {', '.join(KNOWN)}.", name)
    filters, count = {}, 0
    for facet in FACETS:
        keys = [k.strip() for raw in args.getlist(facet.name) for k in raw.split(",")]
        keys = [k for k in keys if k]
        count += len(keys)
        for key in keys:
            _check_value(facet.name, facet.kind, key)
        if keys:
            filters[facet.name] = frozenset(keys)
    if count > MAX_VALUES:
        raise BadQuery(f"Trop de valeurs de filtres ({count}, au plus {MAX_VALUES}).")
    text = _single(args, "q").strip()
    if len(text) > MAX_TEXT:
        raise BadQuery(f"La recherche est trop longue (au plus {MAX_TEXT} caractères).", "q")
    sort = _single(args, "tri")
    if sort and sort not in SORTS:
        raise BadQuery(f"Tri inconnu : « {sort[:40]} ». Tris : {', '.join(SORTS)}.", "tri")
    return Query(
        filters=filters,
        text=text,
        sort=sort,
        page=_number(args, "page", 1, MAX_PAGE),
        per_page=_number(args, "par_page", PER_PAGE, MAX_PER_PAGE),
    )


def params(query: Query, *, page: int | None = None) -> list[tuple[str, str]]:
    """The canonical query string of `query` as pairs (page 1 and defaults left out)."""
    pairs = [(f.name, key) for f in FACETS for key in sorted(query.filters.get(f.name, ()))]
    if query.text:
        pairs.append(("q", query.text))
    if query.sort:
        pairs.append(("tri", query.sort))
    if query.per_page != PER_PAGE:
        pairs.append(("par_page", str(query.per_page)))
    page = query.page if page is None else page
    if page != 1:
        pairs.append(("page", str(page)))
    return pairs


def toggled(query: Query, facet: str, key: str) -> Query:
    """The same query with `key` added to or removed from `facet`, back on page 1."""
    keys = set(query.filters.get(facet, ())) ^ {key}
    filters = {name: v for name, v in query.filters.items() if name != facet}
    if keys:
        filters[facet] = frozenset(keys)
    return Query(filters, query.text, query.sort, 1, query.per_page)


def _check_value(facet: str, kind: str, key: str) -> None:
    if kind == "concept":
        allowed: Sequence[str] = tuple(notations(facet))
        ok = key in allowed
        hint = f"Valeurs possibles : {', '.join(allowed)}."
    elif kind == "year":
        ok, hint = bool(_YEAR.fullmatch(key)), "Une année s'écrit avec quatre chiffres (2017)."
    else:
        ok = len(key) <= 100 and bool(_SLUG.fullmatch(key))
        hint = (
            "Une source est « local » ou le nom d'un pair moissonné (labo)."
            if kind == "source"
            else "Un auteur est désigné par son identifiant (sarah-gaucher)."
        )
    if not ok:
        raise BadQuery(f"Valeur inconnue pour « {facet} » : « {key[:40]} ». {hint}", facet)


def _single(args: MultiDict, name: str) -> str:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadQuery(f"Le paramètre « {name} » ne peut être donné qu'une fois.", name)
    return values[0] if values else ""


def _number(args: MultiDict, name: str, default: int, maximum: int) -> int:
    value = _single(args, name).strip()
    if not value:
        return default
    if not _NUMBER.fullmatch(value) or not 1 <= int(value) <= maximum:
        raise BadQuery(
            f"« {name} » doit être un nombre entier de 1 à {maximum} (reçu « {value[:20]} »).",
            name,
        )
    return int(value)
