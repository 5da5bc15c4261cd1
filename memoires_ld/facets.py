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

import contextlib
import copy
import heapq
import math
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from urllib.parse import unquote

import pyoxigraph as ox
from rdflib.namespace import SKOS

from . import peers, vocabulary
from .bitsets import from_members, keep, members
from .iris import Iris

# -- the facets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    """A facet: its URL parameter, the property that carries it, and its kind of values."""

    name: str
    predicate: str
    #: "concept" (a SKOS scheme of ours, keys are notations), "year", "agent" or "source"
    #: (where the fiche comes from: `local`, or the slug of a harvested peer, harvest.py)
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
    # its property: the harvested fiche is in the peer's subset (VoID §6, see void.py)
    Facet("source", "http://rdfs.org/ns/void#inDataset", kind="source", on_action=False),
)
#: the key of the "source" facet for the fiches of this instance (not harvested)
LOCAL = "local"
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
    """The bitsets of one dataset version; `FacetIndex.from_store(store)` builds it.

    An index is never changed once built: `updated` returns a new one for the next
    version (requests still using the old one see it whole).
    """

    def __init__(
        self,
        version: str,
        fiches: Iterable[Fiche],
        agent_names=None,
        at: datetime | None = None,
        at_count: int = 0,
    ):
        self.version = version
        #: the time of the newest revision this index has seen (None: unknown), and how
        #: many revisions have that time
        self.at, self.at_count = at, at_count
        #: the version this one was updated from, and the fiches that changed since
        self.previous: str | None = None
        self.changed: frozenset[str] = frozenset()
        ordered = sorted((sort_key(f), f) for f in fiches)
        self.keys = [key for key, _ in ordered]
        self.fiches = [f for _, f in ordered]
        self.by_iri = {f.iri: f for f in self.fiches}
        self.agent_names: dict[str, str] = dict(agent_names or {})
        groups: dict[str, dict[str, list[int]]] = {f.name: {} for f in FACETS}
        for n, fiche in enumerate(self.fiches):
            for name, key in fiche.values:
                groups[name].setdefault(key, []).append(n)
        #: every author → the IRIs of its fiches
        self.by_agent = {
            key: frozenset(self.fiches[n].iri for n in found)
            for key, found in groups["auteur"].items()
        }
        groups["auteur"] = {k: groups["auteur"][k] for k in _top(self.by_agent)}
        #: facet → key → bitset of the fiches that have it
        self.bits = {
            name: {key: from_members(found) for key, found in values.items()}
            for name, values in groups.items()
        }
        #: sort order (but the title's) → its sort value of each ordinal
        self.values = {order: [] for order in ORDERS}
        for fiche in self.fiches:
            for order, value in sort_values(fiche).items():
                self.values[order].append(value)

    def __len__(self) -> int:
        return len(self.fiches)

    @property
    def all(self) -> int:
        return (1 << len(self.fiches)) - 1

    @property
    def writes(self) -> int:
        return split_version(self.version)[1]

    @cached_property
    def ordinal(self) -> dict[str, int]:
        """Fiche IRI → its ordinal (its rank in title order)."""
        return {f.iri: n for n, f in enumerate(self.fiches)}

    def ordinal_of(self, iri: str) -> int | None:
        fiche = self.by_iri.get(iri)
        return None if fiche is None else bisect_left(self.keys, sort_key(fiche))

    @classmethod
    def from_store(cls, store) -> FacetIndex:
        version, (at, at_count) = store.version, newest_mark(store)
        return cls(version, *read(store), at=at, at_count=at_count)

    # -- following the writes -----------------------------------------------------------
    def updated(
        self,
        changes: Mapping[str, Fiche | None],
        agent_names: Mapping[str, str],
        version: str,
        at: datetime | None,
        at_count: int = 0,
    ) -> FacetIndex:
        """The index with the fiches of `changes` (IRI → its new state, None if gone).

        Costs a few bitset shifts and list inserts per fiche (milliseconds at 100k fiches),
        where a new index costs seconds.
        """
        new = copy.copy(self)
        new.__dict__.pop("ordinal", None)
        new.version, new.at, new.at_count = version, at, at_count
        new.previous, new.changed = self.version, frozenset(changes)
        new.fiches, new.keys = list(self.fiches), list(self.keys)
        new.by_iri, new.by_agent = dict(self.by_iri), dict(self.by_agent)
        new.agent_names = {**self.agent_names, **agent_names}
        new.bits = {name: dict(bits) for name, bits in self.bits.items()}
        new.values = {order: list(values) for order, values in self.values.items()}
        touched: set[str] = set()
        for iri, fiche in changes.items():
            old = new.by_iri.pop(iri, None)
            if old is not None:
                new._remove(old)
                touched.update(old.keys("auteur"))
            if fiche is not None:
                new._insert(fiche)
                touched.update(fiche.keys("auteur"))
        top = new.bits["auteur"]
        new.bits["auteur"] = {
            key: top[key] if key in top and key not in touched else new._agent_bits(key)
            for key in _top(new.by_agent)
        }
        return new

    def _remove(self, fiche: Fiche) -> None:
        n = bisect_left(self.keys, sort_key(fiche))
        del self.fiches[n], self.keys[n]
        for values in self.values.values():
            del values[n]
        low = (1 << n) - 1
        for bits in self.bits.values():
            for key, found in list(bits.items()):
                if found >> n:
                    found = (found & low) | (found >> (n + 1) << n)
                    if found:
                        bits[key] = found
                    else:
                        del bits[key]
        for key in fiche.keys("auteur"):
            rest = self.by_agent[key] - {fiche.iri}
            if rest:
                self.by_agent[key] = rest
            else:
                del self.by_agent[key]

    def _insert(self, fiche: Fiche) -> None:
        key = sort_key(fiche)
        n = bisect_left(self.keys, key)
        self.fiches.insert(n, fiche)
        self.keys.insert(n, key)
        self.by_iri[fiche.iri] = fiche
        for order, value in sort_values(fiche).items():
            self.values[order].insert(n, value)
        low = (1 << n) - 1
        for bits in self.bits.values():
            for value, found in bits.items():
                if found >> n:
                    bits[value] = (found & low) | (found >> n << (n + 1))
        for name, value in fiche.values:
            if name == "auteur":
                self.by_agent[value] = self.by_agent.get(value, frozenset()) | {fiche.iri}
            else:
                self.bits[name][value] = self.bits[name].get(value, 0) | (1 << n)

    def _agent_bits(self, key: str) -> int:
        return from_members(self.ordinal_of(iri) for iri in self.by_agent.get(key, ()))

    # -- filtering ----------------------------------------------------------------------
    def mask(self, facet: str, keys: Iterable[str]) -> int:
        """The fiches having any of `keys` in `facet` (OR within a facet)."""
        bits, found = self.bits[facet], 0
        for key in keys:
            if key in bits:
                found |= bits[key]
            elif facet == "auteur":
                found |= self._agent_bits(key)
        return found

    def select(self, query: Query, matches: Sequence[int] | None = None) -> int:
        """The fiches `query` selects: every facet (AND) and the text search's `matches`."""
        selected = self.all if matches is None else _bits(matches)
        for name, keys in query.filters.items():
            selected &= self.mask(name, keys)
        return selected

    def find(self, query: Query, matches: Sequence[int] | None = None) -> Result:
        """Filter, count and sort; `matches` are the ordinals found by a search, best first."""
        base = self.all if matches is None else _bits(matches)
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
            return keep(matches, selected, stop)
        if order in ("titre", "pertinence"):
            return members(selected, stop)
        chosen = members(selected)
        if order == "-titre":
            return chosen[::-1][:stop]
        values, descending = self.values[order], order.startswith("-")
        if stop < len(chosen) // 4:
            pick = heapq.nlargest if descending else heapq.nsmallest
            return pick(stop, chosen, key=values.__getitem__)
        return sorted(chosen, key=values.__getitem__, reverse=descending)[:stop]


def _bits(matches: Sequence[int]) -> int:
    """The set of `matches`, kept on them when they can hold it (a search's, cached)."""
    found = getattr(matches, "bits", None)
    if found is None:
        found = from_members(matches)
        with contextlib.suppress(AttributeError):  # a list cannot
            matches.bits = found
    return found


# -- reading the store -----------------------------------------------------------------

PREFIXES = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX pair: <http://virtual-assembly.org/ontologies/pair#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""
FICHES_QUERY = (
    PREFIXES
    + """SELECT ?fiche ?tag ?title ?created ?modified WHERE {
  %s
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
  %s
  ?fiche pair:documents ?action . ?action ?p ?value .
  FILTER(?p IN (dct:type, mld:participants, dct:extent, pair:hasStatus, mld:reussite,
                dct:temporal))
} GROUP BY ?p ?value"""
)
FICHE_VALUES_QUERY = (
    PREFIXES
    + """SELECT ?p ?value (GROUP_CONCAT(STR(?fiche); separator=" ") AS ?fiches) WHERE {
  %s
  ?fiche ?p ?value . FILTER(?p IN (dct:license, dct:creator))
} GROUP BY ?p ?value"""
)
NAMES_QUERY = PREFIXES + """SELECT DISTINCT ?agent ?name WHERE { %s ?agent foaf:name ?name }"""


def read(store, iris: Iterable[str] | None = None) -> tuple[list[Fiche], dict[str, str]]:
    """The fiches in title order, and the authors' names, in four SELECTs.

    With `iris`, only those fiches (the ones gone are left out) and their authors' names.
    """
    only = "" if iris is None else _values("fiche", iris)
    rows: dict[str, list] = {}
    for row in store.query(FICHES_QUERY % only):
        if row["fiche"].value not in rows:
            texts = [row[k].value if row[k] is not None else "" for k in ("tag", "title")]
            dates = [row[k].value if row[k] is not None else "" for k in ("created", "modified")]
            rows[row["fiche"].value] = [*texts, *dates, []]
    facet_of = {f.predicate: f for f in FACETS}
    agents: set[str] = set()
    for query in (ACTION_VALUES_QUERY, FICHE_VALUES_QUERY):
        for row in store.query(query % only):
            facet = facet_of[row["p"].value]
            key = _key(facet, row["value"].value)
            if key is None:
                continue
            if facet.kind == "agent":
                agents.add(row["value"].value)
            for iri in row["fiches"].value.split(" "):
                if iri in rows:
                    rows[iri][4].append((facet.name, key))
    sources = peers.fiche_sources(store, Iris(store.base), None if iris is None else rows)
    for fiche, row in rows.items():  # our own fiches are in no source's graph
        row[4].extend(("source", slug) for slug in sources.get(fiche, (LOCAL,)))
    fiches = [
        Fiche(iri, tag, title or tag, created, modified, tuple(dict.fromkeys(sorted(values))))
        for iri, (tag, title, created, modified, values) in rows.items()
    ]
    fiches.sort(key=sort_key)
    names: dict[str, str] = {}
    if iris is None or agents:
        for row in store.query(NAMES_QUERY % ("" if iris is None else _values("agent", agents))):
            names.setdefault(_agent_slug(row["agent"].value), row["name"].value)
    return fiches, names


def _values(variable: str, iris: Iterable[str]) -> str:
    """A VALUES clause of IRIs, each written by pyoxigraph (so always a well-formed IRI)."""
    return f"VALUES ?{variable} {{ {' '.join(str(ox.NamedNode(i)) for i in sorted(iris))} }}"


# -- the writes since a revision ---------------------------------------------------------

# One triple pattern, the fiche taken from the revision's IRI (`{fiche}/revision/{n}`):
# a join on cs:subjectOfChange costs 10× more (300 ms at 10k revisions; this, 25 ms).
REVISIONS_QUERY = """PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?rev ?at WHERE { GRAPH ?history { ?rev prov:generatedAtTime ?at } %s }"""


def newest_mark(store) -> tuple[datetime | None, int]:
    """The time of the newest revision (or other stamp) in the store, and how many have it
    (None, 0 if there is none): an index made after reading it holds them all."""
    times = [at for _, at in _revisions(store, "")]
    newest = max(times, default=None)
    return newest, sum(1 for t in times if t == newest)


def changed_since(store, at: datetime, seen: int) -> tuple[set[str], datetime, int] | None:
    """The fiches written after the mark (`at`, `seen` stamps at that time), and the new
    mark; None if something else was stamped since (a harvest replacing a source's graph):
    what it changed is not known fiche by fiche, the indexes are then built anew.

    Stamps at `at` itself are read again only if there are more than `seen` (a load gives
    all its fiches one time; one writer at a time, so a later write has a later time).
    One light query (the time of each revision, histories are not read):
    `history.changes_since` also reads and counts each revision's statements.
    """
    since = ox.Literal(at.isoformat(), datatype=ox.NamedNode(XSD_DATETIME))
    found = _revisions(store, f"FILTER(?at >= {since})")
    again = sum(1 for _, t in found if t == at) != seen
    found = [(fiche, t) for fiche, t in found if t > at or again]
    if any(fiche is None for fiche, _ in found):  # not a fiche's revision, not seen yet
        return None
    newest = max((t for _, t in found), default=at)
    count = sum(1 for _, t in found if t == newest) if found else seen
    return {fiche for fiche, _ in found}, newest, count


XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def _revisions(store, restriction: str) -> list[tuple[str | None, datetime]]:
    """(fiche IRI, time) of each revision, (None, time) of anything else stamped in a named
    graph (of those `restriction` keeps)."""
    found: list[tuple[str | None, datetime]] = []
    for row in store.query(REVISIONS_QUERY % restriction):
        fiche, mark, _ = row["rev"].value.rpartition("/revision/")
        try:
            found.append((fiche if mark else None, datetime.fromisoformat(row["at"].value)))
        except ValueError:
            continue
    return found


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


def sort_key(fiche: Fiche) -> tuple[str, str, str]:
    """Where a fiche stands in title order (its ordinal is its rank by this key).

    The IRI last: two fiches may share a title and a tag (one of ours and a harvested one,
    or copies), and the key must still tell them apart."""
    return title_key(fiche.title), fiche.tag, fiche.iri


#: The sort orders other than the title's; "-x" sorts descending (see `sort_values`).
ORDERS = ("creation", "-creation", "modification", "-modification", "annee", "-annee")
_LAST = {False: math.inf, True: -math.inf}


def sort_values(fiche: Fiche) -> dict[str, float]:
    """The value each order sorts a fiche by; a fiche without it comes last either way.

    Ties keep title order: sorts are stable, even descending, and ordinals are in title
    order.
    """
    years = [int(k) for k in fiche.keys("annee")]
    found = {
        "creation": _timestamp(fiche.created),
        "modification": _timestamp(fiche.modified),
        "annee": min(years) if years else None,
        "-annee": max(years) if years else None,
    }
    out = {}
    for order in ORDERS:
        value = found.get(order, found[order.lstrip("-")])
        out[order] = _LAST[order.startswith("-")] if value is None else value
    return out


def _top(by_agent: Mapping[str, frozenset]) -> list[str]:
    """The `TOP_AGENTS` authors with most fiches (ties by key)."""
    return heapq.nsmallest(TOP_AGENTS, by_agent, key=lambda k: (-len(by_agent[k]), k))


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


# -- one index per store, following its writes ---------------------------------------------

_lock = threading.Lock()
#: store (its version without the write count) → its latest index in this process
_indexes: dict[str, FacetIndex] = {}


def split_version(version: str) -> tuple[str, int]:
    """A store version's two parts: the store, and its write count ("v.12" → ("v", 12))."""
    store, _, count = version.rpartition(".")
    return (store, int(count)) if store and count.isdigit() else (version, 0)


def index_for(store, saved: Callable[[str], FacetIndex | None] | None = None) -> FacetIndex:
    """The index of the store's current version.

    Built once per store (or read back by `saved(version)`, an index kept at some earlier
    version); after writes (made here or by another process: the CLI, other workers),
    caught up from the history: only the fiches written since are read again. Built anew
    only when that cannot be done (a store with fewer writes, no history).
    """
    version = store.version
    identity = split_version(version)[0]
    index = _indexes.get(identity)
    if index is not None and index.version == version:
        return index
    with _lock:
        index = _indexes.get(identity)
        if index is None and saved is not None:
            index = saved(version)
        if index is None or index.version != version:
            index = _caught_up(store, index, version) or FacetIndex.from_store(store)
            index.version = version
        if identity not in _indexes and len(_indexes) >= 4:
            _indexes.pop(next(iter(_indexes)))
        _indexes[identity] = index
    return index


def _caught_up(store, index: FacetIndex | None, version: str) -> FacetIndex | None:
    """`index` brought to `version` from the revisions written since, if it can be."""
    if index is None or index.at is None or split_version(version)[1] < index.writes:
        return None
    since = changed_since(store, index.at, index.at_count)
    if since is None:
        return None
    changed, at, at_count = since
    fiches, names = read(store, changed)
    changes: dict[str, Fiche | None] = dict.fromkeys(changed)
    changes.update((f.iri, f) for f in fiches)
    return index.updated(changes, names, version, at, at_count)
