"""The compiled shapes (shape_check.py) never say "conforms" where pyshacl finds a violation."""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from test_shapes import CONFORMING, FICHE, RECOMMENDED, VIOLATIONS, valid_fiche, variant

from memoires_ld import shape_check, validation
from memoires_ld.iris import DEFAULT_BASE

SYNTHETIC = Path(__file__).parent / "data"


def triples(graph: Graph) -> list[ox.Triple]:
    return list(ox.parse(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES))


def verdicts(graph: Graph) -> tuple[bool, bool]:
    return shape_check.surely_conforms(triples(graph)), validation.validate(graph).conforms


def test_our_shapes_compile():
    assert shape_check.compiled() is not None


def test_the_valid_fiche_surely_conforms():
    assert verdicts(valid_fiche()) == (True, True)


@pytest.mark.parametrize(("remove", "add"), CONFORMING.values(), ids=CONFORMING.keys())
def test_conforming_variants_surely_conform(remove, add):
    assert verdicts(variant(remove, add)) == (True, True)


@pytest.mark.parametrize(("remove", "add", "path", "shape", "focus"), VIOLATIONS)
def test_violations_are_never_passed(remove, add, path, shape, focus):
    assert verdicts(variant(remove, add)) == (False, False)


@pytest.mark.parametrize(("prop", "shape"), RECOMMENDED)
def test_a_missing_recommended_field_is_only_a_warning(prop, shape):
    g = valid_fiche()
    g.remove((None, prop, None))
    assert verdicts(g) == (True, True)


def test_random_damage_is_never_passed():
    """Triples dropped or objects swapped at random: wherever pyshacl finds a violation,
    the compiled shapes do too (the other way round is allowed: pyshacl then decides)."""
    rng = random.Random(7)
    base = list(valid_fiche())
    objects = [o for _, _, o in base] + [
        Literal("x"),
        Literal("2017", datatype=XSD.gYear),
        Literal("20x7", datatype=XSD.gYear),
        Literal("2018-04-13T13:02:00", datatype=XSD.dateTime),
        Literal("2030-01-01T00:00:00Z", datatype=XSD.dateTime),
        Literal("titre", lang="de"),
        URIRef("ftp://example.org/x"),
    ]
    seen = {True: 0, False: 0}
    for _ in range(150):
        g = Graph()
        for s, p, o in base:
            if rng.random() < 0.03:
                continue
            g.add((s, p, rng.choice(objects) if rng.random() < 0.03 else o))
        fast, slow = verdicts(g)
        assert fast <= slow, g.serialize(format="turtle")
        seen[slow] += 1
    assert seen[True] and seen[False]


def test_data_that_widens_targets_goes_to_pyshacl():
    g = valid_fiche()
    g.add((URIRef(DEFAULT_BASE + "Kind"), RDFS.subClassOf, URIRef(str(FICHE))))
    assert shape_check.surely_conforms(triples(g)) is False


def test_a_shape_feature_not_compiled_is_refused():
    shapes = Graph()
    shape = URIRef("urn:x:shape")
    shapes.add((shape, RDF.type, SH.NodeShape))
    shapes.add((shape, SH.targetClass, URIRef("urn:x:C")))
    shapes.add((shape, SH.sparql, URIRef("urn:x:query")))
    with pytest.raises(shape_check.Unsupported):
        shape_check.CompiledShapes(shapes)
