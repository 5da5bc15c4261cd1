"""YesWiki wiki text and our HTML read back into description blocks, and written again."""

from pathlib import Path

import pytest

from memoires_ld.description import to_html
from memoires_ld.importers.htmlblocks import html_blocks
from memoires_ld.importers.listing import read_listing
from memoires_ld.importers.wikitext import from_blocks, to_blocks
from memoires_ld.record import Block

SEED = Path(__file__).resolve().parents[1] / "data" / "sources" / "000_e007d1e8de5994bf.txt"


@pytest.fixture(scope="module")
def seed_descriptions() -> dict[str, list[Block]]:
    return {record.tag: record.description for record in read_listing(SEED)}


def test_lines_and_lists_of_the_constructed_entry():
    text = (
        "Organisation d'un diagnostic en marchant au sein d'un quartier prioritaire avec :\r\n"
        " - Ballade urbaine et recueil de paroles d'habitants / techniciens\r\n"
        " - Valorisation des données sur une carte dynamique avec Umap\r\n"
        "La suite.\r\n\r\nFin."
    )
    assert to_blocks(text) == [
        Block(
            "paragraph",
            "Organisation d'un diagnostic en marchant au sein d'un quartier prioritaire avec :",
        ),
        Block(
            "list",
            items=(
                "Ballade urbaine et recueil de paroles d'habitants / techniciens",
                "Valorisation des données sur une carte dynamique avec Umap",
            ),
        ),
        Block("paragraph", "La suite."),
        Block("paragraph", "Fin."),
    ]


def test_headings_bold_links_and_images():
    text = (
        "====Contexte====\r\n"
        "Un **atelier** avec [[https://loomio.org Loomio]] et [[https://cobudget.co]], "
        "voir [[PagePhotos les photos]].\r\n"
        '{{attach file="cobudget_manuel.png" desc="image cobudget_manuel.png (53.1kB)" '
        'size="original" legend="Le fichier &quot;source&quot;"}}\r\n'
        '{{attach file="GV.jpg" desc="Une photo"}}\r\n'
        "==Titre de niveau 5=="
    )
    assert to_blocks(text) == [
        Block("heading", "Contexte"),
        Block(
            "paragraph",
            "Un atelier avec Loomio (https://loomio.org) et https://cobudget.co, voir les photos.",
        ),
        Block("image", 'Le fichier "source"', file="cobudget_manuel.png", size="53.1kB"),
        Block("image", file="GV.jpg"),
        Block("heading", "Titre de niveau 5"),
    ]


def test_a_lower_case_line_after_an_unfinished_one_continues_it():
    blocks = to_blocks("Enfin, chacun s'est engagé à favoriser\r\nla solidarité au travail.\r\nOui")
    assert [b.text for b in blocks] == [
        "Enfin, chacun s'est engagé à favoriser la solidarité au travail.",
        "Oui",
    ]


def test_a_blank_line_ends_a_list():
    blocks = to_blocks(" - un\r\n - deux\r\n\r\n - trois")
    assert [b.items for b in blocks] == [("un", "deux"), ("trois",)]


def test_written_text_is_yeswiki_syntax():
    text = from_blocks(
        [
            Block("heading", "Déroulé"),
            Block("list", items=("un", "deux")),
            Block("image", 'Légende "citée"', file="a.png", size="1.0MB"),
        ]
    )
    assert text == (
        "====Déroulé====\r\n\r\n - un\r\n - deux\r\n\r\n"
        '{{attach file="a.png" desc="image a.png (1.0MB)" legend="Légende &quot;citée&quot;"}}'
    )


def test_every_seed_description_survives_wiki_text(seed_descriptions):
    assert len(seed_descriptions) == 38
    for tag, blocks in seed_descriptions.items():
        assert to_blocks(from_blocks(blocks)) == blocks, tag


def test_every_seed_description_survives_our_html(seed_descriptions):
    images = 0
    for tag, blocks in seed_descriptions.items():
        assert html_blocks(to_html(blocks), ours=True) == blocks, tag
        images += sum(1 for b in blocks if b.kind == "image")
    assert images >= 6


def test_foreign_html_is_sanitised_and_folded():
    markup = (
        "<h2>Bilan</h2><p>Très\n   bien <script>alert(1)</script><b>vraiment</b><br>Suite</p>"
        "<ul><li> un </li><li>deux</li></ul>"
        '<img src="files/Page_photo.jpg" alt="image Page_photo.jpg (1.2MB)">'
        '<p onclick="x()">fin</p>'
    )
    assert html_blocks(markup) == [
        Block("heading", "Bilan"),
        Block("paragraph", "Très bien vraiment"),
        Block("paragraph", "Suite"),
        Block("list", items=("un", "deux")),
        Block("image", file="Page_photo.jpg", size="1.2MB"),
        Block("paragraph", "fin"),
    ]
