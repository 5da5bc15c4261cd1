"""The mapping file (Bazar field → fiche field, list key → concept) and the form definition."""

import pytest
from yeswiki_fake import example, legacy_part

from memoires_ld.errors import SourceError
from memoires_ld.importers import bazar_mapping
from memoires_ld.importers.bazar_form import list_options, parse_form
from memoires_ld.importers.bazar_mapping import load_mapping, parse_mapping
from memoires_ld.importers.yeswiki import plan_fields
from memoires_ld.iris import concept

MINIMAL = 'format = 1\n[form]\nid = "5"\n[fields.bf_titre]\nto = "title"\n'


def test_the_osons_mapping_maps_every_list_key_of_the_constructed_form():
    mapping = load_mapping()
    form = parse_form(example("api-forms-5"), "5")
    assert mapping.form_id == form.id == "5"
    checked = 0
    for spec in mapping.fields:
        field = form.get(spec.key)
        assert field is not None, spec.key
        if spec.scheme is not None:
            assert set(spec.values) == set(field.options), spec.key
            checked += len(spec.values)
    assert checked == 5 + 4 + 5 + 3 + 4 + 3
    nature = mapping.get("checkboxListeNatureAction")
    assert bazar_mapping.concept("nature", nature.values["4"]) == concept(
        "nature", "education-populaire"
    )
    licence = mapping.get("listeListeLicence")
    assert str(bazar_mapping.concept("licence", licence.values["1"])).startswith(
        "http://creativecommons.org/licenses/by-sa/4.0"
    )


def test_both_generations_describe_the_same_form():
    modern = parse_form(example("api-forms-5"), "5")
    legacy = parse_form(legacy_part("demand=forms&id=5"), "5")
    assert modern == legacy
    assert [f.key for f in modern.fields] == [
        "bf_titre",
        "checkboxListeNatureAction",
        "checkboxListeNombreParticipants",
        "checkboxListeDureeAction",
        "listeListeAvancement",
        "listeListeReussite",
        "checkboxListeAnnee",
        "bf_description",
        "bf_lien_cahier_charges",
        "bf_lien_reponse",
        "bf_lien_documentation",
        "bf_auteur",
        "listeListeLicence",
        "imagebf_image",
    ]
    assert modern.get("bf_description").syntax == "wiki"
    assert modern.get("listeListeAvancement").options == {
        "1": "En cours",
        "2": "Terminée",
        "3": "Annulée",
    }


def test_lists_in_both_formats_give_the_same_options():
    lists = example("lists")
    for tag, old in lists["body_until_4.4"].items():
        assert list_options(old, tag) == list_options(lists["body_2024_doryphore_dev"][tag], tag)
    nested = {
        "title": "T",
        "nodes": [{"id": "a", "label": "A", "children": [{"id": "b", "label": "B"}]}],
    }
    assert list_options(nested, "ListeT") == {"a": "A", "b": "B"}
    with pytest.raises(SourceError, match="ListeX"):
        list_options({"titre_liste": "X"}, "ListeX")


def test_2024_enum_keys_and_other_field_kinds():
    form = example("api-forms-5")
    form["template"] = [
        ["checkbox", "ListeType", "Type", "", "", "", "checkboxListeTypebf_type"] + [""] * 10,
        ["map", "bf_latitude", "bf_longitude"] + [""] * 14,
        ["utilisateur_wikini", "bf_nom", "bf_mail"] + [""] * 14,
        ["labelhtml", "<h4>x</h4>", "", "y"] + [""] * 12,
        ["# commentaire"],
        ["titre", "{{bf_nom}}", "Titre"] + [""] * 14,
    ]
    parsed = parse_form(form, "5")
    assert [(f.key, f.type) for f in parsed.fields] == [
        ("checkboxListeTypebf_type", "checkbox"),
        ("bf_latitude", "map"),
        ("bf_longitude", "map"),
        ("nomwiki", "utilisateur_wikini"),
        ("bf_mail", "champs_mail"),
        ("bf_titre", "titre"),
    ]
    assert parsed.lists_without_options() == ["ListeType"]


def test_a_form_that_is_not_the_one_asked_for_is_refused():
    with pytest.raises(SourceError, match="formulaire 7"):
        parse_form(example("api-forms-5"), "7")


def test_unmapped_private_and_missing_fields_are_reported():
    form = example("api-forms-5")
    form["template"] += [
        ["champs_mail", "bf_mail", "Courriel"] + [""] * 14,
        ["texte", "bf_tel", "Téléphone"] + [""] * 8 + ["%"] + [""] * 5,
    ]
    mapping = parse_mapping(
        MINIMAL + '[fields.bf_mail]\nto = "authors"\n[fields.bf_absent]\nto = "image"\n'
        '[fields.bf_auteur]\nto = "ignore"\n'
    )
    reading = plan_fields(parse_form(form, "5"), mapping)
    assert [spec.key for spec, _ in reading.fields] == ["bf_titre"]
    lines = "\n".join(reading.left_out)
    assert "Champ non publié « Courriel » (bf_mail, champs_mail) : adresse e-mail" in lines
    assert "Champ non publié « Téléphone » (bf_tel, texte) : champ réservé (lecture « % »)" in lines
    assert "Champ non repris « Nature de l'action menée » (checkboxListeNatureAction" in lines
    assert "Champ ignoré « Auteur.trice(s) de la ressource » (bf_auteur" in lines
    assert "« bf_absent »" in lines
    # one line per form field left out, and one for the mapped field the form lacks
    assert len(reading.left_out) == len(parse_form(form, "5").fields) - 1 + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "format = 1"),
        ("format = 1\n[form]\n", r"\[fields"),
        ('format = 1\n[fields.bf_x]\nto = "image"\n', "title"),
        (MINIMAL + '[fields.a]\nto = "natures"\nvalues = { "1" = "karaoke" }\n', "karaoke"),
        (MINIMAL + '[fields.a]\nto = "natures"\n', "values"),
        (MINIMAL + '[fields.a]\nto = "auteurs"\n', "auteurs"),
        (MINIMAL + '[fields.a]\nto = "link"\n', "kind"),
        (MINIMAL + '[fields.a]\nto = "title"\n', "un et un seul"),
        (MINIMAL + '[fields.a]\nto = "years"\nvalues = { "x" = "deux mille" }\n', "année"),
        (MINIMAL + '[fields.a]\nto = "image"\ncolour = "red"\n', "colour"),
        (MINIMAL + "[fields.a\n", "TOML illisible"),
    ],
)
def test_mistakes_in_a_mapping_are_named(text, expected):
    with pytest.raises(SourceError, match=expected) as error:
        parse_mapping(text, source="autre.toml")
    assert error.value.message.startswith("autre.toml")


def test_a_mapping_may_match_list_labels_instead_of_keys():
    mapping = parse_mapping(MINIMAL + '[fields.n]\nto = "natures"\nmatch = "label"\n')
    assert mapping.get("n").match == "label"
    assert mapping.get("n").scheme == "nature"
