"""The seed import end to end: `data/rdf` is exactly what the command produces, and bad
input is refused with a clear error while nothing already written is lost."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from memoires_ld import datadir
from memoires_ld.cli import main
from memoires_ld.iris import DEFAULT_BASE

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data/sources/000_e007d1e8de5994bf.txt"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def union(data_dir: Path) -> Graph:
    g = Graph()
    for path in datadir.turtle_files(data_dir):
        g += datadir.read_turtle(path, DEFAULT_BASE)
    return g


def readable_diff(a: Graph, b: Graph) -> str:
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return "only in committed data:\n{}\nonly in regenerated:\n{}".format(
        only_a.serialize(format="nt")[:3000], only_b.serialize(format="nt")[:3000]
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    (data / "aliases.csv").write_bytes((ROOT / "data/aliases.csv").read_bytes())
    result = run("--data", data, "import", "listing", SEED)
    assert result.exit_code == 0, result.output
    assert "38 fiche(s) importée(s)" in result.output
    return data


def test_committed_data_is_what_the_import_writes(imported: Path):
    committed, regenerated = union(ROOT / "data"), union(imported)
    assert len(committed) > 38 * 30
    assert isomorphic(committed, regenerated), readable_diff(committed, regenerated)
    names = sorted(p.name for p in (imported / "rdf/fiches").iterdir())
    assert names == sorted(p.name for p in (ROOT / "data/rdf/fiches").iterdir())


def test_the_import_is_deterministic(imported: Path, tmp_path: Path):
    (tmp_path / "aliases.csv").write_bytes((ROOT / "data/aliases.csv").read_bytes())
    assert run("--data", tmp_path, "import", "listing", SEED).exit_code == 0
    assert datadir.version(tmp_path) == datadir.version(imported)


def test_validate_reports_warnings_but_conforms(imported: Path):
    result = run("--data", imported, "validate")
    assert result.exit_code == 0
    assert "38 fiche(s), 0 violation(s), 5 avertissement(s)" in result.output
    english = run("--data", imported, "validate", "--lang", "en")
    assert "warning" in english.output.lower()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t[: len(t) // 2], "ligne"),
        (
            lambda t: re.sub(r"(menée\s*:\s*)Conférence", r"\1Karaoké", t, count=1),
            "Karaoké",
        ),
        (
            lambda t: t.replace("créée le 13.04.2018 à 13:02", "créée le 31.02.2018 à 13:02", 1),
            "31.02.2018",
        ),
        (lambda t: "", "vide"),
    ],
    ids=["truncated", "unknown-facet-value", "bad-date", "empty"],
)
def test_bad_input_is_refused_and_nothing_is_written(imported, tmp_path, mutate, expected):
    before = datadir.version(imported)
    broken = tmp_path / "broken.txt"
    broken.write_text(mutate(SEED.read_text(encoding="utf-8")), encoding="utf-8")
    result = CliRunner().invoke(main, ["--data", str(imported), "import", "listing", str(broken)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert datadir.version(imported) == before


def test_a_fiche_that_does_not_conform_is_exit_1_and_nothing_written(imported, tmp_path):
    before = datadir.version(imported)
    text = SEED.read_text(encoding="utf-8")
    # swap the first fiche's dates: created ≤ modified no longer holds
    bad = text.replace(
        "créée le 13.04.2018 à 13:02, mise à jour le 13.04.2018 à 13:04.",
        "créée le 13.04.2018 à 13:04, mise à jour le 13.04.2018 à 13:02.",
        1,
    )
    assert bad != text
    broken = tmp_path / "broken.txt"
    broken.write_text(bad, encoding="utf-8")
    result = CliRunner().invoke(main, ["--data", str(imported), "import", "listing", str(broken)])
    assert result.exit_code == 1, result.output
    assert "violation" in result.output
    assert datadir.version(imported) == before


def test_validate_a_broken_file_exits_1_with_a_json_summary(imported, tmp_path):
    source = next((imported / "rdf/fiches").glob("*.ttl"))
    broken = tmp_path / "broken.ttl"
    broken.write_text(source.read_text().replace('"^^xsd:gYear', 'x"^^xsd:gYear'))
    result = run("--data", imported, "validate", broken, "--format", "json")
    assert result.exit_code == 1
    assert '"conforms": false' in result.output


def test_validate_an_unreadable_file_exits_2(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle <<<")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "bad.ttl" in result.output


def test_every_command_has_an_example_in_its_help():
    for args in (["--help"], ["import", "listing", "--help"], ["validate", "--help"]):
        result = run(*args)
        assert result.exit_code == 0
        assert "Example" in result.output
