"""The SHACL shapes (shapes/fiche.ttl): each constraint with a conforming and a failing example.

Every example starts from the valid fiche of tests/data/fiche-valide.ttl and changes one
thing: `remove` drops (subject, predicate) pairs, `add` is Turtle whose base is the fiche, so
`<>` is the fiche and `<#action>` the action it documents.
"""

from __future__ import annotations

import importlib.resources
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SH, XSD

from memoires_ld import iris, vocabulary
from memoires_ld.iris import DEFAULT_BASE, Iris
from memoires_ld.mapping import map_fiche
from memoires_ld.namespaces import DASH, PAIR, SCHEMA, SHAPES
from memoires_ld.record import Agent, Block, FicheRecord, Link
from memoires_ld.validation import load_shapes, report_text, validate
from memoires_ld.vocab import MLD

DATA = Path(__file__).parent / "data"
TAG = "AccompagnementDUnReseauAssociatifSurLaMu"
FICHE = Iris(DEFAULT_BASE).fiche(TAG)
ACTION = Iris(DEFAULT_BASE).action(TAG)
AUTHOR = Iris(DEFAULT_BASE).agent("alice-oechsner")
IMAGE = Iris(DEFAULT_BASE).image(TAG, 1)

PREFIXES = """
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
@prefix pair: <http://virtual-assembly.org/ontologies/pair#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix mld: <https://w3id.org/memoires-ld/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix vocab: <https://w3id.org/memoires-ld/vocab/> .
"""


def valid_fiche() -> Graph:
    return Graph().parse(DATA / "fiche-valide.ttl", format="turtle")


def variant(remove=(), add: str = "") -> Graph:
    """The valid fiche with (subject, predicate) pairs removed and Turtle added."""
    g = valid_fiche()
    for subject, predicate in remove:
        g.remove((subject, predicate, None))
    if add:
        g.parse(data=PREFIXES + add, format="turtle", publicID=str(FICHE))
    return g


def outcome(report) -> set[tuple]:
    return {(r.path, r.source_shape, r.severity) for r in report.results}


# ---------------------------------------------------------------- the shapes themselves


def test_shapes_conform_to_shacl_shacl():
    shacl_shacl = Graph().parse(
        importlib.resources.files("pyshacl") / "assets" / "shacl-shacl.ttl", format="turtle"
    )
    conforms, _, text = pyshacl.validate(load_shapes(), shacl_graph=shacl_shacl)
    assert conforms, text
    # and pySHACL's own --metashacl check, as used on the command line
    conforms, _, text = pyshacl.validate(valid_fiche(), shacl_graph=load_shapes(), meta_shacl=True)
    assert conforms, text


def test_shacl_shacl_would_catch_a_broken_shape():
    broken = Graph() + load_shapes()
    broken.set((SHAPES["Fiche-titre"], SH.minCount, Literal("un")))
    shacl_shacl = Graph().parse(
        importlib.resources.files("pyshacl") / "assets" / "shacl-shacl.ttl", format="turtle"
    )
    conforms, _, _ = pyshacl.validate(broken, shacl_graph=shacl_shacl)
    assert not conforms


def property_shapes() -> list[URIRef]:
    shapes = load_shapes()
    return sorted(set(shapes.objects(None, SH.property)))


def test_every_property_shape_can_make_a_bilingual_form_field():
    shapes = load_shapes()
    assert len(property_shapes()) == 30
    for shape in property_shapes():
        assert isinstance(shape, URIRef), "name property shapes: results cite them"
        for prop in (SH.name, SH.description, SH.message):
            langs = Counter(lit.language for lit in shapes.objects(shape, prop))
            assert langs == Counter({"fr": 1, "en": 1}), (shape, prop)
        assert isinstance(shapes.value(shape, SH.order), Literal), shape
        assert (shapes.value(shape, SH.group), RDF.type, SH.PropertyGroup) in shapes, shape
        assert shapes.value(shape, DASH.editor) is not None, shape
        if shapes.value(shape, SH["in"]) is not None:
            assert shapes.value(shape, DASH.editor) == DASH.EnumSelectEditor, shape


def test_groups_are_labelled_and_ordered():
    shapes = load_shapes()
    groups = set(shapes.subjects(RDF.type, SH.PropertyGroup))
    assert len(groups) == 5
    for group in groups:
        langs = Counter(lit.language for lit in shapes.objects(group, RDFS.label))
        assert langs == Counter({"fr": 1, "en": 1}), group
        assert isinstance(shapes.value(group, SH.order), Literal), group
    orders = [shapes.value(g, SH.order).toPython() for g in groups]
    assert len(set(orders)) == len(orders)


def test_no_shape_is_closed_and_concepts_are_never_checked_by_class():
    shapes = load_shapes()
    assert not list(shapes.subjects(SH.closed, None))
    for shape, cls in shapes.subject_objects(SH["class"]):
        assert cls in (PAIR.Project, SCHEMA.ImageObject), shape


@pytest.mark.parametrize(
    ("shape", "scheme"),
    [
        ("Action-nature", "nature"),
        ("Action-participants", "participants"),
        ("Action-duree", "duree"),
        ("Action-statut", "statut"),
        ("Action-reussite", "reussite"),
        ("Fiche-licence", "licence"),
    ],
)
def test_closed_lists_are_the_concept_schemes(shape, scheme):
    shapes = load_shapes()
    listed = list(Collection(shapes, shapes.value(SHAPES[shape], SH["in"])))
    assert listed == list(vocabulary.concepts(scheme))
    assert shapes.value(SHAPES[shape], SH.nodeKind) == SH.IRI


# ---------------------------------------------------------------- the valid fiche


def test_fixture_is_what_mapping_writes():
    paris = timezone(timedelta(hours=2))
    record = FicheRecord(
        tag=TAG,
        title="Accompagnement d'un réseau associatif sur la mutualisation d'une fonction employeur",
        natures=[iris.concept("nature", "accompagnement")],
        participants=[iris.concept("participants", "16-30")],
        durations=[iris.concept("duree", "plus-d-une-semaine")],
        status=iris.concept("statut", "terminee"),
        success=iris.concept("reussite", "encourageant"),
        years=[2016, 2017],
        description=[
            Block(
                "paragraph",
                text="La mission a consisté à accompagner l'association Biocentre sur deux "
                "sessions.",
            )
        ],
        links=[
            Link("cahier-des-charges", "https://cloud.example.org/s/cahier-des-charges"),
            Link("documentation", "https://wiki.example.org/files/Biocentre_compte-rendu.pdf"),
        ],
        authors_raw="Alice Oechsner (rédaction)",
        authors=[Agent("alice-oechsner", "Alice Oechsner", "person", "rédaction")],
        licence=URIRef("http://creativecommons.org/licenses/by-sa/4.0/"),
        owner="RomainLalande",
        created=datetime(2018, 4, 13, 13, 2, tzinfo=paris),
        modified=datetime(2018, 4, 13, 13, 4, tzinfo=paris),
        image="dscn3442b.jpg",
    )
    iris_ = Iris(DEFAULT_BASE)
    mapped = map_fiche(record, iris_, import_run=iris_.import_run("listing-0123456789ab"))
    if not isomorphic(mapped, valid_fiche()):
        _, only_mapped, only_fixture = graph_diff(
            to_isomorphic(mapped), to_isomorphic(valid_fiche())
        )
        pytest.fail(
            "fiche-valide.ttl differs from map_fiche:\n"
            f"only in map_fiche:\n{only_mapped.serialize(format='nt')}\n"
            f"only in the fixture:\n{only_fixture.serialize(format='nt')}"
        )


def test_valid_fiche_conforms_without_any_result():
    report = validate(valid_fiche())
    assert report.conforms
    assert report.results == []
    assert report.fiches == [FICHE]


# ---------------------------------------------------------------- conforming variants
CONFORMING = {
    "title in French and English": ([], '<> dct:title "Supporting a network of associations"@en .'),
    "description in French and English": ([], '<> dct:description "The mission…"@en .'),
    "several natures": ([], "<#action> dct:type vocab:nature\\/formation ."),
    "several participant bands": ([], "<#action> mld:participants vocab:participants\\/6-15 ."),
    "several durations": ([], "<#action> dct:extent vocab:duree\\/journee ."),
    "cancelled action": (
        [(ACTION, PAIR.hasStatus)],
        "<#action> pair:hasStatus vocab:statut\\/annulee .",
    ),
    "success not applicable": (
        [(ACTION, MLD.reussite)],
        "<#action> mld:reussite vocab:reussite\\/non-concerne .",
    ),
    "CC0 licence": (
        [(FICHE, DCTERMS.license)],
        "<> dct:license <http://creativecommons.org/publicdomain/zero/1.0/> .",
    ),
    "non-free licence": (
        [(FICHE, DCTERMS.license)],
        "<> dct:license vocab:licence\\/non-libre .",
    ),
    "created and modified at the same time": (
        [(FICHE, DCTERMS.modified)],
        '<> dct:modified "2018-04-13T13:02:00+02:00"^^xsd:dateTime .',
    ),
    "modified in another time zone, later": (
        [(FICHE, DCTERMS.modified)],
        '<> dct:modified "2018-04-13T11:03:00Z"^^xsd:dateTime .',
    ),
    "no links": ([(FICHE, MLD.cahierDesCharges), (FICHE, MLD.documentation)], ""),
    "every kind of link": (
        [],
        "<> mld:reponse <http://example.org/devis> ; "
        "dct:references <https://example.org/a>, <https://example.org/b> .",
    ),
    "an organisation among the authors": (
        [],
        "<> dct:creator <../agent/osons> . "
        '<../agent/osons> a foaf:Organization ; foaf:name "Osons" .',
    ),
    "an author of unknown kind": (
        [(AUTHOR, RDF.type)],
        "<../agent/alice-oechsner> a foaf:Agent .",
    ),
    "no image": ([(FICHE, SCHEMA.image)], ""),
    "an image with a caption and a size": (
        [],
        '<#image-1> schema:caption "Atelier"@fr, "Workshop"@en ; schema:contentSize "53.1kB" .',
    ),
    "properties the shapes do not know (not closed)": (
        [],
        '<> schema:keywords "mutualisation" . <#action> schema:location "Lyon" .',
    ),
}


@pytest.mark.parametrize(("remove", "add"), CONFORMING.values(), ids=CONFORMING.keys())
def test_conforming_variant(remove, add):
    report = validate(variant(remove, add))
    assert report.conforms
    assert report.results == []


# ---------------------------------------------------------------- violations
def case(name, remove, add, path, shape, focus=FICHE):
    return pytest.param(remove, add, path, SHAPES[shape], focus, id=name)


VIOLATIONS = [
    # Le récit
    case("no title", [(FICHE, DCTERMS.title)], "", DCTERMS.title, "Fiche-titre"),
    case(
        "a title in German",
        [(FICHE, DCTERMS.title)],
        '<> dct:title "Begleitung eines Vereinsnetzwerks"@de .',
        DCTERMS.title,
        "Fiche-titre",
    ),
    case(
        "two French titles",
        [],
        '<> dct:title "Un autre titre"@fr .',
        DCTERMS.title,
        "Fiche-titre",
    ),
    case(
        "a title without language",
        [(FICHE, DCTERMS.title)],
        '<> dct:title "Accompagnement" .',
        DCTERMS.title,
        "Fiche-titre",
    ),
    case(
        "no description",
        [(FICHE, DCTERMS.description)],
        "",
        DCTERMS.description,
        "Fiche-description",
    ),
    case(
        "HTML text not typed rdf:HTML",
        [(FICHE, SCHEMA.articleBody)],
        '<> schema:articleBody "<p>texte</p>" .',
        SCHEMA.articleBody,
        "Fiche-texte",
    ),
    case(
        "an image that is not an ImageObject",
        [(IMAGE, RDF.type)],
        "",
        SCHEMA.image,
        "Fiche-images",
    ),
    case(
        "an image without file name",
        [(IMAGE, SCHEMA.name)],
        "",
        SCHEMA.name,
        "Image-fichier",
        IMAGE,
    ),
    case(
        "a caption in German",
        [],
        '<#image-1> schema:caption "Werkstatt"@de .',
        SCHEMA.caption,
        "Image-legende",
        IMAGE,
    ),
    # L'action
    case(
        "an action that is not a pair:Project",
        [(ACTION, RDF.type)],
        "<#action> a <http://schema.org/Event> .",
        SCHEMA.mainEntity,
        "Fiche-action",
    ),
    case(
        "an unknown nature",
        [],
        "<#action> dct:type vocab:nature\\/cuisine .",
        DCTERMS.type,
        "Action-nature",
        ACTION,
    ),
    case("no nature", [(ACTION, DCTERMS.type)], "", DCTERMS.type, "Action-nature", ACTION),
    case(
        "a nature as text",
        [(ACTION, DCTERMS.type)],
        '<#action> dct:type "Formation" .',
        DCTERMS.type,
        "Action-nature",
        ACTION,
    ),
    case(
        "no participants",
        [(ACTION, MLD.participants)],
        "",
        MLD.participants,
        "Action-participants",
        ACTION,
    ),
    case(
        "an unknown participant band",
        [],
        "<#action> mld:participants vocab:participants\\/1-5 .",
        MLD.participants,
        "Action-participants",
        ACTION,
    ),
    case(
        "an unknown duration",
        [],
        "<#action> dct:extent vocab:duree\\/un-mois .",
        DCTERMS.extent,
        "Action-duree",
        ACTION,
    ),
    case(
        "two statuses",
        [],
        "<#action> pair:hasStatus vocab:statut\\/en-cours .",
        PAIR.hasStatus,
        "Action-statut",
        ACTION,
    ),
    case(
        "an unknown status",
        [(ACTION, PAIR.hasStatus)],
        "<#action> pair:hasStatus vocab:statut\\/reportee .",
        PAIR.hasStatus,
        "Action-statut",
        ACTION,
    ),
    case(
        "two degrees of success",
        [],
        "<#action> mld:reussite vocab:reussite\\/desastre .",
        MLD.reussite,
        "Action-reussite",
        ACTION,
    ),
    case(
        "a year 20x7",
        [(ACTION, DCTERMS.temporal)],
        '<#action> dct:temporal "20x7"^^xsd:gYear .',
        DCTERMS.temporal,
        "Action-annees",
        ACTION,
    ),
    case(
        "a year as an integer",
        [(ACTION, DCTERMS.temporal)],
        "<#action> dct:temporal 2017 .",
        DCTERMS.temporal,
        "Action-annees",
        ACTION,
    ),
    case("no year", [(ACTION, DCTERMS.temporal)], "", DCTERMS.temporal, "Action-annees", ACTION),
    # Liens
    case(
        "a brief on FTP",
        [(FICHE, MLD.cahierDesCharges)],
        "<> mld:cahierDesCharges <ftp://example.org/cdc.pdf> .",
        MLD.cahierDesCharges,
        "Fiche-cahierDesCharges",
    ),
    case(
        "a proposal link as text",
        [],
        '<> mld:reponse "https://example.org/devis" .',
        MLD.reponse,
        "Fiche-reponse",
    ),
    case(
        "two documentation links",
        [],
        "<> mld:documentation <https://example.org/autre> .",
        MLD.documentation,
        "Fiche-documentation",
    ),
    case(
        "another link that is not on the web",
        [],
        "<> dct:references <mailto:osons@example.org> .",
        DCTERMS.references,
        "Fiche-autresLiens",
    ),
    # Auteur·rices et licence
    case("no author", [(FICHE, DCTERMS.creator)], "", DCTERMS.creator, "Fiche-auteurs"),
    case(
        "an author without name",
        [(AUTHOR, FOAF.name)],
        "",
        FOAF.name,
        "Agent-nom",
        AUTHOR,
    ),
    case(
        "an author typed with schema.org only",
        [(AUTHOR, RDF.type)],
        "<../agent/alice-oechsner> a schema:Person .",
        RDF.type,
        "Agent-type",
        AUTHOR,
    ),
    case(
        "a contributor without name",
        [],
        "<#action> pair:involves <../agent/bob> . <../agent/bob> a foaf:Person .",
        FOAF.name,
        "Agent-nom",
        Iris(DEFAULT_BASE).agent("bob"),
    ),
    case("no credit", [(FICHE, SCHEMA.creditText)], "", SCHEMA.creditText, "Fiche-credit"),
    case(
        "a credit with a language tag",
        [(FICHE, SCHEMA.creditText)],
        '<> schema:creditText "Alice Oechsner"@fr .',
        SCHEMA.creditText,
        "Fiche-credit",
    ),
    case("no licence", [(FICHE, DCTERMS.license)], "", DCTERMS.license, "Fiche-licence"),
    case(
        "a licence outside the list",
        [(FICHE, DCTERMS.license)],
        "<> dct:license <http://creativecommons.org/licenses/by/4.0/> .",
        DCTERMS.license,
        "Fiche-licence",
    ),
    case(
        "two licences",
        [],
        "<> dct:license <http://creativecommons.org/publicdomain/zero/1.0/> .",
        DCTERMS.license,
        "Fiche-licence",
    ),
    # Métadonnées
    case(
        "no identifier", [(FICHE, DCTERMS.identifier)], "", DCTERMS.identifier, "Fiche-identifiant"
    ),
    case(
        "two identifiers",
        [],
        '<> dct:identifier "AutreNom" .',
        DCTERMS.identifier,
        "Fiche-identifiant",
    ),
    case(
        "created after modified",
        [(FICHE, DCTERMS.created)],
        '<> dct:created "2018-04-13T13:05:00+02:00"^^xsd:dateTime .',
        DCTERMS.created,
        "Fiche-creation",
    ),
    case(
        "created after modified, across time zones",
        [(FICHE, DCTERMS.created)],
        '<> dct:created "2018-04-13T11:05:00Z"^^xsd:dateTime .',
        DCTERMS.created,
        "Fiche-creation",
    ),
    case(
        "a creation date without time",
        [(FICHE, DCTERMS.created)],
        '<> dct:created "2018-04-13"^^xsd:date .',
        DCTERMS.created,
        "Fiche-creation",
    ),
    case(
        "two update dates",
        [],
        '<> dct:modified "2018-05-01T10:00:00+02:00"^^xsd:dateTime .',
        DCTERMS.modified,
        "Fiche-modification",
    ),
    case("no update date", [(FICHE, DCTERMS.modified)], "", DCTERMS.modified, "Fiche-modification"),
]


@pytest.mark.parametrize(("remove", "add", "path", "shape", "focus"), VIOLATIONS)
def test_violation(remove, add, path, shape, focus):
    report = validate(variant(remove, add))
    assert not report.conforms
    assert outcome(report) == {(path, shape, SH.Violation)}
    assert {r.focus for r in report.results} == {focus}
    assert {r.fiche for r in report.results} == {FICHE}


def test_a_fiche_without_action_is_a_violation_and_misses_the_recommended_fields():
    report = validate(variant([(FICHE, SCHEMA.mainEntity)]))
    assert not report.conforms
    assert [(r.path, r.source_shape) for r in report.violations] == [
        (SCHEMA.mainEntity, SHAPES["Fiche-action"])
    ]
    assert len(report.warnings) == 3


# ---------------------------------------------------------------- warnings
RECOMMENDED = [
    pytest.param(DCTERMS.extent, "Recommande-duree", id="no duration"),
    pytest.param(PAIR.hasStatus, "Recommande-statut", id="no status"),
    pytest.param(MLD.reussite, "Recommande-reussite", id="no degree of success"),
]


@pytest.mark.parametrize(("prop", "shape"), RECOMMENDED)
def test_a_missing_recommended_field_is_a_warning_and_the_fiche_conforms(prop, shape):
    report = validate(variant([(ACTION, prop)]))
    assert report.conforms
    assert report.violations == []
    assert outcome(report) == {((SCHEMA.mainEntity, prop), SHAPES[shape], SH.Warning)}
    assert report.warnings[0].focus == FICHE


def test_all_recommended_fields_missing_still_conforms():
    report = validate(
        variant([(ACTION, DCTERMS.extent), (ACTION, PAIR.hasStatus), (ACTION, MLD.reussite)])
    )
    assert report.conforms
    assert [r.source_shape for r in report.warnings] == [
        SHAPES["Recommande-duree"],
        SHAPES["Recommande-statut"],
        SHAPES["Recommande-reussite"],
    ]


# ---------------------------------------------------------------- messages
def test_report_text_gives_the_messages_in_french_by_default_and_in_english():
    report = validate(
        variant(
            [(ACTION, DCTERMS.extent), (ACTION, DCTERMS.temporal)],
            '<#action> dct:temporal "20x7"^^xsd:gYear .',
        )
    )
    french, english = report_text(report), report_text(report, lang="en")
    assert french.startswith("Non conforme : 1 fiche(s), 1 violation(s), 1 avertissement(s).")
    assert f"Fiche <{FICHE}>" in french
    assert "Violation · dct:temporal · Année(s) de mise en œuvre : indiquez au moins" in french
    assert 'valeur : "20x7"^^xsd:gYear' in french
    assert "Avertissement · schema:mainEntity/dct:extent · Durée de l'action non" in french
    assert "Durée de l'action non renseignée." in french
    assert english.startswith("Does not conform: 1 record(s), 1 violation(s), 1 warning(s).")
    assert "Year(s) of implementation: give at least one year, as four digits" in english
    assert "Duration of the action not given." in english
    assert "Durée" not in english


def test_every_result_carries_both_messages():
    report = validate(
        variant([(FICHE, DCTERMS.license), (ACTION, MLD.reussite)], '<> dct:title "Titel"@de .')
    )
    assert len(report.results) == 3
    for result in report.results:
        assert result.message_fr and result.message_en
        assert result.message_fr != result.message_en
        assert result.name_fr and result.name_en


def test_the_year_pattern_is_needed_because_pyshacl_accepts_any_gyear():
    """Regression guard for research/vocabulary.md §6: without sh:pattern, "20x7" would pass."""
    shapes = Graph() + load_shapes()
    shapes.remove((SHAPES["Action-annees"], SH.pattern, None))
    data = variant([(ACTION, DCTERMS.temporal)], '<#action> dct:temporal "20x7"^^xsd:gYear .')
    assert validate(data, shapes=shapes).conforms
    assert Literal("20x7", datatype=XSD.gYear) in set(data.objects(ACTION, DCTERMS.temporal))
