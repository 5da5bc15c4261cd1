"""`memoires-ld load` on both backends: validated in parallel, cached, new / changed /
unchanged / invalid fiches; and the reused Validator's reports equal a fresh pyshacl run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyshacl
import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from virtuoso_server import fresh
from web_fixtures import BASE, SEED

from memoires_ld import config, datadir, history, validation
from memoires_ld.bulkload import CACHE, Cache, load_files
from memoires_ld.cli import main
from memoires_ld.store import open_configured

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
