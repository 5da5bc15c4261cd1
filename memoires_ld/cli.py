"""The `memoires-ld` command. Each command wraps plain functions of the package.

Exit codes: 0 success (conforms), 1 does not conform, 2 error (bad input, nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__, config, datadir, validation
from .errors import InvalidFiche, MemoiresError

FORMATS = ("text", "turtle", "json-ld", "json")


def _settings(ctx: click.Context) -> dict:
    return ctx.obj


class Command(click.Group):
    """Turn typed errors into a message and exit 2 (1 for a fiche that does not conform)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InvalidFiche as error:
            click.echo(error.message, err=True)
            ctx.exit(1)
        except MemoiresError as error:
            click.echo(f"Erreur : {error.message}", err=True)
            ctx.exit(2)
        except OSError as error:
            click.echo(f"Erreur : {error.strerror} : {error.filename}", err=True)
            ctx.exit(2)


@click.group(cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memoires-ld")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder (default: ./data, or MEMOIRES_LD_DATA_DIR).",
)
@click.option("--base-url", help="Public base URL of the instance (MEMOIRES_LD_BASE_URL).")
@click.option(
    "--store",
    metavar="URL",
    help="SPARQL server to use instead of the embedded store: sparql+http://host:port/sparql "
    "(MEMOIRES_LD_STORE; credentials: MEMOIRES_LD_STORE_USER, MEMOIRES_LD_STORE_PASSWORD).",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, base_url: str | None, store: str | None):
    """Publish Osons' mémoires d'action as linked open data.

    \b
    Example:
        memoires-ld import listing ../shared/seeds/000_e007d1e8de5994bf.txt
        memoires-ld validate
    """
    ctx.obj = config.load({"DATA_DIR": data_dir, "BASE_URL": base_url, "STORE": store})


@main.group("import")
def import_():
    """Import fiches from a source into the data folder (all or nothing)."""


@import_.command("listing")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--wiki",
    default=None,
    metavar="URL",
    help="Address of the source wiki's pages, the page name appended "
    "(default: the Osons wiki, http://osons.cc/wakka.php?wiki=).",
)
@click.pass_context
def import_listing(ctx: click.Context, source: Path, wiki: str | None):
    """Import the text of a YesWiki Bazar listing page into data/rdf.

    Every fiche is mapped to RDF and validated; if one cannot be read or does not
    conform, nothing is written (exit 2, resp. 1).

    \b
    Example:
        memoires-ld import listing ../shared/seeds/000_e007d1e8de5994bf.txt
    """
    from .pipeline import OSONS_WIKI
    from .pipeline import import_listing as run

    data_dir = Path(_settings(ctx)["DATA_DIR"])
    result = run(source, data_dir, wiki=wiki or OSONS_WIKI)
    warnings = result.report.warnings
    click.echo(
        f"{len(result.fiches)} fiche(s) importée(s) dans {result.written_to}, "
        f"0 violation, {len(warnings)} avertissement(s)."
    )
    if warnings:
        click.echo(validation.report_text(result.report))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people; turtle / json-ld for the sh:ValidationReport; json summary.",
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default="fr",
    show_default=True,
    help="Language of the text report.",
)
@click.option(
    "--whole",
    is_flag=True,
    help="One pyshacl run over the union of the files (slow: 136 s and 6 GB at 100k "
    "fiches) instead of fiche by fiche.",
)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, lang: str, whole: bool):
    """Validate fiches (Turtle files or folders) against the SHACL shapes.

    Without PATH, validates the data folder. Exit 0 if they conform (warnings allowed),
    1 if there is a violation, 2 on an error (unreadable file).

    \b
    Example:
        memoires-ld validate data/rdf/fiches/AtelierCohesionDEquipe.ttl --format json
        memoires-ld validate --whole
    """
    settings = _settings(ctx)
    files = validation.files_to_validate(paths or (Path(settings["DATA_DIR"]),))
    if whole:
        graphs = (datadir.read_turtle(f, settings["BASE_URL"]) for f in files)
        report = validation.validate_whole(graphs)
    else:
        report = validation.validate_files(files, base=settings["BASE_URL"])
    if fmt == "text":
        click.echo(validation.report_text(report, lang=lang))
    elif fmt == "json":
        click.echo(json.dumps(validation.report_summary(report), ensure_ascii=False, indent=2))
    else:
        click.echo(report.graph.serialize(format=fmt))
    ctx.exit(0 if report.conforms else 1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--jobs", type=int, default=0, help="Validating processes (default: one per core).")
@click.option(
    "--no-cache", is_flag=True, help="Validate every file again (ignore the verdicts kept)."
)
@click.pass_context
def load(ctx: click.Context, paths: tuple[Path, ...], jobs: int, no_cache: bool):
    """Validate fiche files (TAG.ttl, or folders of them) and load them into the store.

    Files are validated in parallel, verdicts kept by content hash in INSTANCE_DIR, so a
    second load validates only what changed. New fiches are stored in batches, changed
    ones as a revision each, unchanged ones not at all; a fiche that does not conform is
    not stored. Exit 0 if every fiche was stored, 1 if some did not conform, 2 on an error.

    \b
    Example:
        memoires-ld --store sparql+http://127.0.0.1:8890/sparql load fiches/
    """
    import time

    from .bulkload import CACHE, Cache, load_files
    from .store import open_configured

    settings = _settings(ctx)
    start = time.perf_counter()
    files = validation.files_to_validate(paths)
    store = open_configured(settings, writable=True)
    cache = None if no_cache else Cache(Path(settings["INSTANCE_DIR"]) / CACHE)
    try:
        instance = Path(settings["INSTANCE_DIR"])
        done = load_files(store, files, jobs=jobs, cache=cache, spool=instance)
    finally:
        if cache is not None:
            cache.close()
    seconds = time.perf_counter() - start
    click.echo(
        f"{len(files)} fichier(s) en {seconds:.1f} s ({len(files) / seconds:.0f}/s) : "
        f"{len(done.added)} ajoutée(s), {len(done.replaced)} modifiée(s), "
        f"{len(done.unchanged)} inchangée(s), {len(done.invalid)} non conforme(s) ; "
        f"{done.validated} validée(s), les autres d'après le cache."
    )
    for verdict in done.invalid[:20]:
        click.echo(f"  {verdict.path} : {verdict.summary[:300]}", err=True)
    ctx.exit(1 if done.invalid else 0)


@main.command()
@click.option("--host", help="Address to listen on (MEMOIRES_LD_HOST; default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (MEMOIRES_LD_PORT; default 8000).")
@click.option(
    "--base-url",
    "serve_base_url",
    help="Public base URL (MEMOIRES_LD_BASE_URL; default http://127.0.0.1:8000/): "
    "pass http://HOST:PORT/ with another port so that IRIs resolve here.",
)
@click.option("--workers", type=int, help="Server processes (MEMOIRES_LD_WORKERS; default 1).")
@click.option("--threads", type=int, help="Threads per process (MEMOIRES_LD_THREADS; default 4).")
@click.pass_context
def serve(ctx: click.Context, host, port, serve_base_url, workers, threads):
    """Serve the data folder over HTTP (gunicorn, threads sharing the embedded store).

    The first start loads data/ and the vocabulary into the store in INSTANCE_DIR and
    writes the dumps; later starts reopen them at once, reloading only if data/ changed.

    \b
    Example:
        memoires-ld serve --port 8080 --base-url http://127.0.0.1:8080/
    """
    from .serve import serve as run

    options = {"HOST": host, "PORT": port, "BASE_URL": serve_base_url}
    options |= {"WORKERS": workers, "THREADS": threads}
    run(config.load({**_settings(ctx), **options}))


from .cli_yeswiki import export, import_yeswiki  # noqa: E402

import_.add_command(import_yeswiki)
main.add_command(export)

from .cli_accounts import token, user  # noqa: E402

main.add_command(user)
main.add_command(token)

from .cli_harvest import harvest, peers  # noqa: E402

main.add_command(harvest)
main.add_command(peers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
