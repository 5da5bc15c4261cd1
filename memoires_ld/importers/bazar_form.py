"""A Bazar form as YesWiki describes it: its fields, their keys in an entry, their list options.

Both API generations give the parsed form template (`template`, 16 columns per line,
research/yeswiki.md §3) and `prepared` field objects: `?api/forms/{id}` (4.x) answers one
object whose `prepared` enum fields carry `options` {key: label}; `?BazaR/json&demand=forms`
(2018) answers an array whose `prepared` items carry `values.label`. Lists missing from
both are read with `?BazaR/json&demand=lists&list=…` (see `list_options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..errors import SourceError

ENUM_TYPES = frozenset({"liste", "radio", "checkbox"})
#: Types that store nothing in an entry (display and configuration only).
NO_VALUE = frozenset(
    {"labelhtml", "listefiches", "listefichesliees", "acls", "metadatas", "bookmarklet"}
    | {"tabs", "tabchange", "conditionschecking", "reactions", "inscriptionliste"}
)
#: Types never published, whatever the mapping says, and why (in French).
PRIVATE_TYPES = {
    "champs_mail": "adresse e-mail",
    "email": "adresse e-mail",
    "mot_de_passe": "mot de passe",
}
PUBLIC_ACLS = frozenset({"", "*"})
#: Template columns (research/yeswiki.md §3)
TYPE, NAME, LABEL, SUFFIX, SYNTAX, READ_ACL = 0, 1, 2, 6, 7, 11


@dataclass(frozen=True)
class FormField:
    key: str
    type: str
    label: str
    #: the list page of a liste/radio/checkbox field
    list_tag: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    #: textelong: "wiki", "html" or "nohtml"
    syntax: str = ""
    read_acl: str = ""

    @property
    def private_reason(self) -> str | None:
        """Why this field is never published, or None if it may be."""
        if self.type in PRIVATE_TYPES:
            return PRIVATE_TYPES[self.type] + ", jamais publiée"
        if self.read_acl not in PUBLIC_ACLS:
            return f"champ réservé (lecture « {self.read_acl} »), invisible sur la page publique"
        return None

    def describe(self) -> str:
        return f"« {self.label or self.key} » ({self.key}, {self.type})"


@dataclass(frozen=True)
class BazarForm:
    id: str
    label: str
    fields: tuple[FormField, ...]

    def get(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)

    def lists_without_options(self) -> list[str]:
        return sorted({f.list_tag for f in self.fields if f.type in ENUM_TYPES and not f.options})

    def with_list(self, list_tag: str, options: Mapping[str, str]) -> BazarForm:
        fields = tuple(
            replace(f, options=dict(options)) if f.list_tag == list_tag and not f.options else f
            for f in self.fields
        )
        return replace(self, fields=fields)


def parse_form(payload: object, form_id: str) -> BazarForm:
    """Read a form definition from either API generation."""
    if isinstance(payload, list):  # 2018: an array of forms
        payload = next(
            (p for p in payload if isinstance(p, dict) and str(p.get("bn_id_nature")) == form_id),
            None,
        )
    if not isinstance(payload, dict) or str(payload.get("bn_id_nature", "")) != form_id:
        raise SourceError(f"le wiki ne décrit pas le formulaire {form_id}")
    rows = _template_rows(payload)
    options = _prepared_options(payload.get("prepared"))
    fields: list[FormField] = []
    for row in rows:
        for key in property_names(row):
            fields.append(_field(row, key, options))
    return BazarForm(form_id, str(payload.get("bn_label_nature") or ""), tuple(fields))


def _template_rows(payload: dict) -> list[list[str]]:
    template = payload.get("template")
    if not isinstance(template, list):
        text = payload.get("bn_template")
        if not isinstance(text, str):
            raise SourceError("définition du formulaire illisible : ni template ni bn_template")
        template = [line.split("***") for line in text.replace("\r\n", "\n").split("\n")]
    rows = []
    for row in template:
        if not isinstance(row, list) or len(row) < 2 or str(row[0]).strip().startswith("#"):
            continue
        rows.append([str(cell).strip() for cell in row] + [""] * (16 - len(row)))
    return rows


def property_names(row: list[str]) -> list[str]:
    """The keys a template line stores in an entry (research/yeswiki.md §2.2)."""
    kind, name, suffix = row[TYPE], row[NAME], row[SUFFIX]
    if kind in NO_VALUE or not name:
        return []
    if kind in ENUM_TYPES or kind in ("listefiche", "radiofiche", "checkboxfiche"):
        # doryphore-dev's 2024 migration writes the whole key in column 6
        return [suffix if suffix.startswith(kind) else kind + name + suffix]
    if kind in ("image", "fichier"):
        return [kind + name]
    if kind == "titre":
        return ["bf_titre"]
    if kind in ("map", "carte_google"):
        return [name, row[LABEL] or "bf_longitude"]
    if kind in ("utilisateur_wikini", "yeswiki_user"):
        return ["nomwiki"] + ([row[LABEL]] if row[LABEL] else [])
    return [name]


def _field(row: list[str], key: str, options: dict[str, dict[str, str]]) -> FormField:
    kind = row[TYPE]
    if kind in ("utilisateur_wikini", "yeswiki_user") and key != "nomwiki":
        return FormField(key, "champs_mail", "adresse e-mail du compte", read_acl=row[READ_ACL])
    label = row[LABEL] if kind not in ("titre", "map", "carte_google") else key
    return FormField(
        key=key,
        type=kind,
        label=label,
        list_tag=row[NAME] if kind in ENUM_TYPES else "",
        options=options.get(key, {}),
        syntax=row[SYNTAX] if kind == "textelong" else "",
        read_acl=row[READ_ACL],
    )


def _prepared_options(prepared: object) -> dict[str, dict[str, str]]:
    """{entry key: {list key: label}} from the `prepared` field objects, where given."""
    found: dict[str, dict[str, str]] = {}
    for item in prepared if isinstance(prepared, list) else []:
        if not isinstance(item, dict):
            continue
        key = item.get("propertyname") or item.get("id")
        options = item.get("options")
        values = item.get("values")
        if not isinstance(options, dict) and isinstance(values, dict):
            options = values.get("label")
        if isinstance(key, str) and isinstance(options, dict) and options:
            found[key] = {str(k): str(v) for k, v in options.items()}
    return found


def list_options(body: object, list_tag: str) -> dict[str, str]:
    """{key: label} of a list page body: `{"label": {…}}` (≤ 4.4) or `{"nodes": […]}` (2024)."""
    if isinstance(body, dict) and isinstance(body.get("label"), dict):
        return {str(k): str(v) for k, v in body["label"].items()}
    if isinstance(body, dict) and isinstance(body.get("nodes"), list):
        found: dict[str, str] = {}
        _walk_nodes(body["nodes"], found)
        return found
    raise SourceError(f"liste « {list_tag} » illisible : ni « label » ni « nodes »")


def _walk_nodes(nodes: list, found: dict[str, str]) -> None:
    for node in nodes:
        if isinstance(node, dict) and "id" in node:
            found[str(node["id"])] = str(node.get("label", ""))
            _walk_nodes(node.get("children") or [], found)
