"""IRIs are built in one place; these are the contracts the rest of the code relies on."""

import pytest

from memoires_ld import iris
from memoires_ld.iris import Iris


def test_instance_iris_live_under_the_base():
    ids = Iris("https://memoires.example.org")  # no trailing slash: added
    assert (
        str(ids.fiche("AtelierCohesionDEquipe"))
        == "https://memoires.example.org/fiche/AtelierCohesionDEquipe"
    )
    assert str(ids.action("X")) == "https://memoires.example.org/fiche/X#action"
    assert str(ids.agent("alice-oechsner")) == "https://memoires.example.org/agent/alice-oechsner"
    assert str(ids.dataset()) == "https://memoires.example.org/dataset"


def test_vocabulary_iris_are_the_same_on_every_instance():
    assert (
        str(iris.concept("nature", "formation"))
        == "https://w3id.org/memoires-ld/vocab/nature/formation"
    )
    with pytest.raises(ValueError):
        iris.scheme("karaoke")


def test_tags_are_escaped_and_read_back():
    ids = Iris()
    assert str(ids.fiche("a/b c")) == ids.base + "fiche/a%2Fb%20c"
    assert ids.tag_of(ids.action("Abc")) == "Abc"
    assert ids.tag_of("https://elsewhere.org/fiche/Abc") is None


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Alice Oechsner", "alice-oechsner"),
        ("Hervé Paris", "herve-paris"),
        ("Florence Le Nulzec", "florence-le-nulzec"),
        ("  Collectif   Osons ", "collectif-osons"),
    ],
)
def test_slugify(text, slug):
    assert iris.slugify(text) == slug
