"""Author fields: every raw string of the seed, the alias table, casing and free text."""

from pathlib import Path

import pytest

from memoires_ld.authors import (
    Aliases,
    canonical_case,
    load_aliases,
    parse_aliases,
    parse_authors,
)
from memoires_ld.errors import SourceError
from memoires_ld.importers.listing import read_listing
from memoires_ld.iris import slugify

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = DATA / "sources" / "000_e007d1e8de5994bf.txt"

P, ORG = "person", "organization"
ROMAIN = ("Romain Lalande", P, "")

#: Every author string of the seed → the agents expected, as (name, kind, role).
SEED_AUTHORS = {
    "Alice": [("Alice Oechsner", P, "")],
    "Alice Oechsner": [("Alice Oechsner", P, "")],
    "Alice Oechner, Romain Lalande, Sarah Gaucher, Sylvain Boyer": [
        ("Alice Oechsner", P, ""),
        ROMAIN,
        ("Sarah Gaucher", P, ""),
        ("Sylvain Boyer", P, ""),
    ],
    "Catherine Lenoble - FunLab": [("Catherine Lenoble", P, ""), ("FunLab", ORG, "")],
    "Catherine Lenoble, Malvina Balmes, Romain Lalande": [
        ("Catherine Lenoble", P, ""),
        ("Malvina Balmes", P, ""),
        ROMAIN,
    ],
    "Collectif Osons": [("Collectif Osons", ORG, "")],
    "Cyrille Giquello , Olivier Heinry, Romain Lalande": [
        ("Cyrille Giquello", P, ""),
        ("Olivier Heinry", P, ""),
        ROMAIN,
    ],
    "Cyrille Giquello, Malvina Balmes, Romain Lalande": [
        ("Cyrille Giquello", P, ""),
        ("Malvina Balmes", P, ""),
        ROMAIN,
    ],
    "Cyrille Giquello, Romain Lalande": [("Cyrille Giquello", P, ""), ROMAIN],
    "Emmanuel VANDAMME, Lilian RICAUD, Romain LALANDE": [
        ("Emmanuel Vandamme", P, ""),
        ("Lilian Ricaud", P, ""),
        ROMAIN,
    ],
    "Fabien Vidal, Coopaxis": [("Fabien Vidal", P, ""), ("Coopaxis", ORG, "")],
    "FunLab - Romain Lalande": [("FunLab", ORG, ""), ROMAIN],
    "Isabelle Bapteste (rédaction et intervention), Fabrice Villard, Cyrille Giquello, "
    "Romain lalande, Jehan, Mathilde, Sébastien": [
        ("Isabelle Bapteste", P, "rédaction et intervention"),
        ("Fabrice Villard", P, ""),
        ("Cyrille Giquello", P, ""),
        ROMAIN,
        ("Jehan", P, ""),
        ("Mathilde", P, ""),
        ("Sébastien", P, ""),
    ],
    "ROmain Lalande, Stephane Caillaud, Hervé Paris, Florence Le Nulzec": [
        ROMAIN,
        ("Stephane Caillaud", P, ""),
        ("Hervé Paris", P, ""),
        ("Florence Le Nulzec", P, ""),
    ],
    "Romain Lalande": [ROMAIN],
    "Romain Lalande - sur un concept, une animation et une expérimentation de Simon Sarazin": [
        ROMAIN,
        ("Simon Sarazin", P, ""),
    ],
    "Romain Lalande / Maelle Diné": [ROMAIN, ("Maelle Diné", P, "")],
    "Romain Lalande, Dimitri Robert": [ROMAIN, ("Dimitri Robert", P, "")],
    "Romain Lalande, Malvina Balmes, Cyrille Giquello, Stephane Caillaud": [
        ROMAIN,
        ("Malvina Balmes", P, ""),
        ("Cyrille Giquello", P, ""),
        ("Stephane Caillaud", P, ""),
    ],
    "Romain Lalande, Sarah Gaucher": [ROMAIN, ("Sarah Gaucher", P, "")],
    "Romain Lalande, Sylvain Boyer": [ROMAIN, ("Sylvain Boyer", P, "")],
    "Romain Lalande, VECAM": [ROMAIN, ("VECAM", ORG, "")],
    "Sarah Gaucher": [("Sarah Gaucher", P, "")],
    "Sarah Gaucher ; Alice Oechsner": [("Sarah Gaucher", P, ""), ("Alice Oechsner", P, "")],
    "Sarah Gaucher, Romain Lalande": [("Sarah Gaucher", P, ""), ROMAIN],
    "Sylvain Boyer": [("Sylvain Boyer", P, "")],
    # "(Collectif Osons)" is an affiliation, not a role; the free text after "//" only
    # yields the organisation the alias table knows.
    "Sylvain Boyer, Romain Lalande (Collectif Osons) // Inspirations multiples dont Outils "
    "Réseau et d'autres cités dans les documents": [
        ("Sylvain Boyer", P, ""),
        ROMAIN,
        ("Outils-Réseaux", ORG, ""),
    ],
}


@pytest.fixture(scope="module")
def aliases() -> Aliases:
    return load_aliases(DATA)


def described(agents) -> list[tuple[str, str, str]]:
    return [(a.name, a.kind, a.role) for a in agents]


@pytest.mark.parametrize(("raw", "expected"), SEED_AUTHORS.items(), ids=range(len(SEED_AUTHORS)))
def test_every_author_string_of_the_seed(aliases, raw, expected):
    agents = parse_authors(raw, aliases)
    assert described(agents) == expected
    assert all(a.slug == slugify(a.name) for a in agents)


def test_the_table_covers_every_author_string_of_the_seed():
    records = read_listing(SEED)
    assert {r.authors_raw for r in records} == set(SEED_AUTHORS)
    for record in records:
        assert described(record.authors) == SEED_AUTHORS[record.authors_raw]


def test_casing_variants_are_one_agent(aliases):
    variants = ["Romain Lalande", "ROmain Lalande", "Romain LALANDE", "Romain lalande"]
    slugs = {parse_authors(v, aliases)[0].slug for v in variants}
    assert slugs == {"romain-lalande"}


@pytest.mark.parametrize(
    ("name", "cased"),
    [
        ("ROmain LALANDE", "Romain Lalande"),
        ("romain lalande", "Romain Lalande"),
        ("Florence Le Nulzec", "Florence Le Nulzec"),
        ("JEAN-PIERRE DURAND", "Jean-Pierre Durand"),
        ("Anne McLeod", "Anne McLeod"),
        ("Simone de Beauvoir", "Simone de Beauvoir"),
        ("JEAN D'ORMESSON", "Jean D'Ormesson"),
    ],
)
def test_canonical_case(name, cased):
    assert canonical_case(name) == cased


def test_agents_are_deduplicated_keeping_a_role(aliases):
    agents = parse_authors(
        "Romain Lalande, ROMAIN LALANDE (animation), Alice, Alice Oechner", aliases
    )
    assert described(agents) == [("Romain Lalande", P, "animation"), ("Alice Oechsner", P, "")]


def test_nothing_is_invented_from_free_text(aliases):
    agents = parse_authors("Jehan - sur une idée de Jean Dupont et d'autres", aliases)
    assert described(agents) == [("Jehan", P, "")]
    assert parse_authors("", aliases) == []


def test_typos_and_first_names_merge_only_through_the_table():
    empty = Aliases()
    assert described(parse_authors("Alice, Alice Oechner", empty)) == [
        ("Alice", P, ""),
        ("Alice Oechner", P, ""),
    ]
    assert described(parse_authors("VECAM", empty)) == [("Vecam", P, "")]


def test_the_alias_table_file(aliases):
    text = (DATA / "aliases.csv").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "variant,canonical,kind" in text.splitlines()
    assert aliases.get("alice oechner").canonical == "Alice Oechsner"
    assert aliases.get("Outils Réseau").kind == "organization"
    assert aliases.get("Outils-Réseaux").canonical == "Outils-Réseaux"  # canonical names too
    assert aliases.get("Jehan") is None
    assert load_aliases(DATA / "aliases.csv") == aliases == load_aliases()


def test_a_bad_alias_line_names_its_line(tmp_path):
    (tmp_path / "aliases.csv").write_text(
        "# comment\nvariant,canonical,kind\nBob,Robert Martin,person\nVECAM,VECAM,association\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as caught:
        load_aliases(tmp_path)
    assert caught.value.line == 4


def test_a_missing_alias_table(tmp_path):
    with pytest.raises(SourceError, match="introuvable"):
        load_aliases(tmp_path)


def test_alias_lookup_ignores_case_spaces_and_apostrophes():
    table = parse_aliases("variant,canonical,kind\nJean  d'Ormesson,Jean d’Ormesson,person\n")
    assert table.get("JEAN D’ORMESSON").canonical == "Jean d’Ormesson"
