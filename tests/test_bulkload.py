"""`memoires-ld load` on both backends: validated in parallel, cached, new / changed /
unchanged / invalid fiches; and the reused Validator's reports equal a fresh pyshacl run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, SH
from virtuoso_server import fresh
from web_fixtures import BASE, SEED

from memoires_ld import bulkload, config, datadir, history, validation
from memoires_ld.bulkload import CACHE, LOAD_DIGEST, REASON, Cache, load_files
from memoires_ld.cli import main
from memoires_ld.history import META_GRAPH
from memoires_ld.iris import Iris
from memoires_ld.loading import FicheFile, fiche_quads, file_digest, in_graph, new_fiche
from memoires_ld.store import open_configured
from memoires_ld.writes import now

FICHES = SEED / datadir.RDF_DIR / datadir.FICHES_DIR
TAGS = sorted(p.stem for p in FICHES.glob("*.ttl"))[:6]


def copy_fiches(target: Path, tags=TAGS) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for tag in tags:
        shutil.copy(FICHES / f"{tag}.ttl", target)
    return target


def broken(target: Path, tag: str) -> Path:
    """A copy of a seed fiche without its title (a violation)."""
    text = (FICHES / f"{tag}.ttl").read_text()
    graph = datadir.read_turtle(FICHES / f"{tag}.ttl", BASE)
    graph.remove((None, DCTERMS.title, None))
    (target / f"{tag}.ttl").write_text(datadir.to_relative_turtle(graph, BASE))
    assert text != (target / f"{tag}.ttl").read_text()
    return target / f"{tag}.ttl"


def test_load_new_unchanged_changed_and_invalid(tmp_path, backend):
    settings = config.load(
        {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(tmp_path / "data")}
        | fresh(backend)
    )
    (tmp_path / "data").mkdir()
    store = open_configured(settings, writable=True)
    folder = copy_fiches(tmp_path / "in")
    bad = broken(folder, TAGS[-1])
    cache = Cache(tmp_path / "instance" / CACHE)
    before = store.version
    files = sorted(folder.glob("*.ttl"))
    done = load_files(store, files, jobs=2, cache=cache)
    assert sorted(done.added) == TAGS[:-1] and done.validated == len(TAGS)
    assert [v.path for v in done.invalid] == [bad] and not store.has_graph(
        f"{BASE}fiche/{TAGS[-1]}"
    )
    assert store.version != before
    assert [r.number for r in history.revisions(store, TAGS[0])] == [1]

    graph = datadir.read_turtle(FICHES / f"{TAGS[0]}.ttl", BASE)
    graph.set((URIRef(f"{BASE}fiche/{TAGS[0]}"), DCTERMS.title, Literal("Nouveau", lang="fr")))
    (folder / f"{TAGS[0]}.ttl").write_text(datadir.to_relative_turtle(graph, BASE))
    again = load_files(store, files, jobs=2, cache=cache)
    assert again.validated == 1  # only the changed file; the others from the cache
    assert again.replaced == [TAGS[0]] and sorted(again.unchanged) == TAGS[1:-1]
    assert len(again.invalid) == 1  # the verdict kept
    assert [r.number for r in history.revisions(store, TAGS[0])] == [1, 2]
    cache.close()


def test_the_load_command(tmp_path):
    folder = copy_fiches(tmp_path / "in", TAGS[:3])
    (tmp_path / "data").mkdir()
    runner = CliRunner()
    env = {"MEMOIRES_LD_INSTANCE_DIR": str(tmp_path / "instance")}
    args = ["--data", str(tmp_path / "data"), "load", str(folder), "--jobs", "1"]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "3 ajoutée(s)" in result.output
    result = runner.invoke(main, args, env=env)
    assert "3 inchangée(s)" in result.output and "0 validée(s)" in result.output
    broken(folder, TAGS[0])
    assert runner.invoke(main, args, env=env).exit_code == 1


@pytest.mark.parametrize("tag", TAGS[:3])
def test_the_reused_validator_reports_as_a_fresh_pyshacl_run(tag):
    graph = datadir.read_turtle(FICHES / f"{tag}.ttl", BASE)
    fiche = URIRef(f"{BASE}fiche/{tag}")
    graph.remove((fiche, DCTERMS.title, None))
    graph.add((fiche, DCTERMS.license, URIRef("http://example.org/not-a-licence")))
    ours = validation.validate(graph).graph
    fresh_graph = pyshacl.validate(graph, shacl_graph=validation.load_shapes())[1]

    def results(report):
        return sorted(
            (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
             str(report.value(r, SH.sourceConstraintComponent)))
            for r in report.subjects(RDF.type, SH.ValidationResult)
        )  # fmt: skip

    assert results(ours) == results(fresh_graph) and len(results(ours)) >= 2


def test_validate_whole_agrees(tmp_path):
    files = sorted(FICHES.glob("*.ttl"))[:5]
    whole = validation.validate_whole(datadir.read_turtle(f, BASE) for f in files)
    assert whole.conforms == validation.validate_files(files, base=BASE).conforms
    result = CliRunner().invoke(main, ["validate", "--whole", *map(str, files)])
    assert result.exit_code == 0, result.output


# -- the quads the workers build (#7: one parse per file, N-Quads to the store) -------------

BLANK = """
<fiche/{tag}> schema:spatialCoverage _:b1 .
_:b1 schema:name "Lieu {tag}" ; schema:containedInPlace _:b2 .
_:b2 schema:name "Région" .
"""


def with_blank_nodes(target: Path, tags) -> list[Path]:
    """Copies of seed fiches, each with the same blank node labels _:b1 and _:b2."""
    copy_fiches(target, tags)
    for tag in tags:
        path = target / f"{tag}.ttl"
        path.write_text(path.read_text() + BLANK.format(tag=tag))
    return [target / f"{tag}.ttl" for tag in tags]


def as_rdflib(quads) -> rdflib.Graph:
    graph = rdflib.Graph()
    for q in quads:
        graph.add((bulkload._term(q.subject), URIRef(q.predicate.value), bulkload._term(q.object)))
    return graph


def test_stored_as_by_the_reference_path_and_blank_nodes_kept_apart(tmp_path, backend):
    """Each graph `load_files` stores is isomorphic to what `loading.fiche_quads` (the
    path of load_data) builds from the same files; two fiches whose files use the same
    blank node labels keep distinct nodes. Virtuoso: the workers' files through its bulk
    loader as they are written."""
    stored_as_by_the_reference_path(tmp_path, fresh(backend))


def test_stored_the_same_through_the_graph_store_protocol(tmp_path, virtuoso):
    """The same on a store known only by its protocols (the files parsed, their graphs
    POSTed to the Graph Store)."""
    stored_as_by_the_reference_path(tmp_path, fresh(virtuoso.settings(adapter=False, gsp=True)))


def stored_as_by_the_reference_path(tmp_path, store_settings: dict) -> None:
    settings = config.load(
        {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(tmp_path / "data")}
        | store_settings
    )
    (tmp_path / "data").mkdir()
    store = open_configured(settings, writable=True)
    files = with_blank_nodes(tmp_path / "in", TAGS[:3])
    done = load_files(store, files, jobs=2)
    assert sorted(done.added) == TAGS[:3] and not done.invalid

    iris = Iris(BASE)
    at = history.revisions(store, TAGS[0])[0].at
    fiches = [FicheFile(p.stem, p, file_digest(p)) for p in files]
    built = list(fiche_quads(BASE, fiches, reason=REASON, digest_key=LOAD_DIGEST, at=at))
    assert [r.number for r in history.revisions(store, TAGS[0])] == [1]
    if not store_settings.get("STORE"):  # Oxigraph keeps "1"^^xsd:nonNegativeInteger as xsd:integer
        memory = ox.Store()
        memory.bulk_extend(built)
        built = list(memory)
    reference: dict = {}
    for q in built:
        reference.setdefault(q.graph_name, []).append(q)
    for tag in TAGS[:3]:
        for graph in (ox.NamedNode(iris.fiche(tag)), ox.NamedNode(iris.history(tag))):
            stored = as_rdflib(store.match(None, None, None, graph))
            assert len(stored) >= 10
            assert isomorphic(stored, as_rdflib(reference[graph])), graph
    digests = {q.subject: q.object for q in store.match(None, LOAD_DIGEST, None, META_GRAPH)}
    assert digests == {q.subject: q.object for q in reference[META_GRAPH]}

    blank = {
        tag: {
            q.object
            for q in store.match(None, None, None, ox.NamedNode(iris.fiche(tag)))
            if isinstance(q.object, ox.BlankNode)
        }
        for tag in TAGS[:3]
    }
    assert all(len(nodes) == 2 for nodes in blank.values())
    assert not set.intersection(*blank.values()), "two fiches share a blank node"


def test_new_fiche_gives_each_fiche_its_own_blank_nodes():
    """The same file built twice (two fiches, two processes' worth): no label in common."""
    iris, tag = Iris(BASE), TAGS[0]
    text = (FICHES / f"{tag}.ttl").read_text() + BLANK.format(tag=tag)
    triples = list(ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=BASE))
    f = FicheFile(tag, FICHES / f"{tag}.ttl", "0" * 64)
    labels = []
    for _ in range(2):
        nquads = new_fiche(iris, f, triples, reason="r", digest_key=LOAD_DIGEST, at=now())
        back = list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
        in_fiche = [q for q in back if q.graph_name == ox.NamedNode(iris.fiche(tag))]
        assert isomorphic(as_rdflib(in_fiche), as_rdflib(triples))  # every triple, once
        assert any(q.graph_name == ox.NamedNode(iris.history(tag)) for q in back)
        labels.append({t.value for q in back for t in (q.subject, q.object)
                       if isinstance(t, ox.BlankNode)})  # fmt: skip
    assert len(labels[0]) == 3  # _:b1, _:b2 and the revision's activity
    assert not labels[0] & labels[1]


@pytest.mark.parametrize("text", ["ligne 1 .\nligne 2 . ", "un nœud _:b1 écrit en toutes lettres"])
def test_in_graph_puts_each_triple_in_the_graph_as_it_is(text):
    """Without blank nodes, the N-Triples get their graph by a replace of each line's end
    (" .\n"): a literal that holds " ." and line breaks, or "_:", comes back whole."""
    s, p = ox.NamedNode(f"{BASE}fiche/x"), ox.NamedNode("http://schema.org/text")
    triples = [ox.Triple(s, p, ox.Literal(text, language="fr")), ox.Triple(s, p, s)]
    graph = ox.NamedNode(f"{BASE}fiche/x")
    back = list(ox.parse(in_graph(triples, graph), format=ox.RdfFormat.N_QUADS))
    assert sorted(map(str, back)) == sorted(str(ox.Quad(*t, graph)) for t in triples)


def test_a_cached_verdict_for_a_fiche_not_stored_yet(tmp_path):
    """A second, empty store loaded with the same cache: nothing validated again, every
    conforming fiche stored (built by the workers without a check), the invalid one not."""
    folder = copy_fiches(tmp_path / "in", TAGS[:4])
    bad = broken(folder, TAGS[3])
    files = sorted(folder.glob("*.ttl"))
    cache = Cache(tmp_path / CACHE)
    stores = []
    for name in ("one", "two"):
        settings = config.load(
            {"INSTANCE_DIR": str(tmp_path / name), "DATA_DIR": str(tmp_path / "data")}
        )
        (tmp_path / "data").mkdir(exist_ok=True)
        stores.append(open_configured(settings, writable=True))
    first = load_files(stores[0], files, jobs=2, cache=cache)
    second = load_files(stores[1], files, jobs=2, cache=cache)
    assert first.validated == 4 and second.validated == 0
    assert sorted(second.added) == TAGS[:3] and [v.path for v in second.invalid] == [bad]
    for tag in TAGS[:3]:
        graph = ox.NamedNode(Iris(BASE).fiche(tag))
        assert isomorphic(
            as_rdflib(stores[0].match(None, None, None, graph)),
            as_rdflib(stores[1].match(None, None, None, graph)),
        )
        assert [r.number for r in history.revisions(stores[1], tag)] == [1]
    assert not stores[1].has_graph(str(Iris(BASE).fiche(TAGS[3])))
    again = load_files(stores[1], files, jobs=2, cache=cache)
    assert sorted(again.unchanged) == TAGS[:3] and again.validated == 0 and not again.added
    cache.close()
