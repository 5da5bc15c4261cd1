"""`memoires-ld import yeswiki` against a fake YesWiki on 127.0.0.1 (tests/yeswiki_fake.py).

Both API generations, incremental re-imports, privacy, and broken wikis: every failure
exits 2 with a French message naming the problem and leaves data/ exactly as it was.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV
from virtuoso_server import fresh
from yeswiki_fake import HTML_PAGE, example, legacy_part, running

from memoires_ld import config, datadir, history
from memoires_ld.cli import main
from memoires_ld.exporters.records import read_records
from memoires_ld.iris import DEFAULT_BASE, Iris, concept
from memoires_ld.store import open_configured

ROOT = Path(__file__).resolve().parents[1]
DIAGNOSTIC = "DiagnosticEnMarchantAvecUmapCartographie"
ANIMATION = "AnimationDUnSeminaireCoRedigerNosAppels"
ACCOMPAGNEMENT = "AccompagnementDUnReseauAssociatifSurLaMu"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def import_from(wiki, data: Path, *options):
    return run("--data", data, "import", "yeswiki", wiki.base, *options)


@pytest.fixture
def wiki():
    with running() as fake:
        yield fake


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(ROOT / "data/aliases.csv", folder / "aliases.csv")
    return folder


@pytest.fixture
def imported(wiki, data) -> Path:
    """A data folder holding the three constructed entries, imported from a 4.x wiki."""
    result = import_from(wiki.modern(), data)
    assert result.exit_code == 0, result.output
    return data


def published_text(data: Path) -> str:
    return "\n".join(path.read_text() for path in datadir.turtle_files(data))


def records(data: Path) -> dict:
    return {record.tag: record for record in read_records(data)}


# ---------------------------------------------------------------- both generations


def test_a_4x_wiki_is_read_through_its_api(wiki, data):
    result = import_from(wiki.modern(), data)
    assert result.exit_code == 0, result.output
    assert "(YesWiki 4.x), formulaire 5 « Mémoires d'action » : 3 fiche(s) publiée(s)" in (
        result.output
    )
    assert f"nouvelle(s) : 3 — {ACCOMPAGNEMENT}, {ANIMATION}, {DIAGNOSTIC}" in result.output
    assert wiki.requests == ["api/forms/5", "api/forms/5/entries"]
    found = records(data)
    diagnostic = found[DIAGNOSTIC]
    assert diagnostic.natures == [
        concept("nature", "formation"),
        concept("nature", "accompagnement"),
    ]
    assert diagnostic.participants == [
        concept("participants", "6-15"),
        concept("participants", "16-30"),
        concept("participants", "espace-public"),
    ]
    assert diagnostic.status == concept("statut", "terminee")
    assert diagnostic.years == [2016]
    assert diagnostic.created.isoformat() == "2017-08-20T09:22:40+02:00"
    assert diagnostic.modified.isoformat() == "2017-09-02T14:59:18+02:00"
    assert diagnostic.source == f"https://osons.cc/wakka.php?wiki={DIAGNOSTIC}"
    assert diagnostic.owner == "WikiAdmin"
    assert diagnostic.image == f"{DIAGNOSTIC}_argonne-avant.png"
    assert [b.kind for b in diagnostic.description] == ["paragraph", "list"]
    assert len(diagnostic.description[1].items) == 4
    assert [(link.kind, link.url) for link in diagnostic.links] == [
        ("reponse", "http://savoirscommuns.comptoir.net/_media/offre_artefacts_-_sans_tarifs.pdf"),
        ("documentation", "http://savoirscommuns.comptoir.net/cartopartie_dauphine"),
    ]
    animation = found[ANIMATION]
    assert [a.name for a in animation.authors] == [
        "Alice Oechsner",  # "Alice Oechner" through data/aliases.csv
        "Romain Lalande",
        "Sarah Gaucher",
        "Sylvain Boyer",
    ]
    assert animation.licence == URIRef("http://creativecommons.org/licenses/by-sa/4.0/")
    # the anonymous entry has no owner; its tag is kept though the title changed
    assert found[ACCOMPAGNEMENT].owner is None
    assert found[ACCOMPAGNEMENT].title.startswith("Accompagnement d'un réseau associatif")


def test_a_2018_wiki_is_read_through_its_json_handler(wiki, data, tmp_path):
    result = import_from(wiki.legacy(), data)
    assert result.exit_code == 0, result.output
    assert "(YesWiki 2018)" in result.output
    assert wiki.requests == [
        "api/forms/5",
        "BazaR/json&demand=forms&id=5",
        "BazaR/json&demand=entries&id=5",
    ]
    with running() as modern:
        other = tmp_path / "modern"
        other.mkdir()
        shutil.copy(data / "aliases.csv", other)
        assert import_from(modern.modern(), other).exit_code == 0
    legacy_records, modern_records = records(data), records(other)
    assert set(legacy_records) == set(modern_records) == {ACCOMPAGNEMENT, ANIMATION, DIAGNOSTIC}
    for tag, record in legacy_records.items():
        # the 2018 handler gives no url (the page address is built) and no owner
        assert record.source == f"{wiki.base}{tag}"
        assert record.owner is None
        record.source = record.owner = modern_records[tag].source = modern_records[tag].owner = None
        assert record == modern_records[tag]


def test_lists_missing_from_the_form_are_read_from_the_list_handler(wiki, data):
    form = legacy_part("demand=forms&id=5")
    for item in form[0]["prepared"]:
        item["values"] = ""
    wiki.legacy(form=form)
    # one list in the 2024 tree format, as `demand=lists` returns it after the migration
    tree = example("lists")["body_2024_doryphore_dev"]["ListeNatureAction"]
    wiki.serve("BazaR/json&demand=lists&list=ListeNatureAction", tree)
    mapping = data / "labels.toml"
    text = (ROOT / "mappings/osons-memoires-action.toml").read_text()
    mapping.write_text(
        text.replace(
            'to = "natures"\nvalues = { "1" = "formation", "2" = "accompagnement", "3" = '
            '"animation-temps-collectif", "4" = "education-populaire", "5" = "conference" }',
            'to = "natures"\nmatch = "label"',
        )
    )
    assert 'match = "label"' in mapping.read_text()
    result = import_from(wiki, data, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    asked = [r for r in wiki.requests if "demand=lists" in r]
    assert len(asked) == 7
    assert records(data)[DIAGNOSTIC].natures == [
        concept("nature", "formation"),
        concept("nature", "accompagnement"),
    ]


def test_a_same_site_redirect_is_followed(wiki, data):
    wiki.legacy()
    wiki.serve(
        "BazaR/json&demand=entries&id=5",
        b"",
        status=302,
        headers={"Location": wiki.base + "api/forms/5/entries"},
    )
    wiki.serve("api/forms/5/entries", example("api-forms-5-entries"))
    result = import_from(wiki, data)
    assert result.exit_code == 0, result.output
    assert wiki.requests[-2:] == ["BazaR/json&demand=entries&id=5", "api/forms/5/entries"]
    assert len(records(data)) == 3


# ---------------------------------------------------------------- incremental


def test_a_reimport_maps_only_what_changed_and_retires_what_disappeared(wiki, imported):
    kept_before = (imported / f"rdf/fiches/{ANIMATION}.ttl").read_bytes()
    entries = example("api-forms-5-entries")
    entries[DIAGNOSTIC]["date_maj_fiche"] = "2019-01-05 10:00:00"
    entries[DIAGNOSTIC]["bf_titre"] = "Diagnostic en marchant, version revue"
    del entries[ACCOMPAGNEMENT]
    new = dict(entries[ANIMATION], id_fiche="NouvelleFiche", bf_titre="Une nouvelle fiche")
    entries["NouvelleFiche"] = new
    wiki.modern(entries=entries)

    result = import_from(wiki, imported)
    assert result.exit_code == 0, result.output
    assert "nouvelle(s) : 1 — NouvelleFiche" in result.output
    assert f"mise(s) à jour : 1 — {DIAGNOSTIC}" in result.output
    assert "inchangée(s) : 1" in result.output
    assert "retirée(s) : 1" in result.output
    assert f"retirée : {ACCOMPAGNEMENT} — n'est plus publiée sur le wiki" in result.output
    assert (imported / f"rdf/fiches/{ANIMATION}.ttl").read_bytes() == kept_before
    assert not (imported / f"rdf/fiches/{ACCOMPAGNEMENT}.ttl").exists()
    found = records(imported)
    assert set(found) == {ANIMATION, DIAGNOSTIC, "NouvelleFiche"}
    assert found[DIAGNOSTIC].title == "Diagnostic en marchant, version revue"
    # the kept fiche still cites the run that wrote it, and import.ttl describes both runs
    provenance = datadir.read_turtle(imported / "rdf/import.ttl", DEFAULT_BASE)
    cited = {
        run
        for _, graph in datadir.read_fiches(imported, DEFAULT_BASE)
        for run in graph.objects(None, PROV.wasGeneratedBy)
    }
    assert len(cited) == 2
    assert cited == set(provenance.subjects(PROV.used, None))

    version = datadir.version(imported)
    again = import_from(wiki, imported)
    assert again.exit_code == 0, again.output
    assert "inchangée(s) : 3" in again.output
    assert "Rien n'a changé : data/rdf n'a pas été réécrit." in again.output
    assert datadir.version(imported) == version


def test_an_instance_serving_a_retired_fiche_keeps_its_tombstone(wiki, imported, tmp_path, backend):
    settings = config.load(
        {"INSTANCE_DIR": str(tmp_path / "instance"), "DATA_DIR": str(imported)} | fresh(backend)
    )
    open_configured(settings)
    entries = example("api-forms-5-entries")
    del entries[ACCOMPAGNEMENT]
    assert import_from(wiki.modern(entries=entries), imported).exit_code == 0
    store = open_configured(settings)
    tombstone = history.get_tombstone(store, ACCOMPAGNEMENT)
    assert tombstone is not None and tombstone.title.startswith("Accompagnement d'un réseau")
    assert history.get_tombstone(store, DIAGNOSTIC) is None


def test_full_maps_every_entry_again(wiki, imported):
    result = import_from(wiki, imported, "--full")
    assert result.exit_code == 0, result.output
    assert "mise(s) à jour : 3" in result.output


def test_unvalidated_entries_are_not_published(wiki, data):
    entries = example("api-forms-5-entries")
    entries[ANIMATION]["statut_fiche"] = "0"
    result = import_from(wiki.modern(entries=entries), data)
    assert result.exit_code == 0, result.output
    assert f"non publiée : {ANIMATION} — pas encore validée" in result.output
    assert ANIMATION not in records(data)


def test_an_html_description_is_sanitised(wiki, data):
    form = example("api-forms-5")
    form["template"][7][7] = "html"
    entries = example("api-forms-5-entries")
    entries[DIAGNOSTIC]["bf_description"] = (
        '<h2>Contexte</h2><p onclick="steal()">Un <b>diagnostic</b><script>alert(1)</script></p>'
        "<ul><li>Ballade</li><li>Carte</li></ul>"
    )
    result = import_from(wiki.modern(entries=entries, form=form), data)
    assert result.exit_code == 0, result.output
    assert [(b.kind, b.text, b.items) for b in records(data)[DIAGNOSTIC].description] == [
        ("heading", "Contexte", ()),
        ("paragraph", "Un diagnostic", ()),
        ("list", "", ("Ballade", "Carte")),
    ]
    text = published_text(data)
    assert "alert(1)" not in text and "steal" not in text and "onclick" not in text


# ---------------------------------------------------------------- privacy


def test_ips_e_mails_and_hidden_fields_never_reach_the_rdf(wiki, data):
    form = example("api-forms-5")
    form["template"] += [
        ["champs_mail", "bf_mail", "Courriel"] + [""] * 14,
        ["texte", "bf_tel", "Téléphone"] + [""] * 8 + ["%"] + [""] * 5,
        ["texte", "bf_commentaire", "Commentaire"] + [""] * 14,
    ]
    entries = example("api-forms-5-entries")
    entry = entries[DIAGNOSTIC]
    entry.update(
        bf_mail="jean.dupont@example.org",
        bf_tel="06 00 00 00 00",
        bf_commentaire="Note interne",
        bf_auteur="Romain Lalande (romain@example.org)",
        bf_description=entry["bf_description"] + "\r\nÉcrire à contact@example.net.",
        bf_lien_cahier_charges="mailto:jean.dupont@example.org",
        createur="jean.dupont@example.org",
        owner="198.51.100.7",
        bf_ancien_champ="Ancienne valeur",
    )
    entry["html_data"] += 'data-user="192.0.2.99" '
    entry["user"] = "192.0.2.99"
    result = import_from(wiki.modern(entries=entries, form=form), data)
    assert result.exit_code == 0, result.output
    text = published_text(data)
    for secret in ("192.0.2.10", "192.0.2.99", "198.51.100.7", "example.org", "example.net"):
        assert secret not in text
    assert re.search(r"[\w.+-]+@[\w-]+\.", text) is None
    assert "06 00 00 00 00" not in text and "Note interne" not in text
    assert "Champ non publié « Courriel » (bf_mail, champs_mail) : adresse e-mail" in result.output
    assert "Champ non publié « Téléphone » (bf_tel, texte) : champ réservé" in result.output
    assert "Champ non repris « Commentaire » (bf_commentaire, texte)" in result.output
    assert "Clé « bf_ancien_champ » inconnue du formulaire 5, remplie dans 1 fiche(s)" in (
        result.output
    )
    assert "Ancienne valeur" not in text
    assert f"fiche {DIAGNOSTIC} : 1 adresse(s) e-mail retirée(s) du champ « bf_auteur »" in (
        result.output
    )
    diagnostic = records(data)[DIAGNOSTIC]
    assert diagnostic.owner is None
    assert "Écrire à [adresse e-mail retirée]." in diagnostic.description[-1].text
    assert len(diagnostic.notes) == 3  # description, authors, the mailto: link
    assert not any(link.kind == "cahier-des-charges" for link in diagnostic.links)


def test_the_mapping_cannot_publish_an_e_mail_field(wiki, data):
    form = example("api-forms-5")
    form["template"].append(["champs_mail", "bf_mail", "Courriel"] + [""] * 14)
    entries = example("api-forms-5-entries")
    entries[DIAGNOSTIC]["bf_mail"] = "jean.dupont@example.org"
    mapping = data / "mapping.toml"
    text = (ROOT / "mappings/osons-memoires-action.toml").read_text()
    extra = '[fields.bf_mail]\nto = "contributors"\n\n[fields.bf_auteur]'
    mapping.write_text(text.replace("[fields.bf_auteur]", extra))
    result = import_from(wiki.modern(entries=entries, form=form), data, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert "example.org" not in published_text(data)
    assert records(data)[DIAGNOSTIC].contributors == []


# ---------------------------------------------------------------- broken wikis


def _truncated() -> bytes:
    body = json.dumps(example("api-forms-5-entries")).encode()
    return body[: len(body) // 2]


def _unknown_key(entries: dict) -> dict:
    entries[DIAGNOSTIC]["checkboxListeNatureAction"] = "1,9"
    entries[DIAGNOSTIC]["date_maj_fiche"] = "2019-01-05 10:00:00"
    return entries


BROKEN = {
    "truncated JSON": (
        lambda wiki: wiki.serve("api/forms/5/entries", _truncated()),
        (),
        ["api/forms/5/entries", "réponse JSON tronquée ou illisible"],
    ),
    "connection closed before the announced length": (
        lambda wiki: wiki.serve(
            "api/forms/5/entries",
            _truncated(),
            length=False,
            headers={"Content-Length": str(len(_truncated()) + 500)},
        ),
        (),
        ["réponse tronquée", "500 manquants"],
    ),
    "HTML error page instead of JSON": (
        lambda wiki: wiki.serve("api/forms/5/entries", HTML_PAGE, content_type="text/html"),
        (),
        ["page HTML « Erreur - YesWiki » reçue au lieu de JSON"],
    ),
    "no JSON API at all": (
        lambda wiki: wiki.serve("api/forms/5", HTML_PAGE, content_type="text/html"),
        (),
        ["ne répond ni à l'API YesWiki 4.x ni à l'ancien gestionnaire JSON", "HTTP 404"],
    ),
    "unknown list key": (
        lambda wiki: wiki.serve(
            "api/forms/5/entries", _unknown_key(example("api-forms-5-entries"))
        ),
        (),
        [
            f"fiche « {DIAGNOSTIC} »",
            "« Nature de l'action menée » (checkboxListeNatureAction, checkbox)",
            "clé de liste inconnue « 9 »",
        ],
    ),
    "HTTP 500": (
        lambda wiki: wiki.serve("api/forms/5/entries", b"Internal error", status=500),
        (),
        ["api/forms/5/entries", "HTTP 500"],
    ),
    "slow answer": (
        lambda wiki: wiki.serve("api/forms/5/entries", example("api-forms-5-entries"), delay=5),
        ("--timeout", "0.3"),
        ["n'a pas répondu en 0.3 s (délai dépassé)"],
    ),
    "huge body": (
        lambda wiki: wiki.serve("api/forms/5/entries", b"[" + b" " * 200_000 + b"]"),
        ("--max-mb", "0.1"),
        ["réponse trop volumineuse", "limite 104857 octets"],
    ),
    "huge body without length": (
        lambda wiki: wiki.serve("api/forms/5/entries", b"[" + b" " * 200_000 + b"]", length=False),
        ("--max-mb", "0.1"),
        ["réponse trop volumineuse", "lecture abandonnée"],
    ),
    "impossible date": (
        lambda wiki: wiki.serve(
            "api/forms/5/entries",
            {
                DIAGNOSTIC: dict(
                    example("api-forms-5-entries")[DIAGNOSTIC],
                    date_maj_fiche="2018-02-31 10:00:00",
                )
            },
        ),
        (),
        [f"fiche « {DIAGNOSTIC} »", "date_maj_fiche impossible « 2018-02-31 10:00:00 »"],
    ),
    "empty answer": (
        lambda wiki: wiki.serve("api/forms/5/entries", None),
        (),
        ["ne publie aucune fiche du formulaire 5", "ne sont pas retirées"],
    ),
}


@pytest.mark.parametrize("breakage", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_wiki_changes_nothing(wiki, imported, breakage):
    breaks, options, expected = breakage
    version = datadir.version(imported)
    breaks(wiki)
    result = import_from(wiki, imported, *options)
    assert result.exit_code == 2, result.output
    assert "Erreur : " in result.output
    for words in expected:
        assert words in result.output
    assert datadir.version(imported) == version


def test_a_redirect_to_another_site_is_refused_and_never_followed(wiki, imported):
    with running() as elsewhere:
        elsewhere.modern()
        target = elsewhere.base.replace("127.0.0.1", "localhost") + "api/forms/5/entries"
        wiki.serve("api/forms/5/entries", b"", status=302, headers={"Location": target})
        version = datadir.version(imported)
        result = import_from(wiki, imported)
        assert result.exit_code == 2
        assert f"redirige vers {target}, un autre site : redirection refusée" in result.output
        assert elsewhere.requests == []
    assert datadir.version(imported) == version


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("ftp://osons.cc/", "http(s)://… attendu"),
        ("https://osons.cc/wakka.php?wiki=PagePrincipale", "finir par « ? » ou « wiki= »"),
    ],
)
def test_bad_wiki_addresses_are_refused_before_any_request(data, base, expected):
    result = run("--data", data, "import", "yeswiki", base)
    assert result.exit_code == 2
    assert expected in result.output


def test_source_links_point_to_the_wiki_pages(imported):
    iris = Iris(DEFAULT_BASE)
    [(_, graph)] = [
        (tag, g) for tag, g in datadir.read_fiches(imported, DEFAULT_BASE) if tag == DIAGNOSTIC
    ]
    assert graph.value(iris.fiche(DIAGNOSTIC), DCTERMS.source) == URIRef(
        f"https://osons.cc/wakka.php?wiki={DIAGNOSTIC}"
    )
