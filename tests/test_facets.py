"""The facet index: counts of the seed, YesWiki's OR/AND semantics, sorting, pages.

The oracle is computed here from the quads themselves (not through the index's SPARQL).
"""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from synthetic import quads, synthetic_store

from memoires_ld import bitsets, facets
from memoires_ld.facets import FACETS, FacetIndex, Query
from memoires_ld.iris import DEFAULT_BASE
from memoires_ld.store import open_store

ROOT = Path(__file__).resolve().parents[1]

SEED_COUNTS = {
    "nature": {
        "formation": 19,
        "animation-temps-collectif": 15,
        "accompagnement": 10,
        "education-populaire": 7,
        "conference": 2,
    },
    "statut": {"terminee": 27, "annulee": 6, "en-cours": 4},
    "annee": {"2017": 18, "2018": 14, "2016": 13, "2015": 4, "2014": 2},
}


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> FacetIndex:
    tmp = tmp_path_factory.mktemp("seed")
    shutil.copytree(ROOT / "data/rdf", tmp / "data/rdf")
    return FacetIndex.from_store(open_store(tmp / "instance", tmp / "data", DEFAULT_BASE))


def oracle_values(n: int, seed: int = 1) -> dict[str, dict[str, set[str]]]:
    """fiche IRI → facet → keys, read straight from the synthetic quads."""
    facet_of = {f.predicate: f for f in FACETS}
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for quad in quads(n, seed):
        facet = facet_of.get(quad.predicate.value)
        if facet is None:
            continue
        value = quad.object.value
        if facet.kind == "concept":
            value = {v: k for k, v in facets.notations(facet.name).items()}[value]
        elif facet.kind == "agent":
            value = value.rsplit("/", 1)[-1]
        found[quad.graph_name.value][facet.name].add(value)
    for iri in found:  # none harvested (the fiches are in their own graphs)
        found[iri]["source"] = {facets.LOCAL}
    return found


def expected(values, query: Query, skip: str | None = None) -> set[str]:
    """YesWiki's rule: a fiche passes a facet if it has any selected key; it must pass all."""
    return {
        iri
        for iri, mine in values.items()
        if all(mine[name] & keys for name, keys in query.filters.items() if name != skip)
    }


def test_counts_of_the_seed(seed: FacetIndex):
    result = seed.find(Query())
    assert result.total == len(seed) == 38
    for facet, counts in SEED_COUNTS.items():
        assert {k: v for k, v in result.counts[facet].items() if v} == counts


def test_or_within_a_facet_and_across_facets(seed: FacetIndex):
    formation = seed.find(Query({"nature": frozenset({"formation"})})).total
    accompagnement = seed.find(Query({"nature": frozenset({"accompagnement"})})).total
    both = seed.find(Query({"nature": frozenset({"formation", "accompagnement"})}))
    assert max(formation, accompagnement) < both.total <= formation + accompagnement
    in_2017 = seed.find(
        Query({"nature": frozenset({"formation", "accompagnement"}), "annee": frozenset({"2017"})})
    )
    assert in_2017.total < both.total
    assert all("2017" in f.keys("annee") for f in in_2017.items)
    assert all({"formation", "accompagnement"} & set(f.keys("nature")) for f in in_2017.items)


def test_counts_are_disjunctive(seed: FacetIndex):
    """A facet's own selection does not narrow its counts; the other facets' do."""
    query = Query({"nature": frozenset({"formation"}), "statut": frozenset({"annulee"})})
    result = seed.find(query)
    only_cancelled = seed.find(Query({"statut": frozenset({"annulee"})}))
    only_training = seed.find(Query({"nature": frozenset({"formation"})}))
    assert result.counts["nature"] == only_cancelled.counts["nature"]
    assert result.counts["statut"] == only_training.counts["statut"]
    assert result.counts["nature"]["formation"] == result.total
    assert sum(result.counts["annee"].values()) >= result.total


@pytest.mark.parametrize("seed_number", [1, 2, 3])
def test_random_selections_against_an_oracle(seed_number: int):
    store = synthetic_store(600, seed_number)
    index, values = FacetIndex.from_store(store), oracle_values(600, seed_number)
    rng = random.Random(seed_number)
    keys = {f.name: sorted({k for v in values.values() for k in v[f.name]}) for f in FACETS}
    for _ in range(25):
        chosen = rng.sample([f.name for f in FACETS], rng.randint(1, 3))
        query = Query({n: frozenset(rng.sample(keys[n], min(2, len(keys[n])))) for n in chosen})
        result = index.find(query, None)
        assert result.total == len(expected(values, query))
        for facet in FACETS:
            pool = expected(values, query, skip=facet.name)
            for key, count in result.counts[facet.name].items():
                assert count == sum(1 for iri in pool if key in values[iri][facet.name])


def test_titles_sort_as_a_reader_expects(seed: FacetIndex):
    titles = [f.title for f in seed.find(Query(per_page=100)).items]
    assert titles == sorted(titles, key=facets.title_key)
    assert facets.title_key("Éducation") < facets.title_key("Emploi") < facets.title_key("zèbre")
    assert facets.title_key("« Œuvre collective »").startswith("oeuvre collective")
    reverse = [f.title for f in seed.find(Query(sort="-titre", per_page=100)).items]
    assert reverse == titles[::-1]


@pytest.mark.parametrize(
    ("order", "key", "descending"),
    [
        ("-modification", lambda f: datetime.fromisoformat(f.modified), True),
        ("creation", lambda f: datetime.fromisoformat(f.created), False),
        ("-annee", lambda f: max(f.keys("annee") or ["0"]), True),
        ("annee", lambda f: min(f.keys("annee") or ["9999"]), False),
    ],
)
def test_sort_orders(seed: FacetIndex, order, key, descending):
    items = seed.find(Query(sort=order, per_page=100)).items
    found = [key(f) for f in items]
    assert found == sorted(found, reverse=descending)


def test_pages_cover_the_results_once(seed: FacetIndex):
    query = Query({"nature": frozenset({"formation", "animation-temps-collectif"})})
    everything = seed.find(Query(query.filters, per_page=100)).items
    pages = seed.find(Query(query.filters, per_page=7)).pages
    assert pages == -(-len(everything) // 7)
    seen = []
    for page in range(1, pages + 1):
        seen += seed.find(Query(query.filters, sort="", page=page, per_page=7)).items
    assert seen == everything


def test_top_authors_get_counts_any_author_can_be_selected(seed: FacetIndex, monkeypatch):
    assert seed.find(Query()).counts["auteur"]["sarah-gaucher"] == 11
    monkeypatch.setattr(facets, "TOP_AGENTS", 2)
    small = FacetIndex(seed.version, seed.fiches, seed.agent_names)
    counts = small.find(Query()).counts["auteur"]
    assert set(counts) == {"romain-lalande", "sarah-gaucher"}
    picked = small.find(Query({"auteur": frozenset({"alice-oechsner"})}))
    assert picked.total == 5 == picked.counts["auteur"]["alice-oechsner"]


def test_text_matches_narrow_and_order_the_results(seed: FacetIndex):
    matches = [seed.ordinal[f.iri] for f in seed.fiches[:10]][::-1]
    result = seed.find(Query(text="x", per_page=100), matches)
    assert [seed.ordinal[f.iri] for f in result.items] == matches
    formation = seed.find(Query({"nature": frozenset({"formation"})}, text="x"), matches)
    assert formation.total == sum(1 for f in seed.fiches[:10] if "formation" in f.keys("nature"))


def test_the_index_is_cached_per_store_version(seed: FacetIndex):
    store = synthetic_store(20)
    assert facets.index_for(store) is facets.index_for(store)
    assert facets.index_for(store).version == store.version


def test_bitsets():
    numbers = [0, 3, 8, 9, 64, 1000]
    bits = bitsets.from_members(numbers)
    assert bitsets.members(bits) == numbers
    assert bits.bit_count() == len(numbers)
    assert bitsets.keep([1000, 1, 3, 5000, 0], bits) == [1000, 3, 0]
    assert bitsets.from_members([]) == 0 and bitsets.members(0) == []
