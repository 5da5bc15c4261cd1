"""The few questions the resource pages ask the store: which fiches, how many.

Each fiche is a named graph named by the fiche's IRI; `GRAPH ?fiche { ?fiche a mld:Fiche }`
therefore finds the current fiches (not the history, the tombstones or the vocabulary).
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from .. import licences
from ..facets import FacetIndex, Fiche
from ..store import Store
from .documents import cached

PREFIXES = """PREFIX mld: <https://w3id.org/memoires-ld/ns#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

# A fiche "has" a concept when the fiche (licence) or its action (facets) points at it.
_HAS = "{ ?fiche ?p ?concept } UNION { ?fiche schema:mainEntity ?action . ?action ?p ?concept }"


def per_version(function):
    """Keep a question's answer while the store's version stays the same."""

    @functools.wraps(function)
    def wrapper(store: Store, *args):
        key = (function.__name__, *(tuple(a) if isinstance(a, list) else a for a in args))
        return cached(store, key, lambda: function(store, *args))

    return wrapper


@dataclass(frozen=True)
class FicheRef:
    iri: str
    title: str
    modified: datetime | None = None


def _refs(rows) -> list[FicheRef]:
    """One reference per fiche, French title first, sorted by title."""
    found: dict[str, FicheRef] = {}
    for row in rows:
        title, modified = row["title"], row["modified"]
        ref = FicheRef(
            row["fiche"].value,
            title.value,
            datetime.fromisoformat(modified.value) if modified is not None else None,
        )
        if ref.iri not in found or title.language == "fr":
            found[ref.iri] = ref
    return sorted(found.values(), key=lambda r: r.title.casefold())


@per_version
def fiches_with(store: Store, concept: str) -> list[FicheRef]:
    """The fiches whose action (or licence) has this concept."""
    sparql = f"""{PREFIXES}
    SELECT ?fiche ?title ?modified ?concept WHERE {{
      VALUES ?concept {{ {ox.NamedNode(concept)} }}
      GRAPH ?fiche {{
        ?fiche a mld:Fiche ; dct:title ?title . OPTIONAL {{ ?fiche dct:modified ?modified }}
        {_HAS}
      }}
    }}"""
    return _refs(store.query(sparql))


@per_version
def fiches(store: Store, iris: list[str]) -> list[FicheRef]:
    """Titles of these fiches (those that exist)."""
    if not iris:
        return []
    values = " ".join(f"<{iri}>" for iri in iris if ">" not in iri)
    sparql = f"""{PREFIXES}
    SELECT ?fiche ?title ?modified WHERE {{
      VALUES ?fiche {{ {values} }}
      GRAPH ?fiche {{
        ?fiche a mld:Fiche ; dct:title ?title . OPTIONAL {{ ?fiche dct:modified ?modified }}
      }}
    }}"""
    return _refs(store.query(sparql))


def latest(index: FacetIndex, count: int = 6) -> list[FicheRef]:
    """The fiches modified last, from the facet index (no scan of the store)."""
    newest = heapq.nlargest(count, range(len(index)), key=index.values["-modification"].__getitem__)
    return [_ref(index.fiches[n]) for n in newest]


def _ref(fiche: Fiche) -> FicheRef:
    return FicheRef(fiche.iri, fiche.title, _datetime(fiche.modified))


def _datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@per_version
def counts_by_concept(store: Store) -> dict[str, int]:
    """concept IRI → number of fiches that have it."""
    sparql = f"""{PREFIXES}
    SELECT ?concept (COUNT(DISTINCT ?fiche) AS ?n) WHERE {{
      GRAPH ?fiche {{ ?fiche a mld:Fiche . {_HAS} FILTER(isIRI(?concept)) }}
    }} GROUP BY ?concept"""
    return {row["concept"].value: int(row["n"].value) for row in store.query(sparql)}


def totals(store: Store, index: FacetIndex) -> dict[str, int]:
    """Fiches and authors from the facet index (a SPARQL count scans every fiche: 41 s for
    the first home page at 100k fiches); concepts from the small vocabulary graph."""
    return {"fiches": len(index), "agents": len(index.by_agent), "concepts": concepts(store)}


@per_version
def concepts(store: Store) -> int:
    sparql = f"{PREFIXES} SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c skos:inScheme ?s }}"
    return int(next(iter(store.query(sparql)))["n"].value)


@per_version
def open_licences(store: Store) -> frozenset[str]:
    return licences.open_licences(store)
