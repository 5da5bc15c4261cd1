"""The one place that builds IRIs and page URLs.

Policy (Cool URIs for the Semantic Web, §4.2 "Slash URIs" and §4.1 "Hash URIs"):

* instance resources are slash IRIs under the instance's base URL, served directly with
  content negotiation (no 303): `{base}fiche/{tag}` is the fiche (the record written by
  its authors); the action it documents is the hash IRI `{base}fiche/{tag}#action`;
* agents are `{base}agent/{slug}`; the dataset is `{base}dataset`;
* our vocabulary and concept schemes live under one persistent namespace, `https://w3id.org/memoires-ld/`,
  identical on every instance (see `namespaces.py`); each instance also serves them.

The committed `data/` is written with IRIs relative to the base, and resolved against the
configured base URL when it is loaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from rdflib import URIRef

from .namespaces import VOCAB, W3ID

#: Base used when the data is written to `data/` (then made relative) and in tests.
DEFAULT_BASE = "http://127.0.0.1:8000/"

SCHEMES = ("nature", "participants", "duree", "statut", "reussite", "licence")


def _query_string(query: Sequence[tuple[str, str]]) -> str:
    return "?" + urlencode(query, quote_via=quote) if query else ""


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug: "Alice Oechsner" → "alice-oechsner"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def scheme(name: str) -> URIRef:
    """IRI of the concept scheme of a facet."""
    if name not in SCHEMES:
        raise ValueError(f"unknown concept scheme {name!r}")
    return VOCAB[name]


def concept(scheme_name: str, notation: str) -> URIRef:
    """IRI of a concept of our schemes (licences of Creative Commons excepted)."""
    return URIRef(f"{scheme(scheme_name)}/{notation}")


@dataclass(frozen=True)
class Iris:
    """Build the IRIs of one instance from its public base URL."""

    base: str = DEFAULT_BASE

    def __post_init__(self):
        if not self.base.endswith("/"):
            object.__setattr__(self, "base", self.base + "/")

    def _iri(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    def fiche(self, tag: str) -> URIRef:
        return self._iri("fiche/" + quote(tag, safe=""))

    def action(self, tag: str) -> URIRef:
        return URIRef(self.fiche(tag) + "#action")

    def image(self, tag: str, number: int) -> URIRef:
        return URIRef(f"{self.fiche(tag)}#image-{number}")

    def attribution(self, tag: str, agent_slug: str) -> URIRef:
        """The qualified attribution of a fiche to one of its authors (carries the role)."""
        return URIRef(f"{self.fiche(tag)}#attribution-{quote(agent_slug, safe='')}")

    def history(self, tag: str) -> URIRef:
        """The history of a fiche: its revisions (a document, and the named graph holding them)."""
        return URIRef(f"{self.fiche(tag)}/history")

    def revision(self, tag: str, number: int) -> URIRef:
        """One revision of a fiche, numbered from 1 (a prov:Entity and its change set)."""
        return URIRef(f"{self.fiche(tag)}/revision/{number}")

    def tombstone(self, tag: str) -> URIRef:
        """The named graph that says a retired fiche is gone (served with 410 Gone)."""
        return URIRef(f"{self.fiche(tag)}#tombstone")

    def user(self, name: str) -> URIRef:
        """An account of this instance, as history names who wrote a revision."""
        return self._iri("user/" + quote(name, safe=""))

    def agent(self, slug: str) -> URIRef:
        return self._iri("agent/" + quote(slug, safe=""))

    def account(self, name: str) -> URIRef:
        """A YesWiki account ("écrite par …"), distinct from the person, if any."""
        return self._iri("account/" + quote(name, safe=""))

    def dataset(self) -> URIRef:
        return self._iri("dataset")

    def dataset_part(self, name: str) -> URIRef:
        """A part of the dataset description: a distribution, a subset, the SPARQL service."""
        return URIRef(f"{self.dataset()}#{quote(name, safe='')}")

    def catalog(self) -> URIRef:
        return self._iri("catalog")

    def void(self) -> URIRef:
        """The well-known VoID description (VoID §7.2)."""
        return self._iri(".well-known/void")

    def sparql(self, part: str = "", query: Sequence[tuple[str, str]] = ()) -> URIRef:
        """The SPARQL endpoint, or one of its parts (`graph`, `exemples`, `exemples/{slug}`),
        with `query` (a query to run, a graph to get) in its query string."""
        path = "sparql" + (f"/{quote(part)}" if part else "")
        return self._iri(path + _query_string(query))

    def dump(self, filename: str) -> URIRef:
        return self._iri("dumps/" + quote(filename, safe=""))

    def fiches(self, query: Sequence[tuple[str, str]] = ()) -> URIRef:
        """The listing of the fiches; `query` (filters, sort, page) in its canonical order."""
        return self._iri("fiches" + _query_string(query))

    def changes(self, query: Sequence[tuple[str, str]] = ()) -> URIRef:
        """The change feed (ActivityStreams 2.0 OrderedCollection; `changes.atom` is its
        Atom form), with `since`/`page` in its query string."""
        return self._iri("changes" + _query_string(query))

    def changes_atom(self, query: Sequence[tuple[str, str]] = ()) -> URIRef:
        return self._iri("changes.atom" + _query_string(query))

    def sources(self) -> URIRef:
        """The named graph describing every harvested source (PROV: where, when, how)."""
        return self._iri("sources")

    def source(self, slug: str) -> URIRef:
        """The named graph holding what was harvested from one peer (its fiches, as valid)."""
        return self._iri("sources/" + quote(slug, safe=""))

    def statistics(self, query: Sequence[tuple[str, str]] = ()) -> URIRef:
        """The statistics page, of all fiches or of those `query` selects."""
        return self._iri("statistiques" + _query_string(query))

    # -- pages and documents served by the instance -----------------------------------
    def home(self) -> URIRef:
        return self._iri("")

    def vocabulary(self) -> URIRef:
        """The page listing the concept schemes (the vocabulary served locally)."""
        return self._iri("vocab")

    def scheme_page(self, name: str) -> URIRef:
        """Where this instance serves the concept scheme `vocab/{name}`."""
        return self._iri("vocab/" + quote(name, safe=""))

    def concept_page(self, scheme_name: str, notation: str) -> URIRef:
        """Where this instance serves a concept (Creative Commons licences too, by notation)."""
        return self._iri(f"vocab/{quote(scheme_name, safe='')}/{quote(notation, safe='')}")

    def ontology(self, version: str | None = None) -> URIRef:
        """Where this instance serves https://w3id.org/memoires-ld/ns and its terms (or the
        version IRI `ns/{version}` of the current version)."""
        return self._iri("ns" + (f"/{quote(version, safe='')}" if version else ""))

    def shapes(self) -> URIRef:
        """Where this instance serves the SHACL shapes https://w3id.org/memoires-ld/shapes."""
        return self._iri("shapes")

    def context(self, version: str | None = None) -> URIRef:
        """The JSON-LD context: the latest, or a fixed version (`context/0.1.0.jsonld`)."""
        if version is None:
            return self._iri("context.jsonld")
        return self._iri(f"context/{quote(version, safe='')}.jsonld")

    def page(self, iri: str) -> str:
        """The URL that dereferences `iri` on this instance: our own IRIs as they are, the
        w3id vocabulary IRIs at their local copy (/vocab, /ns, /shapes), others unchanged."""
        iri = str(iri)
        if not iri.startswith(W3ID):
            return iri
        rest = iri[len(W3ID) :]
        if rest == "vocab/":  # the namespace of the schemes: the page listing them
            return str(self.vocabulary())
        for prefix in ("vocab", "ns", "shapes"):
            # `ns`, `ns#Fiche`, `ns/0.1.0`, `vocab/nature` (not `nsfoo`)
            if rest.startswith(prefix) and rest[len(prefix) :][:1] in ("", "#", "/"):
                return self.base + rest
        return iri

    @staticmethod
    def representation(url: str, suffix: str) -> URIRef:
        """The URL of one representation of a resource: `fiche/X` → `fiche/X.ttl`."""
        return URIRef(f"{url}.{suffix}")

    def import_run(self, key: str) -> URIRef:
        return self._iri("import/" + quote(key, safe=""))

    def tag_of(self, iri: str) -> str | None:
        """Return the page tag of a fiche or action IRI of this instance, else None."""
        prefix = self.base + "fiche/"
        if not iri.startswith(prefix):
            return None
        rest = iri[len(prefix) :].split("#", 1)[0]
        return rest if rest and "/" not in rest else None
