"""The form: "Ajouter une mémoire d'action" and "Modifier", generated from the shapes (forms.py).

Nothing typed is lost: a form that does not conform comes back with every value and a
message next to each field at fault; a post whose login expired meanwhile is kept as a draft
in the instance folder, and the form comes back filled after logging in; a fiche changed by
someone else meanwhile (412) comes back with the values typed and what changed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from rdflib import Graph

from .. import formdata, forms, history, validation, writes
from ..errors import InvalidFiche, PreconditionFailed
from ..forms import FormModel
from ..iris import Iris
from . import auth

bp = Blueprint("edit", __name__)
DRAFTS = "drafts"
DRAFT_DAYS = 7


def _store():
    return current_app.extensions["store"]


def _iris() -> Iris:
    return current_app.config["IRIS"]


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "fr"


def _model() -> FormModel:
    return forms.default_model(_lang())


# --------------------------------------------------------------------------------- routes


@bp.route("/fiches/nouvelle", methods=["GET", "POST"])
def new():
    model = _model()
    if request.method == "GET":
        if auth.current_account() is None:
            return redirect(url_for("auth.login", next=request.path), code=303)
        values = _restore_draft() or {}
        return _page(model, values, None, notice=_draft_notice(values))
    values = formdata.values_from_form(model, request.form)
    refused = _refuse(values)
    if refused is not None:
        return refused
    account = auth.current_account()
    tag = new_tag(_store(), values.get("Fiche-titre", [""])[0])
    graph = formdata.fiche_graph(model, values, _iris(), tag, None)
    try:
        writes.create_fiche(_store(), graph, agent=account.name, reason=_reason())
    except InvalidFiche as error:
        return _page(model, values, None, error=error, status=422)
    return redirect(url_for("edit.edit", tag=tag, enregistree=1), code=303)


@bp.route("/fiche/<tag>/modifier", methods=["GET", "POST"])
def edit(tag: str):
    model = _model()
    old = _stored(tag)
    if request.method == "GET":
        if auth.current_account() is None:
            return redirect(url_for("auth.login", next=request.path), code=303)
        values = _restore_draft() or formdata.values_from_graph(model, old, _iris(), tag)
        saved = request.args.get("enregistree") is not None
        warnings = validation.validate(old).warnings if saved else []
        return _page(
            model,
            values,
            tag,
            etag=history.etag(_store(), tag),
            notice=_draft_notice(values) if not saved else None,
            saved=saved,
            warnings=warnings,
        )
    values = formdata.values_from_form(model, request.form)
    refused = _refuse(values, tag)
    if refused is not None:
        return refused
    account = auth.current_account()
    graph = formdata.fiche_graph(model, values, _iris(), tag, old)
    etag = request.form.get("etag") or None
    try:
        writes.replace_fiche(_store(), graph, agent=account.name, if_match=etag, reason=_reason())
    except InvalidFiche as error:
        return _page(model, values, tag, etag=etag, error=error, status=422)
    except PreconditionFailed:
        latest = history.revisions(_store(), tag)[-1]
        return _page(
            model, values, tag, etag=history.etag(_store(), tag), conflict=latest, status=409
        )
    return redirect(url_for("edit.edit", tag=tag, enregistree=1), code=303)


@bp.post("/fiche/<tag>/retirer")
def retire(tag: str):
    if auth.current_account() is None or not auth.csrf_ok():
        return redirect(url_for("auth.login", next=url_for("edit.edit", tag=tag)), code=303)
    account = auth.writer()
    writes.retire_fiche(
        _store(),
        tag,
        agent=account.name,
        if_match=request.form.get("etag") or None,
        reason=request.form.get("raison", "").strip() or None,
    )
    return redirect(str(_iris().history(tag)), code=303)


# ------------------------------------------------------------------------------- helpers


def _stored(tag: str) -> Graph:
    graph = writes.current_graph(_store(), tag)
    if graph is None:
        abort(410 if history.get_tombstone(_store(), tag) else 404)
    return graph


def _reason() -> str | None:
    return request.form.get("raison", "").strip() or None


def _refuse(values: dict, tag: str | None = None):
    """Not logged in (or the session expired): keep the draft, log in, come back."""
    account = auth.current_account()
    if account is None or not auth.csrf_ok():
        _save_draft(values)
        back = url_for("edit.edit", tag=tag) if tag else url_for("edit.new")
        return redirect(url_for("auth.login", next=back), code=303)
    if not account.can_write:
        model = _model()
        message = (
            f"Le compte « {account.name} » peut lire mais pas écrire : rien n'a été enregistré."
        )
        return _page(model, values, tag, forbidden=message, status=403)
    return None


def _page(model, values, tag, *, status=200, error=None, **context):
    errors, warnings = _by_field(model, error.report if error else None)
    general = [] if error is None or error.report is not None else [error.message]
    if error is not None and error.report is not None:
        general += [
            r.message(model.lang)
            for r in error.report.violations
            if model.field_for(_node_of(r), r.path) is None
        ]
    context.setdefault("warnings", [])
    for result in context.pop("warnings"):
        f = model.field_for(_node_of(result), result.path)
        warnings.setdefault(f.name if f else "", []).append(result.message(model.lang))
    body = render_template(
        "fiche_form.html",
        model=model,
        values=values,
        tag=tag,
        errors=errors,
        field_warnings=warnings,
        general_errors=general,
        rows=lambda f: _rows(f, values),
        fiche_url=str(_iris().fiche(tag)) if tag else None,
        history_url=str(_iris().history(tag)) if tag else None,
        lang=model.lang,
        **context,
    )
    return body, status


def _node_of(result: validation.Result) -> str:
    iris = _iris()
    focus = str(result.focus)
    if focus.endswith("#action"):
        return "action"
    if re.search(r"#image-[0-9]+$", focus):
        return "image"
    if iris.tag_of(focus) is not None:
        return "fiche"
    return "agent"


def _by_field(model: FormModel, report) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    if report is None:
        return errors, warnings
    for result in report.results:
        f = model.field_for(_node_of(result), result.path)
        if f is None:
            continue
        target = errors if result in report.violations else warnings
        messages = target.setdefault(f.name, [])
        if result.message(model.lang) not in messages:
            messages.append(result.message(model.lang))
    return errors, warnings


def _rows(f, values) -> list[dict[str, str]]:
    """The rows of an agents or images field: those typed, then two empty ones."""
    names = [p.name for p in f.parts if p.widget != "radios"]
    rows = [r for r in formdata.agent_rows(f, values) if any(r.get(n, "").strip() for n in names)]
    return [*rows, {}, {}]


def new_tag(store, title: str) -> str:
    """A page name from the title, as YesWiki makes them: CamelCase ASCII, 40 characters."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    base = "".join(w[:1].upper() + w[1:] for w in words)[:40] or "Fiche"
    tag, n = base, 1
    iris = Iris(store.base)
    while store.has_graph(str(iris.fiche(tag))) or history.head(store, tag) is not None:
        n += 1
        tag = f"{base[: 40 - len(str(n))]}{n}"
    return tag


# -------------------------------------------------------------------------------- drafts


def _drafts_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / DRAFTS


def _save_draft(values: dict) -> None:
    """Keep what was typed (instance/drafts/, owner-only, a week) for after the login."""
    folder = _drafts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        if old.stat().st_mtime < time.time() - DRAFT_DAYS * 86400:
            old.unlink(missing_ok=True)
    draft = secrets.token_urlsafe(16)
    path = folder / f"{draft}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, ensure_ascii=False)
    session["draft"] = {"id": draft, "page": request.path}


def _restore_draft() -> dict | None:
    """The draft kept for this page, once."""
    draft = session.get("draft") or {}
    if draft.get("page") != request.path:
        return None
    session.pop("draft")
    name = str(draft.get("id", ""))
    if not name.replace("-", "").replace("_", "").isalnum():
        return None
    path = _drafts_dir() / f"{name}.json"
    if not path.exists():
        return None
    values = json.loads(path.read_text(encoding="utf-8"))
    path.unlink(missing_ok=True)
    values["__draft__"] = ["1"]
    return values


def _draft_notice(values: dict) -> str | None:
    if values.pop("__draft__", None):
        return "Votre saisie a été conservée pendant la connexion : vérifiez-la, puis enregistrez."
    return None
