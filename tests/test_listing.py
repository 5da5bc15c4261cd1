"""The seed listing importer, on the real seed: fields, facets, dates, description, repairs.

Expected counts are computed here by simple, independent counting of the source lines, and
checked against the numbers of the source data profile (research/vocabulary.md §1).
"""

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from memoires_ld import vocabulary
from memoires_ld.errors import SourceError
from memoires_ld.importers import mojibake, values
from memoires_ld.importers.blocks import blocks
from memoires_ld.importers.listing import parse_listing, read_listing
from memoires_ld.record import Block, FicheRecord

SEED = Path(__file__).resolve().parents[1] / "data" / "sources" / "000_e007d1e8de5994bf.txt"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_lines(seed_text) -> list[str]:
    return [line.strip() for line in seed_text.split("\n")]


@pytest.fixture(scope="module")
def records() -> list[FicheRecord]:
    return read_listing(SEED)


@pytest.fixture(scope="module")
def by_tag(records) -> dict[str, FicheRecord]:
    return {record.tag: record for record in records}


def source_values(lines: list[str], label: str, *, multi: bool = True) -> Counter:
    """Count the values of a field straight from the source lines."""
    counted: Counter = Counter()
    for line in lines:
        if line.startswith(label):
            value = line.split(":", 1)[1].strip()
            counted.update(value.split(", ") if multi else [value])
    return counted


def line_number(lines: list[str], text: str, start: int = 0) -> int:
    """1-based number of the first source line starting with `text`, from line `start`."""
    lines = [line.replace("\u00a0", " ") for line in lines]
    return next(n for n, line in enumerate(lines, 1) if n > start and line.startswith(text))


# ---------------------------------------------------------------- whole listing


def test_every_announced_fiche_is_read(records, seed_lines):
    assert len(records) == 38
    assert len({r.tag for r in records}) == 38
    titles = [seed_lines[r.line - 1] for r in records]
    assert titles[0] == (
        "Accompagnement d'un réseau associatif sur la mutualisation d'une fonction employeur"
    )
    assert titles[-1] == "[Conférence] Communs immatériels : vers des connaissances compostables ?"
    for record in records:
        assert record.title and record.natures and record.years and record.description
        assert record.licence is not None and record.created and record.modified


def test_the_introduction_and_the_trailer_are_not_fiches(records):
    assert not any("Ajouter une mémoire" in r.title for r in records)
    assert not any("Filtrer par" in r.title for r in records)


@pytest.mark.parametrize(
    ("scheme", "attribute", "label", "expected"),
    [
        (
            "nature",
            "natures",
            "Nature de l'action menée",
            {
                "Formation": 19,
                "Animation d'un temps collectif": 15,
                "Accompagnement": 10,
                "Education populaire": 7,
                "Conférence": 2,
            },
        ),
        (
            "participants",
            "participants",
            "Nombre de participants",
            {
                "De 6 à 15 personnes": 18,
                "De 16 à 30 personnes": 14,
                "Plus de 30 personnes": 9,
                "Animation espace public": 2,
            },
        ),
        (
            "duree",
            "durations",
            "Durée de l'action",
            {
                "Plus d'une semaine au total": 10,
                "Une journée": 10,
                "Une demi-journée": 8,
                "Entre deux et trois jours au total": 7,
                "Une semaine au total": 2,
            },
        ),
    ],
)
def test_multi_valued_facets_count_as_in_the_source(
    records, seed_lines, scheme, attribute, label, expected
):
    counted = source_values(seed_lines, label)
    assert counted == expected
    imported = Counter(c for r in records for c in getattr(r, attribute))
    assert imported == {vocabulary.concept_for_label(scheme, k): n for k, n in expected.items()}


@pytest.mark.parametrize(
    ("scheme", "attribute", "label", "expected"),
    [
        ("statut", "status", "Niveau d'avancement", {"Terminée": 27, "Annulée": 6, "En cours": 4}),
        (
            "reussite",
            "success",
            "Degré de réussite",
            {
                "C'est une belle réussite, à refaire à la première occasion !": 17,
                "Pas concerné par ce champs": 10,
                "Résultats encourageants, quelques petites choses à améliorer.": 8,
                "C'est un vrai désastre, à ne reproduire sous aucun prétexte . . .": 1,
            },
        ),
        (
            "licence",
            "licence",
            "Licence d'utilisation",
            {"CC BY SA": 36, "CC 0": 1, "Licence non-libre": 1},
        ),
    ],
)
def test_single_valued_facets_count_as_in_the_source(
    records, seed_lines, scheme, attribute, label, expected
):
    assert source_values(seed_lines, label, multi=False) == expected
    imported = Counter(getattr(r, attribute) for r in records if getattr(r, attribute))
    assert imported == {vocabulary.concept_for_label(scheme, k): n for k, n in expected.items()}


def test_missing_facets_stay_empty(records):
    assert sum(1 for r in records if r.durations) == 36
    assert sum(1 for r in records if len(r.durations) == 2) == 1
    assert sum(1 for r in records if r.status is None) == 1
    assert sum(1 for r in records if r.success is None) == 2


def test_years_are_four_digit_integers(records, seed_lines):
    expected = {2017: 18, 2018: 14, 2016: 13, 2015: 4, 2014: 2}
    counted = source_values(seed_lines, "Année de mise en oeuvre")
    assert {int(k): n for k, n in counted.items()} == expected
    assert Counter(y for r in records for y in r.years) == expected


def test_links_by_kind(records, by_tag):
    assert Counter(link.kind for r in records for link in r.links) == {
        "cahier-des-charges": 3,
        "reponse": 7,
        "documentation": 7,
        "autre": 1,
    }
    seminar = by_tag["AnimationDUnSeminaireCoRedigerNosAppels"]
    assert [(link.kind, link.url) for link in seminar.links] == [
        ("cahier-des-charges", "https://partage.osons.cc/s/b1koFvdIVlPFHk3"),
        ("reponse", "https://partage.osons.cc/s/ZDjWHLs7g3ZpczB"),
        ("documentation", "https://partage.osons.cc/s/EJzZtuhE1PRu7rj"),
    ]
    assert seminar.links[1].label == "Lien vers la réponse au cahier des charges (s'il y a lieu)"
    citykart = by_tag["CitykartParcoursDeRemobilisation1625AA"]
    assert citykart.links[0].url == (
        "http://osons.cc/wakka.php?wiki=PageTest/download&file=TOUSAGILES_K2CE2C_FREE.odt"
    )


def test_a_link_written_inside_the_description_is_kept_there_and_listed(by_tag):
    conference = by_tag["ConferenceCommunsImmaterielsVersDesCo"]
    (link,) = conference.links
    assert (link.kind, link.label) == ("autre", "Lien vers les supports utilisés")
    assert link.url == "https://partage.osons.cc/s/zOxX3bY2NRnCuti"
    texts = [b.text for b in conference.description]
    assert texts[-2:] == [
        "Lien vers les supports utilisés : https://partage.osons.cc/s/zOxX3bY2NRnCuti",
        "Bilan : pas assez de personnes présentes pour valider la pertinence.",
    ]


def test_dates_are_paris_local_times_with_their_offset(by_tag):
    seminar = by_tag["AnimationDUnSeminaireCoRedigerNosAppels"]
    assert seminar.created.isoformat() == "2018-02-12T16:21:00+01:00"  # winter time
    assert seminar.modified.isoformat() == "2018-06-28T11:40:00+02:00"  # summer time
    assert seminar.created.utcoffset() == timedelta(hours=1)
    assert seminar.modified.utcoffset() == timedelta(hours=2)
    assert seminar.created.second == 0


def test_owner_image_and_line_of_each_fiche(records, by_tag, seed_lines):
    assert Counter(r.owner for r in records if r.owner) == {"RomainLalande": 10, "WikiAdmin": 3}
    assert by_tag["AtelierAuxGrandsVoisinsExperimenterLaPr"].image == (
        "atelierauxgrandsvoisinsexperimenterlapr_gv_loomio.jpg"
    )
    assert sum(1 for r in records if r.image) == 5
    first = records[0]
    assert first.line == 11 and first.owner is None
    assert seed_lines[first.line - 1] == first.title


def test_contributors_are_read_like_authors(records, seed_text):
    assert all(r.contributors == [] for r in records)  # empty in every seed fiche
    text = seed_text.replace(
        "Contributeur.trice.s ayant vécu cette action\u00a0:\n",
        "Contributeur.trice.s ayant vécu cette action\u00a0: Jehan, Alice Oechner\n",
        1,
    )
    first = parse_listing(text)[0]
    assert [(a.name, a.kind) for a in first.contributors] == [
        ("Jehan", "person"),
        ("Alice Oechsner", "person"),
    ]


def test_scrape_indentation_is_dropped(by_tag):
    # Fiches from "AtelierProfessionnelParticipatifAuFestival" on are indented in the source.
    festival = by_tag["AteliersDeLaCooperationADestinationDAc"]
    assert (
        festival.title == "Ateliers de la coopération - à destination d'acteurs associatifs ruraux"
    )
    assert festival.authors_raw == "Romain Lalande, Sarah Gaucher"


# ---------------------------------------------------------------- description structure


def kinds_and_texts(record: FicheRecord) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in record.description if b.kind != "list"]


def test_images_keep_their_caption_and_size(by_tag):
    images = [b for b in by_tag["AtelierAuxGrandsVoisinsExperimenterLaPr"].description]
    images = [b for b in images if b.kind == "image"]
    assert [(b.file, b.size, b.text) for b in images] == [
        (
            "cobudget_manuel.png",
            "53.1kB",
            "Fichier source distribués aux participants pour cobudget",
        ),
        ("Loomio_manuel.png", "85.2kB", "Le fichier source Loomio distribué aux participants"),
        ("cobudget_GV.jpg", "1.0MB", "exemple de décision co-budget en physique"),
        ("G1_GV_sans_methode.jpg", "1.3MB", "Le groupe 1 en plein travail"),
        ("GV_cobudget.jpg", "1.3MB", "Le groupe 2 en pleine action"),
        ("GV_Loomio.jpg", "1.1MB", "Le groupe 3 en action"),
    ]


def test_headings_of_the_grands_voisins_fiche(by_tag):
    record = by_tag["AtelierAuxGrandsVoisinsExperimenterLaPr"]
    headings = [b.text for b in record.description if b.kind == "heading"]
    assert headings == ["Contexte", "Le format expérimenté", "Les enseignements"]
    assert record.description[0] == Block(kind="heading", text="Contexte")


@pytest.mark.parametrize(
    ("tag", "heading"),
    [
        ("AnimationDUneReunionDeParentsEtPersonnel", "Déroulement"),
        ("FormationAuxUsagesEtOutilsNumeriquesColla", "Objectif"),
        ("FormationOutilsNumeriquesEtCooperationVe", "Prérequis"),
        (
            "FormationHabitatParticipatifEtCooperation",
            "MODULE 1 ? le facteur humain, les bases de la coopération, le projet social et "
            "économique",
        ),
        (
            "FormationHabitatParticipatifEtCooperation",
            "MODULE 2 ? l'approche technique et systémique",
        ),
        (
            "InterventionConduiteCooperativeDeProjet",
            "[Modules 2 et 3] Déroulé mardi 25 septembre",
        ),
        ("InterventionConduiteCooperativeDeProjet", "Enseignements - et si c'était à refaire ?"),
        ("InterventionConduiteCooperativeDeProjet", "Ce que contenait la machine à laver"),
    ],
)
def test_real_headings_are_found(by_tag, tag, heading):
    assert ("heading", heading) in kinds_and_texts(by_tag[tag])


@pytest.mark.parametrize(
    ("tag", "paragraph"),
    [
        ("FormationHabitatParticipatifEtCooperation", "Programme :"),
        ("FormationHabitatParticipatifEtCooperation", "Jour 1 :"),
        ("InterventionConduiteCooperativeDeProjet", "9h Accueil"),
        ("InterventionConduiteCooperativeDeProjet", "Démarrage au format : 80 étudiants en cercle"),
        ("InterventionConduiteCooperativeDeProjet", "Changement de place et d'intervenant"),
        (
            "DiagnosticEnMarchantAvecUmapLaRiche",
            "Action menée par Cyrille Giquello et Romain Lalande",
        ),
        ("AnimationDUneReunionDeParentsEtPersonnel", "13 personnes présentes."),
    ],
)
def test_sentences_and_labels_inside_a_description_stay_paragraphs(by_tag, tag, paragraph):
    assert ("paragraph", paragraph) in kinds_and_texts(by_tag[tag])


def test_bullets_make_one_list_per_run(by_tag):
    record = by_tag["FormationOutilsNumeriquesEtCooperationVe"]
    lists = [b.items for b in record.description if b.kind == "list"]
    assert len(lists) == 4
    assert lists[0][0] == "Les lundi 5 & mardi 6 mars (de 9 h 00 à 12 h 30 & de 13 h 30 à 17 h 00),"
    assert len(lists[0]) == 5
    habitat = by_tag["FormationHabitatParticipatifEtCooperation"]
    first_list = next(b for b in habitat.description if b.kind == "list")
    assert first_list.items[-1] == (
        "Découvrir la posture à prendre dans la démarche pour chacune des parties prenantes."
    )


def test_hard_wrapped_lines_are_joined(by_tag):
    citykart = by_tag["CitykartParcoursDeRemobilisation1625AA"]
    assert citykart.description[0].text.endswith("grâce aux logiciels libres et au jeu vidéo.")
    habitat = by_tag["FormationHabitatParticipatifEtCooperation"]
    item = next(i for b in habitat.description for i in b.items if i.startswith("S'associer"))
    assert item.endswith(
        "questionnement individuel sur le rapport à la propriété et la prise "
        "de risque collective, à court moyen et long terme, compatibilité des "
        "différente approches juridiques et opérationnelles."
    )


def test_urls_stay_in_the_text(by_tag):
    record = by_tag["AssociationsSOrganiserGraceAuxOutilsNum"]
    assert record.description[-1].text == (
        "Un espace ressource a été créé durant l'accompagnement : "
        "http://osons.cc/outilsnumeriques41/wakka.php?wiki=Page1"
    )


def test_blocks_rules_on_small_examples():
    lines = list(
        enumerate(
            [
                "Contexte",
                "",
                "Une phrase.",
                "• un",
                "- deux",
                "suite de deux",
                "",
                "* trois",
                "image a.png (1.0kB)",
                "Légende",
            ],
            1,
        )
    )
    assert blocks(lines) == [
        Block(kind="heading", text="Contexte"),
        Block(kind="paragraph", text="Une phrase."),
        Block(kind="list", items=("un", "deux suite de deux")),
        Block(kind="list", items=("trois",)),
        Block(kind="image", file="a.png", size="1.0kB", text="Légende"),
    ]


# ---------------------------------------------------------------- lost characters


def all_text(record: FicheRecord) -> str:
    return "\n".join(
        [b.text for b in record.description] + [i for b in record.description for i in b.items]
    )


def test_lost_apostrophes_are_restored_in_the_fiche_style(by_tag):
    vendome = by_tag["ActionNumeriqueJeunesVendomeParcoursNume"]
    objectives = next(b for b in vendome.description if b.kind == "list")
    assert objectives.items[0] == (
        "Sensibiliser aux enjeux du numérique au quotidien et en matière d'accès à l'emploi."
    )
    # A fiche with no other apostrophe gets the typographic one.
    integrer = by_tag["IntegrerLesOutilsNumeriquesEtCollaboratifs"]
    assert integrer.description[0].text.startswith(
        "La BGE Loiret pilote le dispositif du DLA sur son département. C’est dans ce cadre "
        "qu’elle souhaite"
    )


def test_lost_oe_and_lost_bullet_glyphs_are_restored(by_tag):
    integrer = by_tag["IntegrerLesOutilsNumeriquesEtCollaboratifs"]
    assert "par nature au cœur des structures de l’ESS ." in integrer.description[1].text
    formation = by_tag["FormationOutilsNumeriquesEtCooperationVe"]
    prerequisites = [b for b in formation.description if b.kind == "list"][1]
    assert prerequisites.items[0] == "savoir consulter et envoyer des mails\u00a0;"


def test_real_question_marks_and_urls_are_untouched(by_tag):
    habitat = all_text(by_tag["FormationHabitatParticipatifEtCooperation"])
    assert "comment se mettre au diapason lorsque la question engage autant ?" in habitat
    assert "S'associer dans quel but et comment ? Aspects juridiques" in habitat
    intervention = all_text(by_tag["InterventionConduiteCooperativeDeProjet"])
    assert "Points forts ? Points faibles ? Outils ?" in intervention
    assert "https://osons.cc" in intervention


def test_every_repair_and_doubt_is_noted(records, by_tag):
    assert by_tag["FormationHabitatParticipatifEtCooperation"].notes == [
        "22 apostrophes perdues rétablies (« L?habitat » → « L'habitat »), lignes 583, "
        "585–587, 594, 596, 598, 600, 604, 607–608",
        "Caractère illisible conservé tel quel ligne 592 : « MODULE 1 ? le facteur humain »",
        "Caractère illisible conservé tel quel ligne 602 : « MODULE 2 ? l'approche technique et »",
    ]
    assert by_tag["IntegrerLesOutilsNumeriquesEtCollaboratifs"].notes == [
        "10 apostrophes perdues rétablies (« C?est » → « C’est »), lignes 892–895",
        "1 « œ » perdu rétabli (« c?ur » → « cœur »), ligne 893",
    ]
    assert by_tag["FormationOutilsNumeriquesEtCooperationVe"].notes == [
        "11 apostrophes perdues rétablies (« d?utiliser » → « d'utiliser »), lignes 511, 519, "
        "521, 529–532",
        "15 puces suivies d'un caractère illisible nettoyées (« • ? savoir » → « • savoir »), "
        "lignes 512–515, 519–521, 526–533",
    ]
    assert by_tag["ConferenceCommunsImmaterielsVersDesCo"].notes == [
        "6 apostrophes perdues rétablies (« d?appropriation » → « d'appropriation »), "
        "lignes 1137, 1139",
        "Caractère illisible conservé tel quel ligne 1137 : « les logiciels libres? Nous vous "
        "proposons »",
        "Caractère illisible conservé tel quel ligne 1139 : « coopérative d'intérêt collectif "
        "? et peut-être d'autres »",
    ]
    assert by_tag["ActionNumeriqueJeunesVendomeParcoursNume"].notes == [
        "6 apostrophes perdues rétablies (« d?accès » → « d'accès »), lignes 60–61, 63"
    ]
    assert by_tag["CitykartParcoursDeRemobilisation1625AA"].notes == [
        "1 apostrophe perdue rétablie (« l?École » → « l'École »), ligne 318"
    ]
    with_notes = {r.tag for r in records if r.notes}
    assert len(with_notes) == 6


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("jusqu?à demain", "jusqu’à demain"),
        ("aujourd?hui", "aujourd’hui"),
        ("Lorsqu?il", "Lorsqu’il"),
        ("une man?uvre", "une manœuvre"),
        ("ma s?ur", "ma sœur"),
        ("mettre en ?uvre", "mettre en œuvre"),
        ("• ? savoir", "• savoir"),
        ("Pourquoi ? Parce que", "Pourquoi ? Parce que"),
        ("vraiment ?", "vraiment ?"),
        ("http://x.org/a.php?id=3 d?abord", "http://x.org/a.php?id=3 d’abord"),
    ],
)
def test_repair_rules(before, after):
    repairs = mojibake.Repairs()
    assert mojibake.repair(before, 1, repairs) == after
    assert repairs.doubts == []


@pytest.mark.parametrize("text", ["MODULE 1 ? le facteur", "libres? Nous", "l?b", "? début"])
def test_uncertain_question_marks_are_kept_and_doubted(text):
    repairs = mojibake.Repairs()
    assert mojibake.repair(text, 7, repairs) == text
    assert len(repairs.doubts) == 1 and repairs.doubts[0][0] == 7


# ---------------------------------------------------------------- values


def test_facet_labels_with_commas_are_matched_whole():
    value = "C'est une belle réussite, à refaire à la première occasion !"
    assert values.concepts("reussite", value) == [vocabulary.concept_for_label("reussite", value)]
    with pytest.raises(ValueError, match="« C'est une belle réussite »"):
        values.concepts("reussite", "C'est une belle réussite, Karaoké")
    with pytest.raises(ValueError, match="une seule valeur"):
        values.concepts("statut", "Terminée, En cours", single=True)
    assert values.concepts("duree", "") == []
    assert len(values.concepts("nature", "Formation, Formation, Conférence")) == 2


def test_paris_times_around_the_clock_changes():
    assert values.paris_time("28.10.2018 à 02:30").isoformat() == "2018-10-28T02:30:00+02:00"
    assert values.paris_time("28.10.2018 à 03:30").isoformat() == "2018-10-28T03:30:00+01:00"
    for bad in ("25.03.2018 à 02:30", "31.02.2018 à 10:00", "2018-02-01 10:00", "1.2.2018 à 10:00"):
        with pytest.raises(ValueError):
            values.paris_time(bad)


# ---------------------------------------------------------------- errors, all or nothing


def parse_error(text: str) -> SourceError:
    with pytest.raises(SourceError) as caught:
        parse_listing(text)
    return caught.value


def assert_names(error: SourceError, fiche: str, line: int) -> None:
    assert (error.fiche, error.line) == (fiche, line)
    assert f"fiche « {fiche} »" in error.message
    assert f"ligne {line}" in error.message


HABITAT = "Habitat participatif : Formation Habitat participatif et coopération"
SEMINAR = (
    "Animation d'un séminaire \"Co-rédiger nos appels d'offre\" pour des acteurs de la "
    "politique de la ville"
)
FIRST = "Accompagnement d'un réseau associatif sur la mutualisation d'une fonction employeur"


def test_a_file_truncated_inside_a_fiche(seed_text):
    error = parse_error("\n".join(seed_text.split("\n")[:600]))
    assert_names(error, HABITAT, 600)
    assert "tronqué" in error.message


def test_a_file_truncated_between_fiches(seed_text, seed_lines):
    end = line_number(seed_lines, "créée le 02.09.2017 à 14:58")  # footer of the third fiche
    error = parse_error("\n".join(seed_text.split("\n")[:end]))
    assert_names(error, "Action numérique jeunes Vendôme - Parcours Numériques", end)
    assert "annonce 38 fiche(s) mais la source n'en contient que 3" in error.message


def test_an_unknown_facet_value(seed_text, seed_lines):
    text = seed_text.replace(
        "Nature de l'action menée\u00a0: Accompagnement",
        "Nature de l'action menée\u00a0: Karaoké",
        1,
    )
    error = parse_error(text)
    assert_names(error, FIRST, line_number(seed_lines, "Nature de l'action menée"))
    assert "« Karaoké »" in error.message and "« Nature de l'action menée »" in error.message


def test_an_unknown_success_value_that_contains_a_comma(seed_text):
    text = seed_text.replace(
        "C'est une belle réussite, à refaire à la première occasion !",
        "C'est une belle réussite, à refaire un jour",
        1,
    )
    error = parse_error(text)
    assert "« C'est une belle réussite »" in error.message
    assert (
        error.fiche == "Animation d'une réunion de parents et animateurs d'une école démocratique"
    )


def test_an_impossible_date(seed_text, seed_lines):
    text = seed_text.replace("créée le 12.02.2018 à 16:21", "créée le 31.02.2018 à 16:21")
    error = parse_error(text)
    assert_names(error, SEMINAR, line_number(seed_lines, "créée le 12.02.2018 à 16:21"))
    assert "31.02.2018" in error.message


def test_a_time_that_does_not_exist_in_paris(seed_text):
    error = parse_error(
        seed_text.replace("créée le 12.02.2018 à 16:21", "créée le 25.03.2018 à 02:30")
    )
    assert error.fiche == SEMINAR and "heure d'été" in error.message


def test_a_year_that_is_not_four_digits(seed_text, seed_lines):
    error = parse_error(
        seed_text.replace("oeuvre\u00a0: 2016, 2017\n", "oeuvre\u00a0: 2016, 17\n", 1)
    )
    line = line_number(seed_lines, "Année de mise en oeuvre : 2016, 2017")
    assert_names(error, "Action numérique jeunes Vendôme - Parcours Numériques", line)
    assert "« 17 »" in error.message


def test_an_unknown_licence(seed_text, seed_lines):
    error = parse_error(seed_text.replace("ressource\u00a0: CC BY SA", "ressource\u00a0: WTFPL", 1))
    assert_names(error, FIRST, line_number(seed_lines, "Licence d'utilisation"))
    assert "« WTFPL »" in error.message


def test_a_fiche_without_its_footer(seed_text, seed_lines):
    lines = seed_text.split("\n")
    tag = line_number(seed_lines, "AccompagnementDUnReseauAssociatifSurLaMu")
    del lines[tag - 1 : tag + 1]  # the page tag line and the dates line
    error = parse_error("\n".join(lines))
    # The next line that is not blank is the title of the second fiche.
    assert_names(error, FIRST, tag + 1)
    assert "pied de page" in error.message


def test_more_fiches_than_announced(seed_text):
    error = parse_error(seed_text.replace("Il y a 38 fiche(s)", "Il y a 37 fiche(s)"))
    assert "plus de fiches" in error.message
    assert error.fiche == "Séminaire sur les solidarités"


def test_a_field_out_of_the_form_order(seed_text, seed_lines):
    text = seed_text.replace("Nombre de participants\u00a0: De 16 à 30 personnes\n", "", 1)
    text = text.replace(
        "Année de mise en oeuvre\u00a0: 2017\n",
        "Année de mise en oeuvre\u00a0: 2017\nNombre de participants\u00a0: De 16 à 30 personnes\n",
        1,
    )
    error = parse_error(text)
    assert error.fiche == FIRST and "ordre du formulaire" in error.message


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "vide"), ("\n  \n", "vide"), ("Bonjour\nrien à voir", "pas une liste de fiches")],
)
def test_not_a_listing(text, words):
    assert words in parse_error(text).message


def test_a_listing_that_announces_no_fiche_is_empty():
    assert parse_listing("Il y a 0 fiche(s) correspondante(s) à vos filtres .\n") == []
