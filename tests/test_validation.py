"""The validation API: validate, validate_many, validate_files, report_text, report_summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from memoires_ld import validation
from memoires_ld.datadir import to_relative_turtle
from memoires_ld.errors import SourceError
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.namespaces import SCHEMA, SHAPES

DATA = Path(__file__).parent / "data"
FICHE = URIRef(DEFAULT_BASE + "fiche/AccompagnementDUnReseauAssociatifSurLaMu")
ACTION = URIRef(FICHE + "#action")


def valid_fiche() -> Graph:
    return Graph().parse(DATA / "fiche-valide.ttl", format="turtle")


def without(*pairs) -> Graph:
    g = valid_fiche()
    for s, p in pairs:
        g.remove((s, p, None))
    return g


def test_load_shapes_is_parsed_once_and_stays_as_it_is():
    shapes = validation.load_shapes()
    assert validation.load_shapes() is shapes
    validation.validate(valid_fiche())  # pyshacl adds its two "system triples" the first time
    before = set(shapes)
    validation.validate(without((FICHE, DCTERMS.title)))
    assert set(shapes) == before


def test_warnings_do_not_break_conformance_but_stay_in_the_raw_report():
    report = validation.validate(without((ACTION, DCTERMS.extent)))
    assert report.conforms
    assert len(report.warnings) == 1
    # SHACL's own verdict is stricter: any result, warnings too, means sh:conforms false.
    assert (None, SH.conforms, Literal(False)) in report.graph


def test_an_sh_node_failure_is_reported_by_its_details():
    """pyshacl nests what is wrong with the action under sh:detail: the report shows that."""
    report = validation.validate(without((ACTION, DCTERMS.type)))
    [result] = report.violations
    assert result.source_shape == SHAPES["Action-nature"]
    assert (result.focus, result.fiche) == (ACTION, FICHE)
    [wrapper] = report.graph.subjects(SH.detail, None)
    assert report.graph.value(wrapper, SH.sourceShape) == SHAPES["Fiche-action"]
    assert report.graph.value(wrapper, SH.resultPath) == SCHEMA.mainEntity


def test_validate_many_puts_one_report_per_fiche_together():
    other = Graph()
    for s, p, o in without((FICHE, DCTERMS.license)):
        rename = {
            FICHE: URIRef(DEFAULT_BASE + "fiche/Autre"),
            ACTION: URIRef(DEFAULT_BASE + "fiche/Autre#action"),
        }
        other.add((rename.get(s, s), p, rename.get(o, o)))
    report = validation.validate_many([valid_fiche(), other, without((ACTION, DCTERMS.extent))])
    assert not report.conforms
    assert len(report.fiches) == 3
    assert [r.fiche for r in report.violations] == [URIRef(DEFAULT_BASE + "fiche/Autre")]
    assert len(report.warnings) == 1
    assert len(list(report.graph.subjects(RDF.type, SH.ValidationReport))) == 1
    assert len(list(report.graph.objects(None, SH.result))) == 2
    assert (None, SH.conforms, Literal(False)) in report.graph
    text = validation.report_text(report)
    assert text.count("\nFiche <") == 2


def test_validate_many_of_conforming_fiches():
    report = validation.validate_many([valid_fiche(), valid_fiche()])
    assert report.conforms
    assert (None, SH.conforms, Literal(True)) in report.graph
    assert (
        validation.report_text(report)
        == "Conforme : 2 fiche(s), 0 violation(s), 0 avertissement(s)."
    )


def test_validate_files_resolves_relative_iris_against_the_base(tmp_path):
    folder = tmp_path / "rdf" / "fiches"
    folder.mkdir(parents=True)
    graph = valid_fiche()
    (folder / "AccompagnementDUnReseauAssociatifSurLaMu.ttl").write_text(
        to_relative_turtle(graph), encoding="utf-8"
    )
    (tmp_path / ".rdf-old").mkdir()
    (tmp_path / ".rdf-old" / "stale.ttl").write_text("not turtle", encoding="utf-8")
    files = validation.files_to_validate([tmp_path])
    assert [f.name for f in files] == ["AccompagnementDUnReseauAssociatifSurLaMu.ttl"]
    report = validation.validate_files(files, base="https://memoires.example.org/")
    assert report.conforms
    assert report.fiches == [
        URIRef("https://memoires.example.org/fiche/AccompagnementDUnReseauAssociatifSurLaMu")
    ]


def test_an_unreadable_file_is_a_source_error(tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .", encoding="utf-8")
    with pytest.raises(SourceError, match="Turtle illisible"):
        validation.validate_files([broken], base=DEFAULT_BASE)


def test_report_summary_is_json():
    report = validation.validate(without((FICHE, DCTERMS.license), (ACTION, DCTERMS.extent)))
    summary = json.loads(json.dumps(validation.report_summary(report)))
    assert summary["conforms"] is False
    assert summary["fiches"] == 1
    [violation] = summary["violations"]
    assert violation["path"] == "dct:license"
    assert violation["severity"] == "Violation"
    assert violation["shape"] == str(SHAPES["Fiche-licence"])
    assert violation["message"]["fr"].startswith("Licence : choisissez-en une")
    [warning] = summary["warnings"]
    assert warning["path"] == "schema:mainEntity/dct:extent"
