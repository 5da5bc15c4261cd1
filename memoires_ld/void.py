"""The description of the dataset: VoID statistics, DCAT catalogue, dataset and distributions.

One graph describes the catalogue (`/catalog`), the dataset (`/dataset`, also served at
`/.well-known/void`, VoID §7.2), its dumps and its SPARQL service. Statistics are computed
from the store once per store version and kept in `INSTANCE_DIR/dumps/<version>/`.

Licences: fiches differ, so the dataset claims no single licence. It lists one subset per
licence (`void:subset`, with `dct:license` and the number of fiches), and its dumps carry no
`dct:license` either — they hold the metadata of every fiche, the non-free ones included —
but a rights statement saying that each fiche keeps its own licence and that the text of
fiches without an open licence is left out (see `licences.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

from . import licences, peers
from .dumps import COMPLETE, DUMPS, FOLDER, Dump, ensure_all, finish, union
from .dumps import folder as dumps_folder
from .iris import Iris
from .namespaces import MLD, PREFIXES, SCHEMA, VOCAB
from .store import VOCABULARY_GRAPH, Store

STATISTICS_FILE = "statistics.json"
EXAMPLES = 3
IANA = "https://www.iana.org/assignments/media-types/"
FRENCH = "http://publications.europa.eu/resource/authority/language/FRA"
PUBLISHER_SLUG = "collectif-osons"

TITLE = {
    "fr": "Mémoires d'action du collectif Osons",
    "en": "Mémoires d'action (action records) of the Osons collective",
}
DESCRIPTION = {
    "fr": "Fiches « mémoire d'action » du collectif Osons : formations, ateliers, "
    "accompagnements et conférences sur la coopération, racontés par celles et ceux qui les "
    "ont menés pour que d'autres puissent les comprendre et les refaire. Chaque fiche décrit "
    "l'action (nature, durée, participants, avancement, réussite, années) et garde sa propre "
    "licence.",
    "en": "Action records of the Osons collective: trainings, workshops, support missions and "
    "talks about cooperation, told by the people who led them so that others can understand "
    "and repeat them. Each record describes the action (kind, duration, participants, "
    "progress, success, years) and keeps its own licence.",
}
RIGHTS = {
    "fr": "Chaque fiche garde la licence choisie par ses auteur·rices (dct:license). Les "
    "fichiers de données ne contiennent que ce qui peut être diffusé librement : de chaque "
    "fiche sous licence non libre, seules les métadonnées et le lien vers sa page d'origine ; "
    "son texte n'y est pas.",
    "en": "Each record keeps the licence its authors chose (dct:license). The data dumps "
    "contain only what may be freely redistributed: of a record under a non-free licence, "
    "only its metadata and the link to its original page; its text is left out.",
}

WITHHELD_NOTE = {
    "fr": "Le texte de ces fiches n'est pas repris dans les fichiers de données ; il reste "
    "lisible sur la page de chaque fiche et sur le site d'origine.",
    "en": "The text of these records is left out of the data dumps; it can still be read on "
    "each record's page and on the original site.",
}
CATALOG_TITLE = {
    "fr": "Catalogue des mémoires d'action du collectif Osons",
    "en": "Catalogue of the action records of the Osons collective",
}

RDF_TYPE = ox.NamedNode(str(RDF.type))
FICHE = ox.NamedNode(str(MLD.Fiche))
MODIFIED = ox.NamedNode(str(DCTERMS.modified))


def statistics(store: Store) -> dict:
    """Count the published data (distinct triples of its graphs, histories left out).

    One pass over `store.quads()` in Python (about 1 µs per triple): SPARQL over the union
    default graph would count the histories' and tombstones' graphs too.
    """
    triples = 0
    per_property: Counter[str] = Counter()
    per_class: Counter[str] = Counter()
    subjects: set = set()
    objects: set[int] = set()  # hashes: the description literals are large
    fiches: set = set()
    modified: dict = {}
    for triple in union(store.quads()):
        subject, predicate, obj = triple.subject, triple.predicate, triple.object
        triples += 1
        per_property[predicate.value] += 1
        subjects.add(subject)
        objects.add(hash(obj))
        if predicate == RDF_TYPE:
            per_class[obj.value] += 1  # triples are distinct: one per instance
            if obj == FICHE:
                fiches.add(subject)
        elif predicate == MODIFIED:
            modified[subject] = max(modified.get(subject, ()), (_instant(obj.value), obj.value))
    per_licence: Counter[str] = Counter()
    for licences_of_fiche in licences.fiche_licences(store).values():
        per_licence.update(licences_of_fiche)
    open_ = licences.open_licences(store)
    latest = max((modified[f] for f in fiches if f in modified), default=(None, ""))
    fiche_iris = sorted(f.value for f in fiches)
    return {
        "version": store.version,
        "triples": triples,
        "entities": sum(
            1 for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(store.base)
        ),
        "distinct_subjects": len(subjects),
        "distinct_objects": len(objects),
        "properties": len(per_property),
        "classes": len(per_class),
        "fiches": len(fiches),
        # the latest modification of a fiche, as written (xsd:dateTime with its offset)
        "modified": latest[1],
        "examples": fiche_iris[:EXAMPLES],
        "class_partitions": _ranked(per_class),
        "property_partitions": _ranked(per_property),
        "licences": [
            _licence_entry(store, iri, n, open_)
            for iri, n in sorted(per_licence.items(), key=lambda item: (-item[1], item[0]))
        ],
        "closed_fiches": sorted(licences.closed_fiches(store)),
        "sources": _sources(store),
    }


def _sources(store: Store) -> list[dict]:
    """The harvested sources (harvest.py): slug, title, the peer's URL, how many fiches."""
    iris = Iris(store.base)
    counts: Counter[str] = Counter()
    for slugs in peers.fiche_sources(store, iris).values():
        counts.update(slugs)
    derived = ox.NamedNode(str(PROV.wasDerivedFrom))
    urls = {
        q.subject.value: q.object.value
        for q in store.match(None, derived, None, ox.NamedNode(str(iris.sources())))
    }
    return [
        {"slug": slug, "title": title, "url": urls.get(str(iris.source(slug))), "fiches": n}
        for slug, title in sorted(peers.source_titles(store, iris).items())
        if (n := counts[slug])
    ]


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def cached_statistics(store: Store, instance_dir: Path) -> dict:
    """`statistics(store)`, computed once per store version and kept on disk."""
    path = dumps_folder(instance_dir, store) / STATISTICS_FILE
    if path.exists():
        return json.loads(path.read_text())
    stats = statistics(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(stats, ensure_ascii=False, indent=1))
    os.replace(tmp, path)
    return stats


def _instant(lexical: str) -> datetime:
    try:
        return datetime.fromisoformat(lexical)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _licence_entry(store: Store, iri: str, fiches: int, open_: frozenset[str]) -> dict:
    """A licence used by fiches: its count, openness, notation and labels (vocabulary)."""
    rows = store.query(
        f"""SELECT ?label ?notation {{ GRAPH <{VOCABULARY_GRAPH.value}> {{
              OPTIONAL {{ <{iri}> <{SKOS.prefLabel}> ?label }}
              OPTIONAL {{ <{iri}> <{SKOS.notation}> ?notation }} }} }}"""
    )
    labels, notation = {}, None
    for row in rows:
        if row["label"] is not None:
            labels[row["label"].language] = row["label"].value
        if row["notation"] is not None:
            notation = row["notation"].value
    return {
        "licence": iri,
        "fiches": fiches,
        "open": iri in open_,
        "notation": notation or iri.rstrip("/").rsplit("/", 1)[-1],
        "label": labels or {"fr": iri, "en": iri},
    }


@dataclass(frozen=True)
class Publication:
    """What the dataset pages show for one store version."""

    version: str
    stats: dict
    sizes: dict[str, int]
    triples: list[ox.Triple]


def prepare(store: Store, instance_dir: Path, iris: Iris) -> Publication:
    """Write the dumps and count the statistics if not done yet for this store version,
    then mark that version complete (dumps.finish: older versions removed)."""
    paths = ensure_all(store, instance_dir)
    stats = cached_statistics(store, instance_dir)
    finish(instance_dir, stats["version"])
    sizes = {name: path.stat().st_size for name, path in paths.items()}
    return Publication(stats["version"], stats, sizes, describe(iris, stats, sizes))


def published(instance_dir: Path, iris: Iris, version: str) -> Publication | None:
    """The publication of `version` as written on disk (None if incomplete or removed)."""
    folder = instance_dir / FOLDER / version
    try:
        if not (folder / COMPLETE).exists():
            return None
        stats = json.loads((folder / STATISTICS_FILE).read_text())
        sizes = {d.filename: (folder / d.filename).stat().st_size for d in DUMPS}
    except FileNotFoundError:  # removed meanwhile: a newer version is complete
        return None
    return Publication(version, stats, sizes, describe(iris, stats, sizes))


# -- the description graph ---------------------------------------------------------------


def _n(iri) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


def _text(values: dict[str, str]) -> list[ox.Literal]:
    return [ox.Literal(text, language=lang) for lang, text in values.items()]


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n(XSD.integer))


def describe(iris: Iris, stats: dict, sizes: dict[str, int]) -> list[ox.Triple]:
    """The catalogue, the dataset, its subsets, distributions and service, as triples.

    `sizes` gives the byte size of each dump (by file name) once written.
    """
    # grouped by subject, in the order subjects first appear, for readable Turtle
    out: dict[ox.NamedNode, list[ox.Triple]] = {}

    def add(subject, predicate, *objects):
        for obj in objects:
            out.setdefault(subject, []).append(ox.Triple(subject, _n(predicate), obj))

    catalog, dataset = _n(iris.catalog()), _n(iris.dataset())
    service, publisher = _n(iris.dataset_part("sparql")), _n(iris.agent(PUBLISHER_SLUG))
    rights = _n(iris.dataset_part("rights"))
    modified = (
        [ox.Literal(stats["modified"], datatype=_n(XSD.dateTime))] if stats["modified"] else []
    )

    add(catalog, RDF.type, _n(DCAT.Catalog))
    add(catalog, DCTERMS.title, *_text(CATALOG_TITLE))
    add(catalog, DCTERMS.publisher, publisher)
    add(catalog, FOAF.homepage, _n(iris.base))
    add(catalog, DCAT.dataset, dataset)
    add(catalog, DCAT.service, service)
    add(catalog, DCAT.themeTaxonomy, _n(VOCAB.nature))
    add(catalog, DCTERMS.language, _n(FRENCH))
    add(catalog, DCTERMS.modified, *modified)

    for t in (VOID.Dataset, DCAT.Dataset, SCHEMA.Dataset):
        add(dataset, RDF.type, _n(t))
    for p in (DCTERMS.title, SCHEMA.name):
        add(dataset, p, *_text(TITLE))
    for p in (DCTERMS.description, SCHEMA.description):
        add(dataset, p, *_text(DESCRIPTION))
    add(dataset, DCTERMS.publisher, publisher)
    add(dataset, SCHEMA.publisher, publisher)
    add(dataset, DCTERMS.language, _n(FRENCH))
    add(dataset, SCHEMA.inLanguage, ox.Literal("fr"))
    add(dataset, DCTERMS.modified, *modified)
    add(dataset, SCHEMA.dateModified, *modified)
    add(dataset, DCAT.landingPage, _n(iris.base))
    add(dataset, FOAF.homepage, _n(iris.base))
    add(dataset, DCAT.theme, _n(VOCAB.nature))
    add(
        dataset,
        DCAT.keyword,
        *(
            ox.Literal(k, language="fr")
            for k in (
                "coopération",
                "éducation populaire",
                "retour d'expérience",
                "mémoire d'action",
            )
        ),
    )
    add(dataset, DCTERMS.rights, rights)
    add(dataset, VOID.uriSpace, ox.Literal(iris.base))
    add(dataset, VOID.sparqlEndpoint, _n(iris.sparql()))
    add(dataset, VOID.rootResource, _n(iris.fiches()))
    add(dataset, VOID.exampleResource, *(_n(e) for e in stats["examples"]))
    for namespace in vocabularies(stats):
        add(dataset, VOID.vocabulary, _n(namespace))
    add(dataset, VOID.triples, _integer(stats["triples"]))
    add(dataset, VOID.entities, _integer(stats["entities"]))
    add(dataset, VOID.distinctSubjects, _integer(stats["distinct_subjects"]))
    add(dataset, VOID.distinctObjects, _integer(stats["distinct_objects"]))
    add(dataset, VOID.properties, _integer(stats["properties"]))
    add(dataset, VOID.classes, _integer(stats["classes"]))
    add(dataset, VOID.documents, _integer(stats["fiches"]))
    for cls, n in stats["class_partitions"]:
        part = _n(iris.dataset_part("class-" + _short(cls)))
        add(dataset, VOID.classPartition, part)
        add(part, VOID["class"], _n(cls))
        add(part, VOID.entities, _integer(n))
    for prop, n in stats["property_partitions"]:
        part = _n(iris.dataset_part("property-" + _short(prop)))
        add(dataset, VOID.propertyPartition, part)
        add(part, VOID.property, _n(prop))
        add(part, VOID.triples, _integer(n))

    add(rights, RDF.type, _n(DCTERMS.RightsStatement))
    add(rights, RDFS.label, *_text(RIGHTS))

    for entry in stats["licences"]:
        _describe_licence_subset(add, iris, dataset, entry)
    for entry in stats.get("sources", []):  # (statistics cached before sources had none)
        _describe_source_subset(add, iris, dataset, entry)

    for dump in DUMPS:
        _describe_dump(add, iris, dataset, rights, dump, sizes.get(dump.filename), modified)

    for feed in FEEDS:
        _describe_feed(add, iris, dataset, rights, feed, modified)

    add(service, RDF.type, _n(DCAT.DataService))
    add(service, DCTERMS.title, *_text({"fr": "Point d'accès SPARQL", "en": "SPARQL endpoint"}))
    add(service, DCAT.endpointURL, _n(iris.sparql()))
    add(service, DCAT.endpointDescription, _n(iris.sparql()))
    add(service, DCTERMS.conformsTo, _n("https://www.w3.org/TR/sparql11-protocol/"))
    add(service, DCAT.servesDataset, dataset)

    for t in (FOAF.Organization, SCHEMA.Organization):
        add(publisher, RDF.type, _n(t))
    add(publisher, FOAF.name, ox.Literal("Collectif Osons"))
    add(publisher, SCHEMA.name, ox.Literal("Collectif Osons"))
    add(publisher, FOAF.homepage, _n("http://osons.cc/"))
    return [triple for triples in out.values() for triple in triples]


def _describe_licence_subset(add, iris: Iris, dataset, entry: dict) -> None:
    subset = _n(iris.dataset_part("licence-" + entry["notation"]))
    label = entry["label"]
    add(dataset, VOID.subset, subset)
    add(subset, RDF.type, _n(VOID.Dataset))
    add(subset, DCTERMS.title, ox.Literal(f"Fiches sous {label.get('fr')}", language="fr"))
    add(subset, DCTERMS.title, ox.Literal(f"Records under {label.get('en')}", language="en"))
    add(subset, DCTERMS.license, _n(entry["licence"]))
    add(subset, VOID.documents, _integer(entry["fiches"]))
    if not entry["open"]:
        add(subset, DCTERMS.description, *_text(WITHHELD_NOTE))


def _describe_source_subset(add, iris: Iris, dataset, entry: dict) -> None:
    """The fiches harvested from a peer: a subset whose IRI is their named graph."""
    subset = _n(iris.source(entry["slug"]))
    add(dataset, VOID.subset, subset)
    add(subset, RDF.type, _n(VOID.Dataset))
    add(subset, DCTERMS.title, ox.Literal(f"Fiches moissonnées : {entry['title']}", language="fr"))
    add(subset, DCTERMS.title, ox.Literal(f"Harvested records: {entry['title']}", language="en"))
    add(subset, VOID.documents, _integer(entry["fiches"]))
    if entry["url"]:
        add(subset, DCTERMS.source, _n(entry["url"]))
        add(subset, PROV.wasDerivedFrom, _n(entry["url"]))


def _describe_dump(add, iris: Iris, dataset, rights, dump: Dump, size, modified) -> None:
    node = _n(iris.dataset_part("dump-" + dump.filename.split(".", 1)[1].replace(".", "-")))
    url = _n(iris.dump(dump.filename))
    add(dataset, DCAT.distribution, node)
    add(dataset, SCHEMA.distribution, node)
    add(dataset, VOID.dataDump, url)
    add(node, RDF.type, _n(DCAT.Distribution))
    add(node, RDF.type, _n(SCHEMA.DataDownload))
    add(node, DCTERMS.title, *_text({"fr": dump.label_fr, "en": dump.label_en}))
    add(node, DCAT.downloadURL, url)
    add(node, DCAT.accessURL, url)
    add(node, SCHEMA.contentUrl, url)
    add(node, DCAT.mediaType, _n(IANA + dump.media_type))
    add(node, SCHEMA.encodingFormat, ox.Literal(dump.media_type))
    if dump.gzip:
        add(node, DCAT.compressFormat, _n(IANA + "application/gzip"))
    if size is not None:
        add(node, DCAT.byteSize, ox.Literal(str(size), datatype=_n(XSD.nonNegativeInteger)))
    add(node, DCTERMS.rights, rights)
    add(node, DCTERMS.modified, *modified)


#: The change feed (changes.py) in its two forms: (part, URL method, media type, standard, titles)
FEEDS = (
    (
        "changes-as2",
        "changes",
        "application/activity+json",
        "https://www.w3.org/TR/activitystreams-core/",
        {"fr": "Flux des modifications (ActivityStreams 2.0)", "en": "Change feed (AS 2.0)"},
    ),
    (
        "changes-atom",
        "changes_atom",
        "application/atom+xml",
        "https://www.rfc-editor.org/rfc/rfc4287",
        {"fr": "Flux des modifications (Atom)", "en": "Change feed (Atom)"},
    ),
)


def _describe_feed(add, iris: Iris, dataset, rights, feed: tuple, modified) -> None:
    """A distribution of the dataset that lists its changes (harvesters poll it)."""
    part, method, media_type, standard, titles = feed
    node, url = _n(iris.dataset_part(part)), _n(getattr(iris, method)())
    add(dataset, DCAT.distribution, node)
    add(node, RDF.type, _n(DCAT.Distribution))
    add(node, DCTERMS.title, *_text(titles))
    add(node, DCAT.accessURL, url)
    add(node, DCAT.mediaType, _n(IANA + media_type))
    add(node, DCTERMS.conformsTo, _n(standard))
    add(node, DCTERMS.rights, rights)
    add(node, DCTERMS.modified, *modified)


def _short(iri: str) -> str:
    """A stable fragment for a class or property: `schema-Article`, else a digest."""
    for prefix, namespace in PREFIXES.items():
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local.replace("-", "").replace("_", "").isalnum():
            return f"{prefix}-{local}"
    return hashlib.sha256(iri.encode()).hexdigest()[:12]


def vocabularies(stats: dict) -> list[str]:
    """The namespaces (among our published prefixes) of the classes and properties used."""
    used = {iri for iri, _ in stats["class_partitions"] + stats["property_partitions"]}
    known = set(PREFIXES.values()) - {str(OWL), str(XSD)}
    return sorted(ns for ns in known if any(iri.startswith(ns) for iri in used))
