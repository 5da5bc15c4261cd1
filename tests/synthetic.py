"""Synthetic fiches in our model, for scale tests and measurements (deterministic).

`synthetic_store(n)` returns a `memoires_ld.store.EmbeddedStore` held in memory with `n` fiches
shaped like the importer's (fiche + #action, the six facets, 1–3 years, 1–3 authors,
French titles and descriptions with accents, ~8 % mentioning "coopération").
"""

from __future__ import annotations

import random

import pyoxigraph as ox

from memoires_ld import facets
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import EmbeddedStore

_TEXT = """atelier réseau numérique éducation populaire habitat participatif jeunes fablab
territoire rural quartier école démocratique citoyens gouvernance partagée outils
collaboratifs animation réunion séminaire formation accompagnement médiation culture
solidarité émancipation écoute échanges méthode bilan évaluation projet collectif
association mairie bénévoles salariés élus café débat enquête cartographie œuvre"""
WORDS = tuple(_TEXT.split())
SPECIAL = ("coopération", "COOPÉRATION", "Coopération")

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dct": "http://purl.org/dc/terms/",
    "mld": "https://w3id.org/memoires-ld/ns#",
    "pair": "http://virtual-assembly.org/ontologies/pair#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _n(curie: str) -> ox.NamedNode:
    prefix, local = curie.split(":")
    return ox.NamedNode(NS[prefix] + local)


def _sentence(rng: random.Random, words: int, special: bool) -> str:
    chosen = rng.choices(WORDS, k=words)
    if special:
        chosen[rng.randrange(words)] = rng.choice(SPECIAL)
    return " ".join(chosen).capitalize() + "."


def quads(n: int, seed: int = 1, base: str = DEFAULT_BASE):
    """The quads of `n` fiches, each in its own graph."""
    rng = random.Random(seed)
    concepts = {f.name: list(facets.notations(f.name).values()) for f in facets.FACETS[:6]}
    authors = max(n // 4, 1)
    date, year = _n("xsd:dateTime"), _n("xsd:gYear")
    for i in range(n):
        tag = f"Fiche{i:06d}"
        fiche = ox.NamedNode(f"{base}fiche/{tag}")
        action = ox.NamedNode(f"{fiche.value}#action")
        special = rng.random() < 0.08
        text = " ".join(_sentence(rng, 15, special and k == 0) for k in range(8))
        created = f"{rng.randint(2014, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        created = ox.Literal(created + "T10:00:00+01:00", datatype=date)
        triples = [
            (fiche, "rdf:type", _n("mld:Fiche")),
            (fiche, "dct:identifier", ox.Literal(tag)),
            (fiche, "dct:title", ox.Literal(_sentence(rng, 6, False)[:-1], language="fr")),
            (fiche, "dct:description", ox.Literal(text, language="fr")),
            (fiche, "dct:created", created),
            (fiche, "dct:modified", created),
            (fiche, "pair:documents", action),
            (fiche, "dct:license", ox.NamedNode(rng.choice(concepts["licence"]))),
            (action, "pair:hasStatus", ox.NamedNode(rng.choice(concepts["statut"]))),
            (action, "mld:reussite", ox.NamedNode(rng.choice(concepts["reussite"]))),
        ]
        for name, prop in (
            ("nature", "dct:type"),
            ("participants", "mld:participants"),
            ("duree", "dct:extent"),
        ):
            for value in rng.sample(concepts[name], rng.choice((1, 1, 2))):
                triples.append((action, prop, ox.NamedNode(value)))
        first = rng.randint(2005, 2024)
        for y in range(first, first + rng.choice((1, 1, 2, 3))):
            triples.append((action, "dct:temporal", ox.Literal(str(y), datatype=year)))
        for k in rng.sample(range(authors), min(authors, rng.randint(1, 3))):
            agent = ox.NamedNode(f"{base}agent/personne-{k}")
            triples.append((fiche, "dct:creator", agent))
            triples.append((agent, "foaf:name", ox.Literal(f"Personne {k}")))
        for s, p, o in triples:
            yield ox.Quad(s, _n(p), o, fiche)


def synthetic_store(n: int, seed: int = 1) -> EmbeddedStore:
    store = ox.Store()
    store.bulk_extend(quads(n, seed))
    return EmbeddedStore(store, version=f"synthetic-{n}-{seed}", base=DEFAULT_BASE)
