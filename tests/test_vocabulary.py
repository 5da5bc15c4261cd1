"""The vocabulary: ontology/memoires-ld.ttl, its DefinedNamespace, and the SKOS concept schemes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from memoires_ld import iris, vocabulary
from memoires_ld.namespaces import PREFIXES, SCHEMA, W3ID
from memoires_ld.resources import CHECKOUT, folder
from memoires_ld.vocab import MLD

ONTOLOGY = URIRef(W3ID + "ns")
NS = str(MLD)
MINTED = {
    MLD.Fiche,
    MLD.participants,
    MLD.reussite,
    MLD.cahierDesCharges,
    MLD.reponse,
    MLD.documentation,
}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(folder("ontology") / "memoires-ld.ttl", format="turtle")


def declared(g: Graph) -> set[URIRef]:
    return {s for s in g.subjects(RDFS.isDefinedBy, ONTOLOGY) if str(s).startswith(NS)}


def iris_in_turtle(paths) -> set[URIRef]:
    found = set()
    for path in paths:
        for triple in Graph().parse(path, format="turtle"):
            found |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(NS)}
    return found


PY_TERM = re.compile(r"\bMLD\.(\w+)|\bMLD\[\s*[\"'](\w+)[\"']\s*\]|\bmld:(\w+)")
PY_IRI = re.compile(re.escape(NS) + r"(\w+)")


def terms_in_python() -> set[URIRef]:
    """`MLD.x`, `MLD["x"]`, `mld:x` and full IRIs in memoires_ld/ (save DefinedNamespace's API)."""
    names = set()
    for path in (CHECKOUT / "memoires_ld").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= {next(g for g in match.groups() if g) for match in PY_TERM.finditer(text)}
        names |= set(PY_IRI.findall(text))
    return {URIRef(NS + name) for name in names if name not in dir(type(MLD))}


# ---------------------------------------------------------------- ontology ↔ DefinedNamespace


def test_defined_namespace_has_exactly_the_terms_of_the_ontology(ontology):
    assert set(dir(MLD)) == declared(ontology) == MINTED


def test_every_mld_iri_used_in_ontology_and_shapes_is_declared(ontology):
    used = iris_in_turtle([*folder("ontology").glob("*.ttl"), *folder("shapes").glob("*.ttl")])
    assert used - declared(ontology) == set()
    assert used - set(dir(MLD)) == set()


def test_every_mld_term_used_in_python_is_declared(ontology):
    used = terms_in_python()
    assert MLD.Fiche in used  # the scan sees mapping.py
    assert used - declared(ontology) == set()


def test_every_minted_term_is_used_by_the_mapping_or_the_shapes():
    mapping = Path(CHECKOUT / "memoires_ld" / "mapping.py").read_text(encoding="utf-8")
    shapes = iris_in_turtle(folder("shapes").glob("*.ttl"))
    for term in MINTED:
        local = str(term)[len(NS) :]
        assert f"MLD.{local}" in mapping or term in shapes, term


def test_a_mistyped_term_raises():
    with pytest.raises(AttributeError):
        _ = MLD.Fiches
    with pytest.raises(AttributeError):
        _ = MLD["reusite"]


def test_namespace_is_the_published_one():
    assert str(MLD) == W3ID + "ns#" == PREFIXES["mld"]


# ---------------------------------------------------------------- the ontology itself


def test_ontology_header(ontology):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    version = ontology.value(ONTOLOGY, OWL.versionInfo)
    assert str(version) == "0.1.0"
    assert ontology.value(ONTOLOGY, OWL.versionIRI) == URIRef(f"{ONTOLOGY}/{version}")
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef(
        "http://creativecommons.org/publicdomain/zero/1.0/"
    )
    assert not list(ontology.objects(ONTOLOGY, OWL.imports))
    for prop in (DCTERMS.title, DCTERMS.description):
        assert langs(ontology.objects(ONTOLOGY, prop)) == Counter({"fr": 1, "en": 1})


def langs(literals) -> Counter:
    return Counter(lit.language for lit in literals if isinstance(lit, Literal))


@pytest.mark.parametrize("term", sorted(MINTED), ids=lambda t: t.fragment)
def test_minted_term_is_documented_in_french_and_english(ontology, term):
    for prop in (RDFS.label, RDFS.comment):
        assert langs(ontology.objects(term, prop)) == Counter({"fr": 1, "en": 1}), prop
    assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY


def test_minted_terms_are_aligned(ontology):
    assert set(ontology.objects(MLD.Fiche, RDFS.subClassOf)) == {
        SCHEMA.Article,
        URIRef("http://virtual-assembly.org/ontologies/pair#Document"),
        URIRef("http://purl.org/dc/dcmitype/Text"),
    }
    for link in (MLD.cahierDesCharges, MLD.reponse, MLD.documentation):
        assert set(ontology.objects(link, RDFS.subPropertyOf)) == {
            DCTERMS.references,
            SCHEMA.citation,
        }
    for facet in (MLD.participants, MLD.reussite):
        assert ontology.value(facet, RDFS.range) == SKOS.Concept
        assert (facet, RDFS.subPropertyOf, DCTERMS.relation) in ontology


# ---------------------------------------------------------------- concept schemes


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return vocabulary.graph()


@pytest.mark.parametrize("name", iris.SCHEMES)
def test_scheme_is_labelled_and_defined_by_the_ontology(vocab, name):
    scheme = iris.scheme(name)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in vocab
    assert langs(vocab.objects(scheme, SKOS.prefLabel)) == Counter({"fr": 1, "en": 1})
    assert vocab.value(scheme, RDFS.isDefinedBy) == ONTOLOGY


@pytest.mark.parametrize("name", iris.SCHEMES)
def test_concepts_have_one_label_per_language_and_a_place_in_their_scheme(vocab, name):
    scheme = iris.scheme(name)
    concepts = vocabulary.concepts(name)
    assert concepts
    assert set(vocab.objects(scheme, SKOS.hasTopConcept)) == set(concepts)
    for concept in concepts:
        assert (concept, RDF.type, SKOS.Concept) in vocab
        assert langs(vocab.objects(concept, SKOS.prefLabel)) == Counter({"fr": 1, "en": 1})
        assert set(vocab.objects(concept, SKOS.inScheme)) == {scheme}
        assert set(vocab.objects(concept, SKOS.topConceptOf)) == {scheme}
    notations = [str(vocab.value(c, SKOS.notation)) for c in concepts]
    assert "None" not in notations
    assert len(set(notations)) == len(notations), "skos:notation must be unique in its scheme"
    positions = [vocab.value(c, SCHEMA.position) for c in concepts]
    assert all(isinstance(p, Literal) and isinstance(p.toPython(), int) for p in positions)
    assert sorted(p.toPython() for p in positions) == list(range(1, len(concepts) + 1))


def test_every_concept_is_in_one_of_our_schemes(vocab):
    ours = {c for name in iris.SCHEMES for c in vocabulary.concepts(name)}
    assert set(vocab.subjects(RDF.type, SKOS.Concept)) == ours


@pytest.mark.parametrize("name", iris.SCHEMES)
def test_labels_are_pairwise_disjoint(vocab, name):
    """SKOS S13: prefLabel, altLabel and hiddenLabel of a concept are pairwise disjoint."""
    for concept in vocabulary.concepts(name):
        pref, alt, hidden = (
            set(vocab.objects(concept, p))
            for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
        )
        assert not (pref & alt or pref & hidden or alt & hidden), concept


def test_source_labels_still_resolve():
    """The source's own spellings are kept as hiddenLabels so that imports match them."""
    assert vocabulary.concept_for_label("reussite", "Pas concerné par ce champs") == iris.concept(
        "reussite", "non-concerne"
    )
    assert vocabulary.concept_for_label("nature", "Education populaire") == iris.concept(
        "nature", "education-populaire"
    )
