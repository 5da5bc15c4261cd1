"""The facet index: filter, count and sort the fiches of one dataset version in memory.

Built once per store version from a few SPARQL SELECTs over the union graph, then every
listing request is answered without SPARQL (at 100k fiches a GROUP BY per facet costs
~330 ms in Oxigraph, see shared/research/perf-baseline.md §2).

Design: fiches are numbered in title order (their *ordinal*); each value of a facet is a
bitset of ordinals held in a Python int, so a filter is a few `&`/`|` and a count is
`int.bit_count()` (≈10 µs per value at 100k fiches). Authors, a facet with thousands of
values, are kept sparse (ordinals per author) and counted over the members of a result.

Semantics, as YesWiki's facets (research/yeswiki.md §6): OR between the values selected
in one facet, AND across facets and with the text search. The count next to a value is
the number of fiches of the current results *for the other facets* that have it
("disjunctive" counts): in a facet without a selection, it is the number of results that
clicking the value would give; in a facet with a selection, the number of fiches it adds.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from urllib.parse import unquote

from rdflib.namespace import SKOS

from . import vocabulary

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
VALUES_QUERY = (
    PREFIXES
    + """SELECT ?fiche ?p ?value WHERE {
  ?fiche a mld:Fiche .
  { ?fiche pair:documents ?action . ?action ?p ?value .
    VALUES ?p { dct:type mld:participants dct:extent pair:hasStatus mld:reussite dct:temporal } }
  UNION
  { ?fiche ?p ?value . VALUES ?p { dct:license dct:creator } }
}"""
)
NAMES_QUERY = (
    PREFIXES
    + """SELECT DISTINCT ?agent ?name WHERE {
  ?fiche a mld:Fiche ; dct:creator ?agent . ?agent foaf:name ?name }"""
)


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
    """Bitsets of one dataset version. Build it with `FacetIndex.from_store(store)`."""

    def __init__(self, version: str, fiches: Sequence[Fiche]):
        self.version = version
        self.fiches = list(fiches)
        self.ordinal = {f.iri: n for n, f in enumerate(self.fiches)}
        #: names the numbering: a side index keyed by ordinals is valid for this digest only
        self.digest = hashlib.sha256("\n".join(self.ordinal).encode()).hexdigest()[:12]
        self.all = (1 << len(self.fiches)) - 1
        #: facet → key → bitset (authors: key → ordinals)
        self.bits: dict[str, dict[str, int]] = {f.name: {} for f in FACETS if f.kind != "agent"}
        self.by_agent: dict[str, list[int]] = {}
        for n, fiche in enumerate(self.fiches):
            for name, key in fiche.values:
                if name == "auteur":
                    self.by_agent.setdefault(key, []).append(n)
                else:
                    self.bits[name][key] = self.bits[name].get(key, 0) | (1 << n)
        self.agent_totals = {k: len(v) for k, v in self.by_agent.items()}
        self.agent_names: dict[str, str] = {}
        self.ranks = {name: _ranks(self.fiches, name) for name in SORTS if _sort_key(name)}

    def __len__(self) -> int:
        return len(self.fiches)

    @classmethod
    def from_store(cls, store) -> FacetIndex:
        """Read the fiches and their facet values from the store (three SELECTs)."""
        rows: dict[str, dict] = {}
        for row in store.query(FICHES_QUERY):
            iri = row["fiche"].value
            entry = rows.setdefault(iri, {"tag": row["tag"].value, "values": []})
            for name in ("title", "created", "modified"):
                if row[name] is not None:
                    entry.setdefault(name, row[name].value)
        facet_of = {f.predicate: f for f in FACETS}
        for row in store.query(VALUES_QUERY):
            entry = rows.get(row["fiche"].value)
            facet = facet_of[row["p"].value]
            key = _key(facet, row["value"].value)
            if entry is not None and key is not None:
                entry["values"].append((facet.name, key))
        fiches = [
            Fiche(
                iri,
                e["tag"],
                e.get("title", e["tag"]),
                e.get("created", ""),
                e.get("modified", ""),
                tuple(dict.fromkeys(sorted(e["values"]))),
            )
            for iri, e in rows.items()
        ]
        fiches.sort(key=lambda f: (title_key(f.title), f.tag))
        index = cls(store.version, fiches)
        for row in store.query(NAMES_QUERY):
            slug = _agent_slug(row["agent"].value)
            index.agent_names.setdefault(slug, row["name"].value)
        return index

    # -- filtering ----------------------------------------------------------------------
    def mask(self, facet: str, keys: Iterable[str]) -> int:
        """The fiches having any of `keys` in `facet` (OR within a facet)."""
        if facet == "auteur":
            return _from_ordinals(o for k in keys for o in self.by_agent.get(k, ()))
        bits = self.bits[facet]
        found = 0
        for key in keys:
            found |= bits.get(key, 0)
        return found

    def find(self, query: Query, matches: Sequence[int] | None = None) -> Result:
        """Filter, count and sort; `matches` are the ordinals found by a text search, best first."""
        base = self.all if matches is None else _from_ordinals(matches)
        masks = {name: self.mask(name, keys) for name, keys in query.filters.items() if keys}
        counts = {}
        for facet in FACETS:
            others = base
            for name, m in masks.items():
                if name != facet.name:
                    others &= m
            counts[facet.name] = self._counts(facet.name, others)
        selected = base
        for m in masks.values():
            selected &= m
        total = selected.bit_count()
        pages = max(1, -(-total // query.per_page))
        start = (query.page - 1) * query.per_page
        ordinals = self._sorted(selected, query.order, start + query.per_page, matches)
        items = [self.fiches[n] for n in ordinals[start:]]
        return Result(total, items, counts, pages)

    def select(self, query: Query, matches: Sequence[int] | None = None) -> int:
        """The bitset of the fiches `query` selects (all its filters and its text)."""
        selected = self.all if matches is None else _from_ordinals(matches)
        for name, keys in query.filters.items():
            selected &= self.mask(name, keys)
        return selected

    def cross(self, within: int, rows: str, columns: str) -> dict[str, dict[str, int]]:
        """Counts of `within` by value of `rows` then of `columns` (two concept facets)."""
        return {
            row: {
                col: (within & bits & col_bits).bit_count()
                for col, col_bits in self.bits[columns].items()
            }
            for row, bits in self.bits[rows].items()
        }

    def counts(self, within: int, facet: str) -> dict[str, int]:
        """Counts of `within` by value of `facet`."""
        return self._counts(facet, within)

    def _counts(self, facet: str, within: int) -> dict[str, int]:
        if facet != "auteur":
            return {key: (within & bits).bit_count() for key, bits in self.bits[facet].items()}
        if within == self.all:
            return dict(self.agent_totals)
        found: Counter = Counter()
        for n in members(within):
            found.update(key for name, key in self.fiches[n].values if name == "auteur")
        return dict(found)

    def _sorted(self, selected: int, order: str, stop: int, matches) -> list[int]:
        """The first `stop` ordinals of `selected` in `order`."""
        if order == "pertinence" and matches is not None:
            return _in_mask(matches, selected)[:stop]
        chosen = members(selected)
        if order in ("titre", "pertinence"):
            return chosen[:stop]
        if order == "-titre":
            return chosen[::-1][:stop]
        rank = self.ranks[order]
        if stop < len(chosen) // 4:
            return heapq.nsmallest(stop, chosen, key=rank.__getitem__)
        return sorted(chosen, key=rank.__getitem__)[:stop]


def _in_mask(ordinals: Iterable[int], mask: int) -> list[int]:
    table = mask.to_bytes((mask.bit_length() + 7) // 8 or 1, "little")
    return [n for n in ordinals if (n >> 3) < len(table) and table[n >> 3] >> (n & 7) & 1]


# -- bitsets ---------------------------------------------------------------------------

_BITS = [tuple(b for b in range(8) if byte >> b & 1) for byte in range(256)]


def members(mask: int) -> list[int]:
    """The ordinals set in `mask`, ascending (≈4 ms for 50k members of 100k)."""
    found: list[int] = []
    add = found.append
    for position, byte in enumerate(mask.to_bytes((mask.bit_length() + 7) // 8, "little")):
        if byte:
            base = position * 8
            for bit in _BITS[byte]:
                add(base + bit)
    return found


def _from_ordinals(ordinals: Iterable[int]) -> int:
    ordinals = list(ordinals)
    if not ordinals:
        return 0
    table = bytearray(max(ordinals) // 8 + 1)
    for n in ordinals:
        table[n >> 3] |= 1 << (n & 7)
    return int.from_bytes(table, "little")


# -- keys and sort keys ----------------------------------------------------------------


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


def title_key(title: str) -> str:
    """Sort titles as a French reader expects: case, accents and leading quotes ignored."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return folded.lstrip(" \"'«»“”‘’([-–—…").replace("œ", "oe").replace("æ", "ae")


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _sort_key(order: str):
    """For each sort order, a function fiche → comparable (None: missing, sorted last)."""
    name = order.lstrip("-")
    if name == "creation":
        return lambda f: _timestamp(f.created)
    if name == "modification":
        return lambda f: _timestamp(f.modified)
    if name == "annee":
        pick = max if order.startswith("-") else min
        return lambda f: pick((int(k) for k in f.keys("annee")), default=None)
    return None


def _ranks(fiches: Sequence[Fiche], order: str) -> list[int]:
    """rank[ordinal]: the position of each fiche in `order`, ties and missing by title."""
    key = _sort_key(order)
    descending = order.startswith("-")
    values = [key(f) for f in fiches]

    def sort_key(n: int):
        v = values[n]
        if v is None:
            return (1, 0, n)
        return (0, -v if descending else v, n)

    positions = sorted(range(len(fiches)), key=sort_key)
    rank = [0] * len(fiches)
    for position, n in enumerate(positions):
        rank[n] = position
    return rank


# -- one index per dataset version -----------------------------------------------------

_lock = threading.Lock()
_indexes: dict[str, FacetIndex] = {}


def index_for(store) -> FacetIndex:
    """The index of the store's current version, built on first use (then cached)."""
    index = _indexes.get(store.version)
    if index is None:
        with _lock:
            index = _indexes.get(store.version)
            if index is None:
                index = FacetIndex.from_store(store)
                if len(_indexes) >= 4:
                    _indexes.pop(next(iter(_indexes)))
                _indexes[store.version] = index
    return index
