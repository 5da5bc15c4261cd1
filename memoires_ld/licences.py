"""What may go into an open distribution: the one place that applies the fiches' licences.

Each fiche carries its own licence (`dct:license`), chosen by its authors. A licence is
*open* when our vocabulary says it permits both distribution and derivative works
(`cc:permits cc:Distribution, cc:DerivativeWorks`, ontology/schemes.ttl): CC BY-SA 4.0 and
CC0 1.0 are; "Licence non-libre" permits nothing. A fiche is open when it has licences and
all of them are open.

Our dumps are advertised as open data, so from a fiche that is not open they keep only the
metadata — title, facets, authors, dates, its licence and the link back to its page on the
collective's site — and leave out the text its authors wrote (`WITHHELD`). The fiche's own
page still shows the whole text, as the collective's site does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from rdflib.namespace import DCTERMS

from .namespaces import CC, MLD, SCHEMA
from .store import Store

#: The body of a fiche: its description (plain and HTML) and the captions of its images.
WITHHELD = frozenset(
    ox.NamedNode(str(p)) for p in (DCTERMS.description, SCHEMA.articleBody, SCHEMA.caption)
)

_LICENCES = f"""
SELECT ?fiche ?licence ?open WHERE {{
  ?fiche a <{MLD.Fiche}> .
  OPTIONAL {{
    ?fiche <{DCTERMS.license}> ?licence .
    BIND(EXISTS {{ ?licence <{CC.permits}> <{CC.Distribution}>, <{CC.DerivativeWorks}> }}
         AS ?open)
  }}
}}"""


def fiche_licences(store: Store) -> dict[str, tuple[str, ...]]:
    """Each fiche IRI → its licence IRIs (sorted; empty when it states none)."""
    found: dict[str, set[str]] = {}
    for row in store.query(_LICENCES):
        licences = found.setdefault(row["fiche"].value, set())
        if row["licence"] is not None:
            licences.add(row["licence"].value)
    return {fiche: tuple(sorted(licences)) for fiche, licences in found.items()}


def open_licences(store: Store) -> frozenset[str]:
    """The licences of the vocabulary that permit distribution and derivative works."""
    rows = store.query(
        f"SELECT DISTINCT ?l {{ ?l <{CC.permits}> <{CC.Distribution}>, <{CC.DerivativeWorks}> }}"
    )
    return frozenset(row["l"].value for row in rows)


def closed_fiches(store: Store) -> frozenset[str]:
    """Fiches that are not open: no licence, or one that is not open."""
    open_ = open_licences(store)
    return frozenset(
        fiche
        for fiche, licences in fiche_licences(store).items()
        if not licences or not set(licences) <= open_
    )


def open_distribution(store: Store) -> Iterator[ox.Quad]:
    """Every quad of the store that may go into an open distribution (see module doc).

    A fiche's body lives in the fiche's own named graph, so a quad is withheld when its graph
    is a closed fiche and its predicate is in `WITHHELD`.
    """
    closed = {ox.NamedNode(iri) for iri in closed_fiches(store)}
    for quad in store.quads():
        if quad.predicate in WITHHELD and quad.graph_name in closed:
            continue
        yield quad
