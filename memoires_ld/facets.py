"""The facet index: filter, count and sort the fiches of one dataset version in memory.

Built once per store version from a few SPARQL SELECTs over the union graph, then every
listing request is answered without SPARQL (at 100k fiches a GROUP BY per facet costs
~330 ms in Oxigraph, see shared/research/perf-baseline.md §2).

Design: fiches are numbered in title order (their *ordinal*); each value of a facet is a
bitset of ordinals held in a Python int (`bitsets.py`), so a filter is a few `&`/`|` and
a count is `int.bit_count()` (≈10 µs per value at 100k fiches). Authors can be tens of
thousands: the `TOP_AGENTS` with most fiches get a bitset and a count; any author can be
selected (its set is built from its ordinals on the fly).

Semantics, as YesWiki's facets (research/yeswiki.md §6): OR between the values selected
in one facet, AND across facets and with the text search. The count next to a value is
the number of fiches of the current results *for the other facets* that have it
("disjunctive" counts): in a facet without a selection, it is the number of results that
clicking the value would give; in a facet with a selection, the number of fiches it adds.
(YesWiki's own counts ignore the filters; its issue #974 asks for counts of the fiches
that remain, which is what this gives.)
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from urllib.parse import unquote

from rdflib.namespace import SKOS

from . import vocabulary
from .bitsets import from_members, keep, members

# -- the facets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    """A facet: its URL parameter, the property that carries it, and its kind of values."""

    name: str
    predicate: str
    #: "concept" (a SKOS scheme of ours, keys are notations), "year" or "agent"
    kind: str = "concept"
    #: the property is said of the action (True) or of the fiche (False)
    on_action: bool = True


DCT = "http://purl.org/dc/terms/"
FACETS = (
    Facet("nature", DCT + "type"),
    Facet("participants", "https://w3id.org/memoires-ld/ns#participants"),
    Facet("duree", DCT + "extent"),
    Facet("statut", "http://virtual-assembly.org/ontologies/pair#hasStatus"),
    Facet("reussite", "https://w3id.org/memoires-ld/ns#reussite"),
    Facet("licence", DCT + "license", on_action=False),
    Facet("annee", DCT + "temporal", kind="year"),
    Facet("auteur", DCT + "creator", kind="agent", on_action=False),
)
BY_NAME = {f.name: f for f in FACETS}
#: authors that get a bitset (and a count in the facet): those with the most fiches
TOP_AGENTS = 50

#: Sort orders of the `tri` parameter; "-x" is x descending. "pertinence" needs a search.
SORTS = ("titre", "-titre", "creation", "-creation", "modification", "-modification")
SORTS += ("annee", "-annee", "pertinence")


@cache
def notations(scheme_name: str) -> dict[str, str]:
    """Notation → concept IRI of a scheme, in the form's order."""
    g = vocabulary.graph()
    return {str(g.value(c, SKOS.notation)): str(c) for c in vocabulary.concepts(scheme_name)}


# -- the query -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a listing asks for; `filters` maps a facet name to its selected keys."""

    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    text: str = ""
    sort: str = ""
    page: int = 1
    per_page: int = 20

    @property
    def order(self) -> str:
        return self.sort or ("pertinence" if self.text else "titre")


# -- the index -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fiche:
    """What the index keeps of a fiche: enough to list it without asking the store."""

    iri: str
    tag: str
    title: str
    created: str = ""
    modified: str = ""
    #: (facet name, key) pairs
    values: tuple[tuple[str, str], ...] = ()

    def keys(self, facet: str) -> list[str]:
        return [key for name, key in self.values if name == facet]


@dataclass
class Result:
    total: int
    items: list[Fiche]
    #: facet name → key → disjunctive count (see the module's docstring)
    counts: dict[str, dict[str, int]]
    pages: int


class FacetIndex:
    """The bitsets of one dataset version; `FacetIndex.from_store(store)` builds it."""

    def __init__(self, version: str, fiches: Sequence[Fiche], agent_names=None):
        self.version = version
        self.fiches = list(fiches)
        self.ordinal = {f.iri: n for n, f in enumerate(self.fiches)}
        #: names the numbering: a side index keyed by ordinals is valid for this digest only
        self.digest = hashlib.sha256("\n".join(self.ordinal).encode()).hexdigest()[:12]
        self.all = (1 << len(self.fiches)) - 1
        self.agent_names: dict[str, str] = dict(agent_names or {})
        groups: dict[str, dict[str, list[int]]] = {f.name: {} for f in FACETS}
        for n, fiche in enumerate(self.fiches):
            for name, key in fiche.values:
                groups[name].setdefault(key, []).append(n)
        #: every author → the ordinals of its fiches
        self.by_agent = groups["auteur"]
        top = sorted(self.by_agent, key=lambda k: (-len(self.by_agent[k]), k))[:TOP_AGENTS]
        groups["auteur"] = {k: self.by_agent[k] for k in top}
        #: facet → key → bitset of the fiches that have it
        self.bits = {
            name: {key: from_members(found) for key, found in values.items()}
            for name, values in groups.items()
        }
        #: sort order → rank of each ordinal
        self.ranks = _ranks(self.fiches)

    def __len__(self) -> int:
        return len(self.fiches)

    @classmethod
    def from_store(cls, store) -> FacetIndex:
        return cls(store.version, *read(store))

    # -- filtering ----------------------------------------------------------------------
    def mask(self, facet: str, keys: Iterable[str]) -> int:
        """The fiches having any of `keys` in `facet` (OR within a facet)."""
        bits, found = self.bits[facet], 0
        for key in keys:
            if key in bits:
                found |= bits[key]
            elif facet == "auteur":
                found |= from_members(self.by_agent.get(key, ()))
        return found

    def select(self, query: Query, matches: Sequence[int] | None = None) -> int:
        """The fiches `query` selects: every facet (AND) and the text search's `matches`."""
        selected = self.all if matches is None else from_members(matches)
        for name, keys in query.filters.items():
            selected &= self.mask(name, keys)
        return selected

    def find(self, query: Query, matches: Sequence[int] | None = None) -> Result:
        """Filter, count and sort; `matches` are the ordinals found by a search, best first."""
        base = self.all if matches is None else from_members(matches)
        masks = {name: self.mask(name, keys) for name, keys in query.filters.items() if keys}
        counts = {}
        for facet in FACETS:
            others = base
            for name, m in masks.items():
                if name != facet.name:
                    others &= m
            counts[facet.name] = self.counts(others, facet.name, query.filters.get(facet.name, ()))
        selected = base
        for m in masks.values():
            selected &= m
        total = selected.bit_count()
        pages = max(1, -(-total // query.per_page))
        start = (query.page - 1) * query.per_page
        ordinals = self._sorted(selected, query.order, start + query.per_page, matches)
        return Result(total, [self.fiches[n] for n in ordinals[start:]], counts, pages)

    def counts(self, within: int, facet: str, also: Iterable[str] = ()) -> dict[str, int]:
        """How many fiches of `within` have each value of `facet` (and each key of `also`)."""
        found = {key: (within & bits).bit_count() for key, bits in self.bits[facet].items()}
        for key in also:
            if key not in found:
                found[key] = (within & self.mask(facet, [key])).bit_count()
        return found

    def cross(self, within: int, rows: str, columns: str) -> dict[str, dict[str, int]]:
        """Counts of `within` by value of `rows`, then of `columns`; every key present."""
        return {
            row: {
                col: (
                    within & self.bits[rows].get(row, 0) & self.bits[columns].get(col, 0)
                ).bit_count()
                for col in notations(columns)
            }
            for row in notations(rows)
        }

    def _sorted(self, selected: int, order: str, stop: int, matches) -> list[int]:
        """The first `stop` ordinals of `selected` in `order`."""
        if order == "pertinence" and matches is not None:
            return keep(matches, selected)[:stop]
        if order in ("titre", "pertinence"):
            return members(selected, stop)
        chosen = members(selected)
        if order == "-titre":
            return chosen[::-1][:stop]
        rank = self.ranks[order]
        if stop < len(chosen) // 4:
            return heapq.nsmallest(stop, chosen, key=rank.__getitem__)
        return sorted(chosen, key=rank.__getitem__)[:stop]


# -- reading the store -----------------------------------------------------------------

PREFIXES = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pair: <http://virtual-assembly.org/ontologies/pair#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""
FICHES_QUERY = (
    PREFIXES
    + """SELECT ?fiche ?tag ?title ?created ?modified WHERE {
  ?fiche a mld:Fiche ; dct:identifier ?tag .
  OPTIONAL { ?fiche dct:title ?title }
  OPTIONAL { ?fiche dct:created ?created }
  OPTIONAL { ?fiche dct:modified ?modified }
}"""
)
# One row per facet value, its fiches concatenated: turning a row into Python objects
# costs more than Oxigraph's join, so fewer rows is faster (5× at 10k fiches). Two
# queries, not a UNION: Oxigraph 0.5 plans `VALUES ?p` inside a UNION as a cross product.
# Rows of resources that are not fiches are dropped in Python (cheaper than a join).
ACTION_VALUES_QUERY = (
    PREFIXES
    + """SELECT ?p ?value (GROUP_CONCAT(STR(?fiche); separator=" ") AS ?fiches) WHERE {
  ?fiche pair:documents ?action . ?action ?p ?value .
  FILTER(?p IN (dct:type, mld:participants, dct:extent, pair:hasStatus, mld:reussite,
                dct:temporal))
} GROUP BY ?p ?value"""
)
FICHE_VALUES_QUERY = (
    PREFIXES
    + """SELECT ?p ?value (GROUP_CONCAT(STR(?fiche); separator=" ") AS ?fiches) WHERE {
  ?fiche ?p ?value . FILTER(?p IN (dct:license, dct:creator))
} GROUP BY ?p ?value"""
)
NAMES_QUERY = PREFIXES + """SELECT DISTINCT ?agent ?name WHERE { ?agent foaf:name ?name }"""


def read(store) -> tuple[list[Fiche], dict[str, str]]:
    """The fiches in title order, and the authors' names, in four SELECTs."""
    rows: dict[str, list] = {}
    for row in store.query(FICHES_QUERY):
        if row["fiche"].value not in rows:
            texts = [row[k].value if row[k] is not None else "" for k in ("tag", "title")]
            dates = [row[k].value if row[k] is not None else "" for k in ("created", "modified")]
            rows[row["fiche"].value] = [*texts, *dates, []]
    facet_of = {f.predicate: f for f in FACETS}
    for query in (ACTION_VALUES_QUERY, FICHE_VALUES_QUERY):
        for row in store.query(query):
            facet = facet_of[row["p"].value]
            key = _key(facet, row["value"].value)
            if key is None:
                continue
            for iri in row["fiches"].value.split(" "):
                if iri in rows:
                    rows[iri][4].append((facet.name, key))
    fiches = [
        Fiche(iri, tag, title or tag, created, modified, tuple(dict.fromkeys(sorted(values))))
        for iri, (tag, title, created, modified, values) in rows.items()
    ]
    fiches.sort(key=lambda f: (title_key(f.title), f.tag))
    names: dict[str, str] = {}
    for row in store.query(NAMES_QUERY):
        names.setdefault(_agent_slug(row["agent"].value), row["name"].value)
    return fiches, names


def _key(facet: Facet, value: str) -> str | None:
    """The URL key of a value: a concept's notation, a year, an agent's slug."""
    if facet.kind == "year":
        return value[:4] if value[:4].isdigit() else None
    if facet.kind == "agent":
        return _agent_slug(value)
    return _notation_of(facet.name).get(value)


@cache
def _notation_of(scheme_name: str) -> dict[str, str]:
    return {iri: key for key, iri in notations(scheme_name).items()}


def _agent_slug(iri: str) -> str:
    return unquote(iri.rstrip("/").rsplit("/", 1)[-1])


# -- sort orders -----------------------------------------------------------------------


def title_key(title: str) -> str:
    """Sort titles as a French reader expects: case, accents and leading quotes ignored."""
    text = title.casefold().replace("œ", "oe").replace("æ", "ae")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.lstrip(" \"'([-")


def _ranks(fiches: Sequence[Fiche]) -> dict[str, list[int]]:
    """For each sort order but the title's, the rank of each ordinal.

    Ties keep title order (the sort is stable, ordinals are in title order); fiches
    without the value come last in both directions.
    """
    created = [_timestamp(f.created) for f in fiches]
    modified = [_timestamp(f.modified) for f in fiches]
    years = [[int(k) for k in f.keys("annee")] for f in fiches]
    keys = {
        "creation": created,
        "modification": modified,
        "annee": [min(y) if y else None for y in years],
        "-annee": [max(y) if y else None for y in years],
    }
    ranks = {}
    for order in SORTS:
        name = order.lstrip("-")
        if name not in keys:
            continue
        values = keys.get(order, keys[name])
        present = [n for n, v in enumerate(values) if v is not None]
        present.sort(key=values.__getitem__, reverse=order.startswith("-"))
        rank = [0] * len(values)
        for position, n in enumerate(present + [n for n, v in enumerate(values) if v is None]):
            rank[n] = position
        ranks[order] = rank
    return ranks


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


# -- one index per dataset version -----------------------------------------------------

_lock = threading.Lock()
_indexes: dict[str, FacetIndex] = {}


def index_for(store) -> FacetIndex:
    """The index of the store's current version, built on first use (then cached)."""
    version = store.version
    index = _indexes.get(version)
    if index is None:
        with _lock:
            index = _indexes.get(version)
            if index is None:
                index = FacetIndex.from_store(store)
                index.version = version
                if len(_indexes) >= 4:
                    _indexes.pop(next(iter(_indexes)))
                _indexes[version] = index
    return index
