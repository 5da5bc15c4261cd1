"""The schema.org description each HTML page embeds (`<script type="application/ld+json">`).

For search engines and HTML-reading harvesters: schema.org only, with `"@context":
"https://schema.org"` as a plain string (it is never fetched by us). A fiche is an Article;
the action it documents is its `about`, *without* `@type: Event`, whose rich results would
require a start date and a location the fiches do not have (research/vocabulary.md §7.6).
The full graph stays at the resource URL, in the RDF formats.
"""

from __future__ import annotations

import json

from markupsafe import Markup

CONTEXT = "https://schema.org"
TYPES = {"person": "Person", "organization": "Organization"}


def script(data: dict) -> Markup:
    """JSON that cannot end the <script> element holding it, whatever the text contains."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _agent(link) -> dict:
    node = {"@id": link.iri, "name": link.label, "url": link.url}
    kind = TYPES.get(link.extra.get("kind", ""))
    return {"@type": kind, **node} if kind else node


def fiche(iri: str, page: dict, lang: str) -> dict:
    keywords = [c.label for _, concepts in page["facets"] for c in concepts]
    data = {
        "@context": CONTEXT,
        "@type": "Article",
        "@id": iri,
        "url": iri,
        "headline": _short(page["title"], 110),
        "name": page["title"],
        "description": _short(page["text"] or "", 300),
        "author": [_agent(a) for a in page["authors"]],
        "creditText": page["credit"],
        "inLanguage": "fr",
        "license": [licence.iri for licence in page["licences"]],
        "keywords": keywords,
        "about": {"@id": page["action"], "name": page["title"]},
        "isBasedOn": page["source"],
    }
    if page["created"]:
        data["datePublished"] = page["created"].isoformat()
    if page["modified"]:
        data["dateModified"] = page["modified"].isoformat()
    return _clean(data)


def agent(iri: str, page: dict) -> dict:
    node = _agent(page["agent"])
    return {"@context": CONTEXT, **node}


def account(iri: str, page: dict) -> dict:
    return {"@context": CONTEXT, "@id": iri, "name": page["title"], "url": iri}


def thing(iri: str, page: dict) -> dict:
    return {"@context": CONTEXT, "@id": iri, "url": iri, "name": page["title"]}


def concept(iri: str, url: str, page: dict) -> dict:
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "DefinedTerm",
            "@id": iri,
            "url": url,
            "name": page["title"],
            "termCode": page["notation"],
            "description": page["definition"],
            "inDefinedTermSet": page["scheme"].iri,
        }
    )


def term_set(iri: str, url: str, title: str, terms) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "DefinedTermSet",
        "@id": iri,
        "url": url,
        "name": title,
        "hasDefinedTerm": [
            {"@type": "DefinedTerm", "@id": t.iri, "name": t.label, "url": t.url} for t in terms
        ],
    }


def work(iri: str, url: str, page: dict) -> dict:
    return _clean(
        {
            "@context": CONTEXT,
            "@type": "CreativeWork",
            "@id": iri,
            "url": url,
            "name": page["title"],
            "description": page.get("description"),
            "version": page.get("version"),
            "license": "http://creativecommons.org/publicdomain/zero/1.0/",
        }
    )


def website(url: str, name: str, description: str, lang: str) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "WebSite",
        "@id": url,
        "url": url,
        "name": name,
        "description": description,
        "inLanguage": lang,
    }


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _clean(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, "", [])}
