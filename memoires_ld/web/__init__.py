"""The Flask application: `create_app(config=None)`.

One blueprint per concern; every error we raise on purpose is a `MemoiresError` answered
by one handler in the negotiated format.
"""

from __future__ import annotations

from flask import Flask

from .. import config as settings
from ..iris import Iris
from ..store import open_configured
from . import rendered


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings (defaults < instance/config.py < env < `config`), store, routes."""
    app = Flask(__name__)
    app.config.update(settings.load(config))
    app.config["IRIS"] = Iris(app.config["BASE_URL"])
    # Writes need the embedded store open read-write, which RocksDB allows to one process
    # only; a SPARQL server (STORE) takes writes from any number of them.
    writable = app.config["WORKERS"] <= 1 and not app.config.get("READ_ONLY")
    app.extensions["store"] = open_configured(app.config, writable=writable)
    app.extensions["rendered"] = rendered.Reader(rendered.path_for(app.config))

    from . import errors, http, i18n

    errors.register(app)
    from . import auth

    auth.init_app(app)
    http.register(app)  # CORS, cache policy, long URLs
    i18n.register(app)  # lang, msg(), iris and the navigation in every template
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    return app


def _blueprints():
    """Each concern's blueprint; modules are imported here so that create_app stays readable."""
    from . import api, auth, changes, dataset, edit, listing, resources, revisions, stats
    from . import sparql as sparql_endpoint
    from .graph_store import bp as graph_store

    return [
        *(revisions.bp, resources.bp, dataset.bp, listing.bp, stats.bp, auth.bp, api.bp, edit.bp),
        *(sparql_endpoint.bp, graph_store, changes.bp),
    ]
