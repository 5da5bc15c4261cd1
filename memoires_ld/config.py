"""Settings, declared once with their help text.

Order of precedence (lowest first): these defaults, `INSTANCE_DIR/config.py`, environment
variables `MEMOIRES_LD_<NAME>`, then explicit overrides (CLI options, tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .iris import DEFAULT_BASE


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS = [
    Setting("BASE_URL", DEFAULT_BASE, "Public base URL of the instance; fiche IRIs live under it."),
    Setting("DATA_DIR", "data", "Folder of the published data (data/rdf) and the author aliases."),
    Setting("INSTANCE_DIR", "instance", "Folder of the instance: store, config.py, secrets."),
    Setting("HOST", "127.0.0.1", "Address `memoires-ld serve` listens on."),
    Setting("PORT", 8000, "Port `memoires-ld serve` listens on."),
    Setting("WORKERS", 1, "Server processes; one holds the store, keep 1 unless CPU-bound."),
    Setting("THREADS", 4, "Threads per server process (pyoxigraph runs queries in parallel)."),
    Setting(
        "RENDERED_PAGES",
        True,
        "Make each fiche's Turtle, JSON-LD and pages in advance, per revision (serve).",
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Key signing session cookies; empty: generated once into INSTANCE_DIR/secret_key.",
    ),
    Setting("MAX_CONTENT_LENGTH", 1_048_576, "Largest request body in bytes (larger: 413)."),
    Setting("SESSION_HOURS", 12, "How long a login lasts, in hours."),
    Setting("LOGIN_ATTEMPTS", 5, "Failed logins allowed per account and per client in the window."),
    Setting("LOGIN_WINDOW", 900, "The window of LOGIN_ATTEMPTS, in seconds."),
    Setting(
        "STORE",
        "",
        "Empty: the embedded store in INSTANCE_DIR. Else a SPARQL 1.1 server: "
        "sparql+http://host:port/sparql (virtuoso+http://… adds Virtuoso's adapter).",
    ),
    Setting("STORE_UPDATE_URL", "", "SPARQL Update URL of STORE when not the query URL."),
    Setting("STORE_GSP_URL", "", "Graph Store Protocol URL of STORE, if it has one."),
    Setting("STORE_USER", "", "Account on the STORE server (Basic or Digest auth)."),
    Setting(
        "STORE_PASSWORD",
        "",
        "Password of STORE_USER: a secret, set it in INSTANCE_DIR/config.py or the environment.",
    ),
    Setting("VIRTUOSO_ISQL", "", "Virtuoso's SQL port (host:port), for its bulk loader."),
    Setting(
        "VIRTUOSO_DBA_PASSWORD", "", "Virtuoso's dba password (a secret), for its bulk loader."
    ),
    Setting(
        "VIRTUOSO_LOAD_DIR", "", "A folder Virtuoso reads (in its DirsAllowed), for bulk loads."
    ),
    Setting("SPARQL_TIMEOUT", 10.0, "Seconds a SPARQL query may run; past them: 503."),
    Setting(
        "SPARQL_MAX_RESULT_BYTES",
        20_000_000,
        "Largest SPARQL answer in bytes; a larger one is refused (413), never truncated.",
    ),
    Setting("SPARQL_WORKERS", 2, "Processes evaluating SPARQL queries: queries run at once."),
    Setting("SPARQL_WORKER_MEMORY_MB", 2048, "Memory ceiling of each SPARQL process (0: none)."),
    Setting("SPARQL_CACHE_MB", 64, "Memory for SPARQL answers kept for repeated queries."),
    Setting("SPARQL_RATE_LIMIT", 120, "SPARQL queries per minute per client address (0: off)."),
    Setting(
        "SPARQL_SERVICE_ALLOWLIST",
        "",
        "Endpoints a SERVICE clause may query (IRIs separated by spaces); empty: none.",
    ),
    Setting(
        "SPARQL_UPDATE",
        False,
        "Accept SPARQL Update and Graph Store writes from editors' and admins' API tokens "
        "(each through the validated write path and its history); off: refused.",
    ),
    Setting(
        "PEERS",
        "",
        "Peers `memoires-ld harvest` may fetch (the allowlist): `name=URL` separated by "
        "spaces, URL a memoires-ld instance, a SPARQL endpoint, a dump or a VoID/DCAT file.",
    ),
    Setting("HARVEST_TIMEOUT", 30.0, "Seconds a harvest request may take before it fails."),
    Setting("HARVEST_MAX_BYTES", 200_000_000, "Largest document a harvest accepts, in bytes."),
]

DEFAULTS = {s.name: s.default for s in SETTINGS}
PREFIX = "MEMOIRES_LD_"


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on", "oui"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective settings as a dict."""
    config = dict(DEFAULTS)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    instance = Path(
        overrides.get("INSTANCE_DIR")
        or os.environ.get(PREFIX + "INSTANCE_DIR")
        or config["INSTANCE_DIR"]
    )
    instance_file = instance / "config.py"
    if instance_file.is_file():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for name, default in DEFAULTS.items():
        if PREFIX + name in os.environ:
            config[name] = _coerce(os.environ[PREFIX + name], default)
    config.update(overrides)
    if not str(config["BASE_URL"]).endswith("/"):
        config["BASE_URL"] = str(config["BASE_URL"]) + "/"
    return config
