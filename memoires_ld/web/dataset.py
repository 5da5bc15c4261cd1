"""The dataset: its description (VoID, DCAT) in every format, and the dumps.

    /dataset              the dataset (canonical IRI), also /dataset.ttl, ?format=ttl, …
    /.well-known/void     the same description, where VoID §7.2 tells crawlers to look
    /catalog              the DCAT catalogue (same graph, the catalogue first in HTML)
    /dumps/<file>         memoires.nt.gz, memoires.ttl, memoires.jsonld, memoires.trig

Stale while revalidate: the description and the dumps served are those of the latest
version written in full (dumps.latest_complete). After a write, until the new version's
files are written — by the background publisher of `memoires-ld serve` (serve.py), or by a
thread of this process when there is none — the previous version's are served, with that
version's ETag and the files' own Last-Modified; a request never waits for a dump, except
the very first ones of an instance, before any version was written: those wait for the
publisher up to FIRST_WAIT seconds (the seed takes one), then answer 503 with Retry-After
(at 100k fiches the first dumps take half an hour).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, send_file, url_for

from .. import dumps, void
from ..errors import NotFound, NotPublishedYet
from ..namespaces import PREFIXES
from .negotiation import RDF_FORMATS
from .represent import choose_format

bp = Blueprint("dataset", __name__)
_lock = threading.Lock()
#: (instance folder, version) whose files a thread of this process writes or wrote
_started: set[tuple[Path, str]] = set()
#: Seconds a request waits for the publisher's first version before 503.
FIRST_WAIT = 20.0


def publication() -> void.Publication:
    """The description of the latest version written in full (see the module's docstring)."""
    store, extensions = current_app.extensions["store"], current_app.extensions
    version = store.version
    cached = extensions.get("publication")
    if cached is not None and cached.version == version:
        return cached
    if current_app.config.get("PUBLISHER") and dumps.latest_complete(_instance()) is None:
        _wait_first_publication()
    with _lock:
        for _ in range(3):  # a version removed meanwhile was replaced by a newer one
            latest = dumps.latest_complete(_instance())
            if latest is None:  # nothing written yet: write it now (under the dumps' lock)
                found = void.prepare(store, _instance(), current_app.config["IRIS"])
            elif cached is not None and cached.version == latest:
                found = cached
            else:
                found = void.published(_instance(), current_app.config["IRIS"], latest)
            if found is not None:
                break
        else:
            found = void.prepare(store, _instance(), current_app.config["IRIS"])
        if found.version != version:
            _regenerate(store, version)
        extensions["publication"] = found
    return found


def _wait_first_publication() -> None:
    deadline = time.monotonic() + FIRST_WAIT
    while dumps.latest_complete(_instance()) is None:
        if time.monotonic() > deadline:
            raise NotPublishedYet()
        time.sleep(0.25)


def _regenerate(store, version: str) -> None:
    """Write `version`'s files in a thread, unless a publisher process does (serve.py)."""
    instance, iris = _instance(), current_app.config["IRIS"]
    if current_app.config.get("PUBLISHER") or (instance, version) in _started:
        return
    _started.add((instance, version))
    thread = threading.Thread(
        target=void.prepare, args=(store, instance, iris), name="publish", daemon=True
    )
    thread.start()


@bp.get("/dataset", defaults={"suffix": None}, endpoint="dataset")
@bp.get("/dataset.<suffix>", endpoint="dataset")
def dataset(suffix: str | None):
    return _describe("dataset", suffix)


@bp.get("/catalog", defaults={"suffix": None}, endpoint="catalog")
@bp.get("/catalog.<suffix>", endpoint="catalog")
def catalog(suffix: str | None):
    return _describe("catalog", suffix)


@bp.get("/.well-known/void", endpoint="void")
def well_known_void():
    return _describe("void", None)


@bp.get("/dumps/<filename>")
def dump(filename: str):
    spec = dumps.BY_FILENAME.get(filename)
    if spec is None:
        names = ", ".join(dumps.BY_FILENAME)
        raise NotFound(f"Pas de fichier de données « {filename} ». Fichiers : {names}.")
    for _ in range(3):  # a version removed meanwhile was replaced by a newer one
        published = publication()
        try:  # send_file opens the file at once: removing it later cannot cut the answer
            response = send_file(
                _instance() / dumps.FOLDER / published.version / filename,
                mimetype=spec.served_as,
                as_attachment=spec.gzip,
                download_name=filename,
                etag=published.version,  # the version of the file served, maybe not the store's
                conditional=True,
            )
            break
        except FileNotFoundError:
            continue
    else:
        raise NotFound(f"Le fichier « {filename} » est en cours de réécriture : réessayez.")
    response.cache_control.public = True
    response.cache_control.no_cache = True  # revalidate: cheap, and always the current data
    return response


def _describe(page: str, suffix: str | None) -> Response:
    fmt = choose_format(suffix)  # an error of this request answers in this format
    published = publication()
    endpoint = "dataset.catalog" if page == "catalog" else "dataset.dataset"
    alternates = [(f, url_for(endpoint, suffix=f.suffix)) for f in RDF_FORMATS]
    if fmt.oxigraph is None:
        body = render_template(
            "dataset.html",
            page=page,
            stats=published.stats,
            sizes=published.sizes,
            dumps=dumps.DUMPS,
            iris=current_app.config["IRIS"],
            alternates=alternates,
            jsonld=_script_safe(_serialize(published.triples, ox.RdfFormat.JSON_LD)),
            vocabularies=void.vocabularies(published.stats),
            curie=_curie,
        )
        response = Response(body, mimetype="text/html")
    else:
        response = Response(_serialize(published.triples, fmt.oxigraph), mimetype=fmt.media_type)
    response.vary.add("Accept")
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="alternate"; type="{f.media_type}"' for f, url in alternates
    )
    response.set_etag(f"{published.version}-{fmt.name}")
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


def _serialize(triples: list[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    prefixes = None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES
    return ox.serialize(triples, format=fmt, prefixes=prefixes)


def _curie(iri: str) -> str:
    """`schema:Article` for a class or property of a namespace we publish, else the IRI."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _script_safe(json_bytes: bytes) -> str:
    """JSON that cannot close the <script> element that holds it."""
    return json_bytes.decode().replace("</", "<\\/")


def _instance() -> Path:
    """Absolute: send_file takes a relative path as relative to the package, not to the
    working directory where `instance` (the default) is."""
    return Path(current_app.config["INSTANCE_DIR"]).resolve()
