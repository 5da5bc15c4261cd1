"""Read our vocabulary (ontology/*.ttl): concept schemes, their concepts and labels."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from . import iris
from .namespaces import SCHEMA, bind_prefixes
from .resources import folder


@cache
def graph() -> Graph:
    """The whole vocabulary (ontology, schemes, licences) as one rdflib graph."""
    g = bind_prefixes(Graph())
    for path in sorted(folder("ontology").glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def normalize_label(text: str) -> str:
    """Fold what varies between copies of one label: case, apostrophes, spaces, NFC."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("\u2018", "'")
    text = re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()
    return text.casefold()


@cache
def concepts(scheme_name: str) -> tuple[URIRef, ...]:
    """The concepts of a scheme, in the form's order (schema:position)."""
    g = graph()
    found = [
        c for c in g.subjects(SKOS.inScheme, iris.scheme(scheme_name)) if isinstance(c, URIRef)
    ]
    return tuple(sorted(found, key=lambda c: int(g.value(c, SCHEMA.position) or 0)))


@cache
def _labels(scheme_name: str) -> dict[str, URIRef]:
    g = graph()
    table: dict[str, URIRef] = {}
    for concept in concepts(scheme_name):
        for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
            for label in g.objects(concept, prop):
                if isinstance(label, Literal) and label.language in (None, "fr"):
                    table[normalize_label(str(label))] = concept
    return table


def labels(scheme_name: str) -> list[str]:
    """Every known French label of a scheme, normalised, longest first."""
    return sorted(_labels(scheme_name), key=len, reverse=True)


def concept_for_label(scheme_name: str, label: str) -> URIRef | None:
    """Resolve a label as a source writes it to a concept of the scheme, or None."""
    return _labels(scheme_name).get(normalize_label(label))


def pref_label(concept: URIRef, lang: str = "fr") -> str:
    """The preferred label of a concept in a language (French if missing)."""
    g = graph()
    by_lang = {lit.language: str(lit) for lit in g.objects(concept, SKOS.prefLabel)}
    return by_lang.get(lang) or by_lang.get("fr") or str(concept)
