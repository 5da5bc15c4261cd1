"""`/statistiques`: SVG charts that parse as XML, say what they show, and whose every bar
links to the listing that has exactly as many fiches as the bar says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from web_fixtures import BROWSER, make_app, path

from memoires_ld import charts

SVG = "{http://www.w3.org/2000/svg}"
HTML = {"Accept": BROWSER["chrome"]}


@pytest.fixture(scope="module")
def client(tmp_path_factory, backend):
    """On each backend: the embedded store, then a real Virtuoso."""
    return make_app(tmp_path_factory.mktemp("stats"), store=backend).test_client()


def figures(client, url: str) -> dict[str, ET.Element]:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200
    soup = BeautifulSoup(response.data, "html.parser")
    return {svg["id"]: ET.fromstring(str(svg)) for svg in soup.select("figure svg")}


def listing_total(client, href: str) -> int:
    soup = BeautifulSoup(client.get(path(href), headers=HTML).data, "html.parser")
    return int(soup.select_one(".nb-results").get_text())


def bars(svg: ET.Element) -> list[tuple[str, int]]:
    """(link, value) of each bar, the value read from the bar's own <title>."""
    found = []
    for link in svg.iter(f"{SVG}a"):
        title = link.find(f"{SVG}rect/{SVG}title").text
        found.append((link.get("href"), int(re.search(r": (\d+)", title).group(1))))
    return found


def test_four_charts_each_with_a_title_and_a_description(client):
    svgs = figures(client, "/statistiques")
    assert list(svgs) == ["chart-annee", "chart-nature", "chart-reussite", "chart-participants"]
    for chart_id, svg in svgs.items():
        assert svg.tag == f"{SVG}svg"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text and desc.text, chart_id


def test_years_and_natures_count_the_seed(client):
    svgs = figures(client, "/statistiques")
    desc = svgs["chart-annee"].find(f"{SVG}desc").text
    assert desc == "2014 : 2; 2015 : 4; 2016 : 13; 2017 : 18; 2018 : 14 fiche(s)."
    natures = [v for _, v in bars(svgs["chart-nature"])]
    assert natures == [19, 10, 15, 7, 2]


@pytest.mark.parametrize("chart", ["chart-annee", "chart-nature", "chart-reussite"])
def test_every_bar_links_to_the_fiches_it_counts(client, chart):
    found = bars(figures(client, "/statistiques")[chart])
    assert found
    for href, value in found:
        assert listing_total(client, href) == value, href


def test_participants_by_duration_links_both_facets(client):
    found = bars(figures(client, "/statistiques")["chart-participants"])
    href, value = found[0]
    assert "duree=" in href and "participants=" in href
    assert listing_total(client, href) == value


def test_filters_narrow_the_charts_and_stay_in_the_links(client):
    svgs = figures(client, "/statistiques?nature=formation&lang=en")
    natures = bars(svgs["chart-nature"])
    assert natures[0][1] == 19  # a fiche can have several natures: others are counted too
    assert all(v <= 19 for _, v in natures[1:])
    years = bars(svgs["chart-annee"])
    assert all("nature=formation" in href and "lang=en" in href for href, _ in years)
    assert sum(v for _, v in years) >= 19
    assert svgs["chart-annee"].find(f"{SVG}title").text == "Records by year of the action"


def test_removing_a_filter_stays_on_the_statistics(client):
    response = client.get("/statistiques?nature=formation&annee=2017", headers=HTML)
    chips = BeautifulSoup(response.data, "html.parser").select(".active-filters li a")
    assert [path(a["href"]) for a in chips] == [
        "/statistiques?annee=2017",
        "/statistiques?nature=formation",
        "/statistiques",
    ]


def test_statistics_refuse_bad_filters(client):
    response = client.get("/statistiques?nature=karaoke", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "nature"


# -- the chart module --------------------------------------------------------------------


def test_labels_are_escaped_and_long_ones_shortened():
    svg = charts.bar_chart(
        "c",
        'Fiches <"&"> ',
        [
            charts.Bar("a < b & c", 3, "/fiches?x=1&y=2"),
            charts.Bar("x" * 80, 1, None),
            charts.Bar("rien", 0, "/fiches?z"),
        ],
        unit="fiche(s)",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == 'Fiches <"&"> '
    links = list(root.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == ["/fiches?x=1&y=2"]  # no bar for 0, no link
    labels = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    assert labels[1].text.endswith("…") and labels[1].find(f"{SVG}title").text == "x" * 80


def test_stacked_chart_writes_values_in_readable_colours():
    rows = [charts.Row("R", [charts.Bar("a", 30, "/a"), charts.Bar("b", 20, "/b")], "/r")]
    series = [charts.Series("dark", "#08519c"), charts.Series("light", "#9ecae1")]
    root = ET.fromstring(charts.stacked_chart("s", "T", rows, series))
    values = {t.text: t.get("fill") for t in root.iter(f"{SVG}text") if t.text in ("30", "20")}
    assert values == {"30": "#ffffff", "20": "#000000"}
    legend = [t.text for t in root.iter(f"{SVG}text")][-2:]
    assert legend == ["dark", "light"]
