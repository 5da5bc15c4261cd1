"""Import → export → import loses nothing, on the 38 seed fiches.

data/rdf is exported as Bazar entries (`memoires-ld export yeswiki`), served by a fake
YesWiki 4.x with the constructed form, imported into an empty data folder, and the graphs
compared. The one thing a Bazar entry cannot carry is named and checked: the editorial
notes (`skos:editorialNote`), which describe our copy of the scraped listing (characters
repaired or doubtful), not the entry. `prov:wasGeneratedBy` names the import run, which
differs by design.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import PROV, SKOS
from yeswiki_fake import running

from memoires_ld import datadir
from memoires_ld.cli import main
from memoires_ld.iris import DEFAULT_BASE

ROOT = Path(__file__).resolve().parents[1]
NOT_CARRIED = {SKOS.editorialNote}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fiches(data: Path) -> Graph:
    g = Graph()
    for _, graph in datadir.read_fiches(data, DEFAULT_BASE):
        g += graph
    g.remove((None, PROV.wasGeneratedBy, None))
    return g


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("export") / "entries.json"
    result = run("--data", ROOT / "data", "export", "yeswiki", "--form", "5", "--output", out)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def reimported(tmp_path_factory, exported) -> Path:
    data = tmp_path_factory.mktemp("data")
    shutil.copy(ROOT / "data/aliases.csv", data / "aliases.csv")
    with running() as wiki:
        wiki.modern(entries=json.loads(exported[0].read_text(encoding="utf-8")))
        result = run("--data", data, "import", "yeswiki", wiki.base)
    assert result.exit_code == 0, result.output
    assert "nouvelle(s) : 38" in result.output
    return data


def test_the_export_has_the_shape_of_the_entries_api(exported):
    path, output = exported
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert len(entries) == 38
    entry = entries["DiagnosticEnMarchantAvecUmapCartographie"]
    assert entry["id_fiche"] == "DiagnosticEnMarchantAvecUmapCartographie"
    assert entry["id_typeannonce"] == "5"
    assert entry["statut_fiche"] == "1"
    assert entry["checkboxListeNatureAction"] == "1,2"
    assert entry["checkboxListeNombreParticipants"] == "1,2,4"
    assert entry["listeListeLicence"] == "1"
    assert entry["date_creation_fiche"] == "2017-08-20 09:22:00"
    assert entry["bf_description"].startswith("Organisation d'un diagnostic")
    assert "\r\n - Ballade urbaine" in entry["bf_description"]
    assert entry["owner"] == "WikiAdmin"
    assert entry["url"] == "http://osons.cc/wakka.php?wiki=DiagnosticEnMarchantAvecUmapCartographie"
    assert not {"user", "html_data", "createur"} & {key for e in entries.values() for key in e}
    assert "38 fiche(s) exportée(s), 6 perte(s) signalée(s)." in output
    assert output.count("note(s) éditoriale(s) non exportée(s)") == 6


def test_reimporting_the_export_gives_back_the_published_graphs(reimported):
    committed, again = fiches(ROOT / "data"), fiches(reimported)
    _, only_committed, only_again = graph_diff(to_isomorphic(committed), to_isomorphic(again))
    assert len(committed) > 38 * 30
    assert len(only_again) == 0, only_again.serialize(format="nt")[:3000]
    lost = {p for _, p, _ in only_committed}
    assert lost <= NOT_CARRIED, only_committed.serialize(format="nt")[:3000]
    assert len(only_committed) == 12  # the notes of six fiches
    assert sorted(p.name for p in (reimported / "rdf/fiches").iterdir()) == sorted(
        p.name for p in (ROOT / "data/rdf/fiches").iterdir()
    )


def test_exporting_again_gives_the_same_entries(exported, reimported, tmp_path):
    out = tmp_path / "again.json"
    result = run("--data", reimported, "export", "yeswiki", "--output", out)
    assert result.exit_code == 0, result.output
    assert "0 perte(s) signalée(s)" in result.output
    assert out.read_text(encoding="utf-8") == exported[0].read_text(encoding="utf-8")


def test_the_export_refuses_a_value_the_mapping_has_no_key_for(tmp_path):
    mapping = tmp_path / "sans-conference.toml"
    text = (ROOT / "mappings/osons-memoires-action.toml").read_text(encoding="utf-8")
    mapping.write_text(text.replace(', "5" = "conference" }', " }"), encoding="utf-8")
    result = run("--data", ROOT / "data", "export", "yeswiki", "--mapping", mapping)
    assert result.exit_code == 2
    assert "la valeur « conference » n'a pas de clé de liste" in result.output
    assert "checkboxListeNatureAction" in result.output
