"""`/statistiques`: charts of the fiches, each bar a link to the listing it counts.

The page takes the listing's filters (`/statistiques?nature=formation`): its charts then
count only the fiches those filters select, and their links keep the filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup
from rdflib import URIRef

from .. import charts, facets, vocabulary
from ..charts import Bar, Row, Series
from ..facets import Query
from .i18n import language
from .listing import active_filters, indexes
from .negotiation import BY_NAME, negotiate
from .query import params, parse
from .texts import TEXT

bp = Blueprint("stats", __name__)

#: colours of the stacked charts' series, in the schemes' order (ordinal scales)
COLORS = {
    "reussite": ("#1b7837", "#7fbf7b", "#c2185b", "#9e9e9e"),
    "participants": ("#9ecae1", "#4292c6", "#08519c", "#e08214"),
}


@dataclass
class Figure:
    name: str
    title: str
    svg: Markup
    table: Markup


@bp.get("/statistiques")
def statistics():
    query = parse(request.args, request.query_string)  # a bad filter is a 400 in any format
    html = (BY_NAME["html"],)
    negotiate(request.accept_mimetypes, explicit=request.args.get("format"), offered=html)
    lang = language()
    index, text_index = indexes()
    within = index.select(query, text_index.match(query.text) if query.text else None)
    page = Charts(index, query, within, lang)
    body = render_template(
        "statistiques.html",
        t=TEXT[lang],
        lang=lang,
        total=within.bit_count(),
        filtered=bool(query.filters or query.text),
        active=active_filters(query, lang, to=_statistics),
        figures=[page.years(), page.natures(), page.success(), page.participants()],
        listing=_listing(query, lang),
        everything=current_app.config["IRIS"].statistics(_lang(lang)),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Language"] = lang
    response.vary.update(("Accept", "Accept-Language"))
    return response


class Charts:
    """The charts of the page, counting the fiches of `within`."""

    def __init__(self, index: facets.FacetIndex, query: Query, within: int, lang: str):
        self.index, self.query, self.within, self.lang = index, query, within, lang
        self.t = TEXT[lang]
        self.unit = self.t["fiches_unit"]

    def years(self) -> Figure:
        counts = self.index.counts(self.within, "annee")
        bars = [Bar(y, n, self._href(annee=y)) for y, n in sorted(counts.items()) if n]
        return self._bars("annee", bars)

    def natures(self) -> Figure:
        counts = self.index.counts(self.within, "nature")
        bars = [
            Bar(self._label("nature", k), counts.get(k, 0), self._href(nature=k))
            for k in facets.notations("nature")
        ]
        return self._bars("nature", bars)

    def success(self) -> Figure:
        return self._stacked("reussite", rows="nature", columns="reussite")

    def participants(self) -> Figure:
        return self._stacked("participants", rows="duree", columns="participants")

    def _bars(self, name: str, bars: list[Bar]) -> Figure:
        title = self.t["chart"][name]
        rows, series = charts.bar_rows(bars, self.unit)
        svg = charts.bar_chart(f"chart-{name}", title, bars, unit=self.unit)
        return Figure(name, title, Markup(svg), Markup(charts.table(rows, series)))

    def _stacked(self, name: str, rows: str, columns: str) -> Figure:
        title = self.t["chart"][name]
        table = self.index.cross(self.within, rows, columns)
        keys = list(facets.notations(columns))
        series = [
            Series(_short(self._label(columns, k)), color)
            for k, color in zip(keys, COLORS[name], strict=True)
        ]
        lines = [
            Row(
                self._label(rows, r),
                [
                    Bar(self._label(columns, c), table[r][c], self._href(**{rows: r, columns: c}))
                    for c in keys
                ],
                self._href(**{rows: r}),
            )
            for r in facets.notations(rows)
        ]
        svg = charts.stacked_chart(f"chart-{name}", title, lines, series, unit=self.unit)
        return Figure(name, title, Markup(svg), Markup(charts.table(lines, series)))

    def _label(self, facet: str, key: str) -> str:
        return vocabulary.pref_label(URIRef(facets.notations(facet)[key]), self.lang)

    def _href(self, **chosen: str) -> str:
        """The listing of the current filters, with these facets set to one value each."""
        filters = dict(self.query.filters) | {k: frozenset([v]) for k, v in chosen.items()}
        return _listing(Query(filters, self.query.text), self.lang)


def _listing(query: Query, lang: str) -> str:
    return current_app.config["IRIS"].fiches([*params(query, page=1), *_lang(lang)])


def _statistics(query: Query, lang: str) -> str:
    return current_app.config["IRIS"].statistics([*params(query, page=1), *_lang(lang)])


def _lang(lang: str) -> list[tuple[str, str]]:
    return [("lang", lang)] if lang != "fr" else []


def _short(label: str) -> str:
    """The first clause of a long label: "C'est une belle réussite, à refaire…" → its start."""
    return re.split(r"[,!.…]", label, maxsplit=1)[0].strip() or label
