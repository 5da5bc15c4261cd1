"""What the HTML page of each resource shows, read from its document's triples.

Each `*_page` function returns plain data for its template; labels of concepts come from
the vocabulary in the page's language, and every link is built by `Iris`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache

import pyoxigraph as ox
from markupsafe import Markup
from rdflib import URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS

from .. import vocabulary
from ..description import sanitize_html
from ..iris import Iris
from ..namespaces import CC, MLD, PAIR, SCHEMA
from ..store import Store
from . import queries
from .documents import Document

FACETS = (  # (message key, scheme, property of the action)
    ("fiche.nature", "nature", DCTERMS.type),
    ("fiche.participants", "participants", MLD.participants),
    ("fiche.duree", "duree", DCTERMS.extent),
    ("fiche.statut", "statut", PAIR.hasStatus),
    ("fiche.reussite", "reussite", MLD.reussite),
)
LINKS = (
    ("fiche.cahier", MLD.cahierDesCharges),
    ("fiche.reponse", MLD.reponse),
    ("fiche.documentation", MLD.documentation),
    ("fiche.references", DCTERMS.references),
)


class Triples:
    """The triples of one document, by subject and predicate."""

    def __init__(self, triples: list[ox.Triple]):
        self.index: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.index[t.subject.value][t.predicate.value].append(t.object)

    def all(self, subject: str, predicate) -> list:
        return list(self.index.get(str(subject), {}).get(str(predicate), []))

    def iris(self, subject: str, predicate) -> list[str]:
        return sorted(o.value for o in self.all(subject, predicate) if isinstance(o, ox.NamedNode))

    def one(self, subject: str, predicate) -> str | None:
        values = sorted(o.value for o in self.all(subject, predicate))
        return values[0] if values else None

    def text(self, subject: str, predicate, lang: str) -> str | None:
        """The value in `lang`, else French, else any."""
        by_lang = {o.language: o.value for o in self.all(subject, predicate)}
        for key in (lang, "fr", None, *sorted(k for k in by_lang if k)):
            if key in by_lang:
                return by_lang[key]
        return None

    def texts(self, subject: str, predicate, lang: str) -> list[str]:
        values = self.all(subject, predicate)
        chosen = [o for o in values if o.language == lang] or [
            o for o in values if o.language in ("fr", None)
        ]
        return sorted(o.value for o in chosen)


@dataclass
class Link:
    label: str
    url: str
    iri: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)


def concept_link(iri: str, iris: Iris, lang: str) -> Link:
    """A concept as a link to its page on this instance, labelled in `lang`."""
    return Link(*_concept_link(iri, iris, lang))


@lru_cache(maxsize=4096)  # any IRI may come in harvested data: bounded
def _concept_link(iri: str, iris: Iris, lang: str) -> tuple[str, str, str]:
    """(label, URL, IRI): the vocabulary and the base URL are fixed while the app runs."""
    info = _concept(iri, lang)
    if info is None:
        return iri, iris.page(iri), iri
    label, scheme_name, notation = info
    return label, str(iris.concept_page(scheme_name, notation)), iri


@cache
def _concept(iri: str, lang: str) -> tuple[str, str, str] | None:
    """(label, scheme name, notation) from the vocabulary that ships with the package."""
    g, node = vocabulary.graph(), URIRef(iri)
    scheme, notation = g.value(node, SKOS.inScheme), g.value(node, SKOS.notation)
    if scheme is None or notation is None:
        return None
    return vocabulary.pref_label(node, lang), str(scheme).rsplit("/", 1)[-1], str(notation)


def agent_link(g: Triples, iri: str, iris: Iris) -> Link:
    name = g.one(iri, FOAF.name) or g.one(iri, SCHEMA.name) or iri
    types = {t.rsplit("/", 1)[-1] for t in g.iris(iri, RDF.type)}
    kind = "person" if "Person" in types else "organization" if "Organization" in types else "agent"
    return Link(name, iris.page(iri), iri, extra={"kind": kind})


def fiche_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g, f = Triples(doc.triples), doc.iri
    action = g.one(f, SCHEMA.mainEntity) or f + "#action"
    roles = {}
    for attribution in g.iris(f, PROV.qualifiedAttribution):
        roles[g.one(attribution, PROV.agent)] = g.text(attribution, SCHEMA.roleName, lang)
    authors = [agent_link(g, a, iris) for a in g.iris(f, DCTERMS.creator)]
    for author in authors:
        author.note = roles.get(author.iri) or ""
    html = g.one(f, SCHEMA.articleBody)
    licence_iris = g.iris(f, DCTERMS.license)
    open_ = queries.open_licences(store)
    owner = g.one(f, SCHEMA.maintainer)
    return {
        "title": g.text(f, DCTERMS.title, lang) or doc.iri,
        "tag": g.one(f, DCTERMS.identifier),
        "action": action,
        "facets": [
            (key, [concept_link(c, iris, lang) for c in g.iris(action, prop)])
            for key, _, prop in FACETS
        ],
        "years": sorted(o.value for o in g.all(action, DCTERMS.temporal)),
        "contributors": [agent_link(g, a, iris) for a in g.iris(action, PAIR.involves)],
        "html": Markup(sanitize_html(html)) if html else None,
        "text": g.text(f, DCTERMS.description, lang),
        "images": _images(g, f, lang),
        "links": [(key, url) for key, prop in LINKS for url in g.iris(f, prop)],
        "authors": authors,
        "credit": g.one(f, SCHEMA.creditText),
        "licences": [_licence(c, iris, lang, c in open_) for c in licence_iris],
        "created": _date(g.one(f, DCTERMS.created)),
        "modified": _date(g.one(f, DCTERMS.modified)),
        "owner": Link(g.one(owner, FOAF.accountName) or owner, iris.page(owner), owner)
        if owner
        else None,
        "source": g.one(f, DCTERMS.source),
        "notes": g.texts(f, SKOS.editorialNote, lang),
    }


def _images(g: Triples, fiche: str, lang: str) -> list[dict]:
    def number(iri: str) -> int:
        tail = iri.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    return [
        {
            "iri": image,
            "file": g.one(image, SCHEMA.name),
            "size": g.one(image, SCHEMA.contentSize),
            "caption": g.text(image, SCHEMA.caption, lang),
        }
        for image in sorted(g.iris(fiche, SCHEMA.image), key=number)
    ]


def _licence(iri: str, iris: Iris, lang: str, is_open: bool) -> Link:
    link = concept_link(iri, iris, lang)
    name, legal, badge, link.note = _licence_texts(iri, lang)
    link.extra = {"open": is_open, "name": name, "legal": legal, "badge": badge}
    return link


@lru_cache(maxsize=1024)
def _licence_texts(iri: str, lang: str) -> tuple[str, str, str, str]:
    """(name, legal code URL, badge, alternative label) from the vocabulary."""
    g = vocabulary.graph()
    node = URIRef(iri)
    return (
        str(g.value(node, SKOS.prefLabel) and vocabulary.pref_label(node, lang)),
        str(g.value(node, CC.legalcode) or ""),
        str(g.value(node, SKOS.notation) or "licence"),
        _alt_label(node, lang),
    )


def _alt_label(node: URIRef, lang: str) -> str:
    labels = {lit.language: str(lit) for lit in vocabulary.graph().objects(node, SKOS.altLabel)}
    return labels.get(lang) or labels.get("fr") or ""


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def agent_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g = Triples(doc.triples)
    me = agent_link(g, doc.iri, iris)
    wrote = [t.subject.value for t in doc.triples if t.predicate.value == str(DCTERMS.creator)]
    lived = [t.subject.value for t in doc.triples if t.predicate.value == str(PAIR.involves)]
    return {
        "title": me.label,
        "agent": me,
        "fiches": queries.fiches(store, wrote),
        "contributed": queries.fiches(store, [a.split("#", 1)[0] for a in lived]),
    }


def account_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    g = Triples(doc.triples)
    pages = [t.subject.value for t in doc.triples if t.predicate.value == str(SCHEMA.maintainer)]
    return {
        "title": g.one(doc.iri, FOAF.accountName) or doc.iri,
        "fiches": queries.fiches(store, pages),
    }


def describe_page(doc: Document, store: Store, iris: Iris, lang: str) -> dict:
    """Any other resource: its statements, subject by subject."""
    from .vocab_pages import curie

    g = Triples(doc.triples)
    subjects = []
    for subject in sorted(g.index, key=lambda s: (s != doc.iri, s)):
        rows = []
        for predicate, objects in sorted(g.index[subject].items()):
            for o in objects:
                is_iri = isinstance(o, ox.NamedNode)
                value = Link(
                    curie(o.value) if is_iri else o.value, iris.page(o.value) if is_iri else ""
                )
                rows.append((Link(curie(predicate), iris.page(predicate)), value))
        subjects.append((subject, rows))
    return {"title": g.one(doc.iri, DCTERMS.title) or doc.iri, "subjects": subjects}
