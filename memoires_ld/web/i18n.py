"""The words of the pages, in French (first) and English, and dates written for people.

The language of a page is `?lang=fr|en` if given, else the best match of Accept-Language,
else French. Templates call `msg("key")`; `msg("key", n=3)` fills `{n}`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, request
from jinja2 import pass_context

LANGUAGES = ("fr", "en")

MESSAGES = {
    "fr": {
        "site": "Mémoires d'action",
        "colon": "\u00a0: ",
        "open_quote": "«\u00a0",
        "close_quote": "\u00a0»",
        "tagline": "Les fiches du collectif Osons en données ouvertes et liées",
        "skip": "Aller au contenu",
        "nav": "Navigation principale",
        "nav.home": "Accueil",
        "nav.fiches": "Fiches",
        "nav.stats": "Statistiques",
        "nav.vocab": "Vocabulaire",
        "nav.sparql": "SPARQL",
        "nav.data": "Données",
        "footer.licence": "Chaque fiche a sa licence, indiquée sur sa page ; le vocabulaire "
        "et les formes sont sous CC0 1.0.",
        "footer.language": "Langue",
        "formats": "Cette page en données",
        "home.intro": "Des animateur·rices du collectif Osons racontent ici des actions "
        "qu'elles et ils ont menées — formations, accompagnements, animations, conférences — "
        "pour que d'autres puissent les comprendre et les refaire. Chaque fiche est publiée en "
        "données liées : une adresse stable, des pages pour les personnes, du Turtle, du "
        "JSON-LD, du RDF/XML et des N-Triples pour les machines.",
        "home.counts": "{fiches} fiches, {agents} auteur·rices, {concepts} valeurs de vocabulaire.",
        "home.latest": "Dernières fiches modifiées",
        "home.more": "Pour aller plus loin",
        "home.all": "Toutes les fiches, avec filtres et recherche",
        "home.vocab": "Le vocabulaire : natures, durées, participants…",
        "home.sparql": "Interroger les données en SPARQL",
        "home.data": "Le jeu de données, ses fichiers et sa licence",
        "home.ns": "L'ontologie et les formes SHACL",
        "changes.title": "Modifications des fiches",
        "changes.intro": "Les créations, modifications et retraits de fiches, des plus "
        "anciens aux plus récents, pour suivre le jeu de données ou le moissonner. Flux :",
        "changes.since": "Depuis le {since}.",
        "changes.count": "{n} modification(s).",
        "changes.none": "Aucune modification.",
        "changes.create": "création de",
        "changes.replace": "modification de",
        "changes.retire": "retrait de",
        "changes.by": "par {agent}",
        "changes.revision": "révision {n}",
        "changes.older": "plus anciennes",
        "changes.newer": "plus récentes",
        "changes.page": "page {n} sur {count}",
        "fiche": "Fiche",
        "fiche.action": "L'action",
        "fiche.nature": "Nature de l'action",
        "fiche.participants": "Nombre de participants",
        "fiche.duree": "Durée",
        "fiche.statut": "Avancement",
        "fiche.reussite": "Degré de réussite",
        "fiche.years": "Année(s)",
        "fiche.contributors": "Contributeur·rices ayant vécu l'action",
        "fiche.description": "Description",
        "fiche.images": "Images",
        "fiche.image_missing": "Fichier non publié ici",
        "fiche.links": "Liens",
        "fiche.cahier": "Cahier des charges initial",
        "fiche.reponse": "Réponse au cahier des charges",
        "fiche.documentation": "Documentation de l'expérience",
        "fiche.references": "Autre lien",
        "fiche.authors": "Auteur·rices",
        "fiche.credit": "Tel qu'écrit dans la fiche",
        "fiche.licence": "Licence",
        "fiche.nonfree": "Cette fiche peut être lue, mais ni reproduite, ni diffusée, ni "
        "modifiée sans l'accord de ses auteur·rices.",
        "fiche.about": "À propos de cette fiche",
        "fiche.created": "Créée le",
        "fiche.modified": "Mise à jour le",
        "fiche.owner": "Écrite par",
        "fiche.page": "Nom de la page",
        "fiche.source": "Page d'origine",
        "fiche.notes": "Remarques sur les données",
        "fiche.none": "non renseigné",
        "agent.person": "Personne",
        "agent.organization": "Organisation",
        "agent.agent": "Auteur·rice",
        "agent.fiches": "Fiches écrites ({n})",
        "agent.contributed": "Actions vécues ({n})",
        "agent.role": "rôle",
        "account": "Compte du wiki",
        "account.fiches": "Pages créées ({n})",
        "vocab.title": "Vocabulaire",
        "vocab.intro": "Les listes de valeurs du formulaire, en schémas de concepts SKOS. "
        "Leurs identifiants sont sous https://w3id.org/memoires-ld/vocab/ ; cette instance "
        "les sert ici.",
        "vocab.concepts": "{n} valeurs",
        "vocab.ontology": "L'ontologie (termes propres à memoires-ld)",
        "vocab.shapes": "Les formes SHACL d'une fiche",
        "scheme": "Schéma de concepts",
        "scheme.concept": "Valeur",
        "scheme.notation": "Code",
        "scheme.count": "Fiches",
        "concept": "Concept",
        "concept.scheme": "Dans le schéma",
        "concept.notation": "Code",
        "concept.alt": "Autres noms",
        "concept.definition": "Définition",
        "concept.scope": "Note d'application",
        "concept.fiches": "Fiches ({n})",
        "concept.none": "Aucune fiche n'a cette valeur.",
        "concept.legal": "Texte de la licence",
        "identifier": "Identifiant",
        "ontology.title": "Ontologie memoires-ld",
        "ontology.version": "Version",
        "ontology.terms": "Termes",
        "ontology.classes": "Classes",
        "ontology.properties": "Propriétés",
        "ontology.subclass": "Sous-classe de",
        "ontology.subproperty": "Sous-propriété de",
        "ontology.domain": "Domaine",
        "ontology.range": "Portée",
        "ontology.note": "Termes réutilisés",
        "shapes.title": "Formes SHACL",
        "shapes.target": "S'applique à",
        "shapes.path": "Chemin",
        "shapes.count": "Nombre",
        "shapes.severity": "Gravité",
        "shapes.warning": "avertissement",
        "shapes.violation": "erreur",
        "error": "Erreur {status}",
        "error.home": "Revenir à l'accueil",
    },
    "en": {
        "site": "Action records",
        "colon": ": ",
        "open_quote": "“",
        "close_quote": "”",
        "tagline": "The Osons collective's records as open linked data",
        "skip": "Skip to content",
        "nav": "Main navigation",
        "nav.home": "Home",
        "nav.fiches": "Records",
        "nav.stats": "Statistics",
        "nav.vocab": "Vocabulary",
        "nav.sparql": "SPARQL",
        "nav.data": "Data",
        "footer.licence": "Each record has its own licence, shown on its page; the vocabulary "
        "and the shapes are CC0 1.0.",
        "footer.language": "Language",
        "formats": "This page as data",
        "home.intro": "Facilitators of the Osons collective tell here actions they led — "
        "trainings, support missions, facilitated meetings, talks — so that others can "
        "understand and repeat them. Each record is published as linked data: a stable "
        "address, pages for people, and Turtle, JSON-LD, RDF/XML and N-Triples for machines.",
        "home.counts": "{fiches} records, {agents} authors, {concepts} vocabulary values.",
        "home.latest": "Latest updated records",
        "home.more": "Going further",
        "home.all": "All the records, with filters and search",
        "home.vocab": "The vocabulary: natures, durations, participants…",
        "home.sparql": "Query the data with SPARQL",
        "home.data": "The dataset, its files and its licence",
        "home.ns": "The ontology and the SHACL shapes",
        "changes.title": "Changes to the records",
        "changes.intro": "Records created, updated and retired, oldest first, to follow the "
        "dataset or harvest it. Feeds:",
        "changes.since": "Since {since}.",
        "changes.count": "{n} change(s).",
        "changes.none": "No change.",
        "changes.create": "created",
        "changes.replace": "updated",
        "changes.retire": "retired",
        "changes.by": "by {agent}",
        "changes.revision": "revision {n}",
        "changes.older": "older",
        "changes.newer": "newer",
        "changes.page": "page {n} of {count}",
        "fiche": "Record",
        "fiche.action": "The action",
        "fiche.nature": "Nature of the action",
        "fiche.participants": "Number of participants",
        "fiche.duree": "Duration",
        "fiche.statut": "Progress",
        "fiche.reussite": "Degree of success",
        "fiche.years": "Year(s)",
        "fiche.contributors": "Contributors who took part",
        "fiche.description": "Description",
        "fiche.images": "Images",
        "fiche.image_missing": "File not published here",
        "fiche.links": "Links",
        "fiche.cahier": "Initial brief",
        "fiche.reponse": "Answer to the brief",
        "fiche.documentation": "Documentation of the experience",
        "fiche.references": "Other link",
        "fiche.authors": "Authors",
        "fiche.credit": "As written in the record",
        "fiche.licence": "Licence",
        "fiche.nonfree": "This record may be read, but not reproduced, distributed or "
        "modified without its authors' consent.",
        "fiche.about": "About this record",
        "fiche.created": "Created on",
        "fiche.modified": "Updated on",
        "fiche.owner": "Written by",
        "fiche.page": "Page name",
        "fiche.source": "Original page",
        "fiche.notes": "Notes on the data",
        "fiche.none": "not given",
        "agent.person": "Person",
        "agent.organization": "Organisation",
        "agent.agent": "Author",
        "agent.fiches": "Records written ({n})",
        "agent.contributed": "Actions taken part in ({n})",
        "agent.role": "role",
        "account": "Wiki account",
        "account.fiches": "Pages created ({n})",
        "vocab.title": "Vocabulary",
        "vocab.intro": "The value lists of the form, as SKOS concept schemes. Their "
        "identifiers are under https://w3id.org/memoires-ld/vocab/; this instance serves "
        "them here.",
        "vocab.concepts": "{n} values",
        "vocab.ontology": "The ontology (terms of memoires-ld)",
        "vocab.shapes": "The SHACL shapes of a record",
        "scheme": "Concept scheme",
        "scheme.concept": "Value",
        "scheme.notation": "Code",
        "scheme.count": "Records",
        "concept": "Concept",
        "concept.scheme": "In scheme",
        "concept.notation": "Code",
        "concept.alt": "Other names",
        "concept.definition": "Definition",
        "concept.scope": "Scope note",
        "concept.fiches": "Records ({n})",
        "concept.none": "No record has this value.",
        "concept.legal": "Legal code",
        "identifier": "Identifier",
        "ontology.title": "memoires-ld ontology",
        "ontology.version": "Version",
        "ontology.terms": "Terms",
        "ontology.classes": "Classes",
        "ontology.properties": "Properties",
        "ontology.subclass": "Subclass of",
        "ontology.subproperty": "Subproperty of",
        "ontology.domain": "Domain",
        "ontology.range": "Range",
        "ontology.note": "Reused terms",
        "shapes.title": "SHACL shapes",
        "shapes.target": "Applies to",
        "shapes.path": "Path",
        "shapes.count": "Count",
        "shapes.severity": "Severity",
        "shapes.warning": "warning",
        "shapes.violation": "violation",
        "error": "Error {status}",
        "error.home": "Back to the home page",
    },
}

MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def language() -> str:
    """The language of the page: ?lang=, then Accept-Language, then French."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


def message(lang: str, key: str, **values) -> str:
    text = MESSAGES[lang].get(key) or MESSAGES["fr"][key]
    return text.format(**values) if values else text


def format_date(value: datetime | str, lang: str, *, time: bool = True) -> str:
    """ "2 septembre 2017 à 11 h 31" / "2 September 2017, 11:31"."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    day = "1er" if lang == "fr" and value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[lang][value.month - 1]} {value.year}"
    if not time:
        return text
    if lang == "fr":
        return f"{text} à {value.hour} h {value.minute:02d}"
    return f"{text}, {value.hour:02d}:{value.minute:02d}"


# -- templates ---------------------------------------------------------------------------

NAVIGATION = (
    ("nav.home", "home"),
    ("nav.fiches", "fiches"),
    ("nav.stats", "statistics"),
    ("nav.vocab", "vocabulary"),
    ("nav.sparql", "sparql"),
    ("nav.data", "dataset"),
)


@pass_context
def _msg(context, key: str, **values) -> str:
    return message(context.get("lang") or language(), key, **values)


def language_url(code: str) -> str:
    """The current page in another language (`?lang=` replaced, other arguments kept).

    A reference relative to the page: the page's HTML is the same whatever the host and
    path it was asked by (web/rendered.py keeps it)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    return "?" + urlencode(args)


def register(app: Flask) -> None:
    """Give every template `lang`, `msg()`, `iris`, the navigation and the language links."""
    iris = app.config["IRIS"]

    def navigation():
        return [(key, getattr(iris, method)()) for key, method in NAVIGATION]

    @app.context_processor
    def layout() -> dict:
        lang = language()
        return {
            "lang": lang,
            "msg": _msg,
            "iris": iris,
            "navigation": navigation,
            "current_page": iris.base + request.path.lstrip("/"),
            "language_url": language_url,
            "format_date": lambda value, time=True: format_date(value, lang, time=time),
        }
