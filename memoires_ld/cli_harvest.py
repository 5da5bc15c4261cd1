"""`memoires-ld harvest` and `memoires-ld peers`: gather the fiches of other publishers.

They wrap `harvest.harvest` and `peers.state`; `cli.py` registers them. Exit codes as
everywhere: 0 done, 2 error (a peer not on the allowlist, or a harvest that failed: that
peer's previous harvest is kept as it was).
"""

from __future__ import annotations

import click

from . import peers as peers_module
from .errors import MemoiresError


def _open_store(settings: dict, *, writable: bool = True):
    """The instance's store; a clear error when a server holds it and we must write."""
    from .store import open_configured

    try:
        return open_configured(settings, writable=writable)
    except OSError as error:
        if "lock" not in str(error).lower():
            raise
        raise MemoiresError(
            "la base de l'instance est ouverte par un autre processus (le serveur ?) : "
            "arrêtez-le le temps de la moisson, puis relancez-le."
        ) from None


@click.command("harvest")
@click.argument("targets", nargs=-1, metavar="[NAME|URL]...")
@click.pass_context
def harvest(ctx: click.Context, targets: tuple[str, ...]):
    """Harvest peers (all of PEERS without argument) into their own named graphs.

    Each peer's valid fiches replace its graph sources/NAME in one transaction, with their
    provenance in the graph sources; invalid fiches are reported, not published; of a fiche
    not openly licensed, only its metadata is kept. Only URLs of PEERS are fetched. Exit 0
    if every peer was harvested (or had not changed), 2 if one failed: its previous harvest
    is kept. The server must be stopped meanwhile (the embedded store has one writer).

    \b
    Example:
        MEMOIRES_LD_PEERS='labo=http://labo.example/' memoires-ld harvest labo
    """
    from .harvest import harvest as run
    from .harvest_http import HarvestError

    settings = ctx.obj
    chosen = peers_module.select(settings, targets)
    if not chosen:
        raise MemoiresError("aucun pair à moissonner : PEERS est vide (nom=URL …).")
    store = _open_store(settings)
    failed = 0
    for peer in chosen:
        try:
            outcome = run(store, settings, peer)
        except HarvestError as error:
            failed += 1
            click.echo(f"{peer.name} : échec : {error.message}", err=True)
            continue
        withheld = (
            f" (dont {outcome.withheld} en métadonnées seules)"
            if outcome.withheld is not None
            else ""
        )
        click.echo(
            f"{peer.name} : {outcome.status} : {outcome.kept} fiche(s) gardée(s){withheld}, "
            f"{outcome.rejected} rejetée(s)."
        )
        for message in outcome.messages[:10]:
            click.echo(f"  rejetée : {message}")
    ctx.exit(2 if failed else 0)


@click.command("peers")
@click.option(
    "--forget",
    metavar="NAME",
    multiple=True,
    help="Remove what was harvested from NAME (a peer taken off PEERS): its graph and "
    "its provenance.",
)
@click.pass_context
def peers(ctx: click.Context, forget: tuple[str, ...]):
    """Show the peers of PEERS and the state of their last harvest.

    \b
    Example:
        memoires-ld peers
        memoires-ld peers --forget vieux
    """
    if forget:
        from .harvest import forget as remove
        from .iris import slugify

        store = _open_store(ctx.obj)
        for name in forget:
            held = remove(store, slugify(name))
            click.echo(f"{name} : source oubliée ({held} fiche(s) retirée(s)).")
        return
    from .harvest_sources import detect
    from .iris import Iris

    settings = ctx.obj
    chosen = peers_module.select(settings)
    store = _open_store(settings, writable=False)  # works while the server runs
    iris = Iris(store.base)
    states = [peers_module.state(store, iris, peer) for peer in chosen]
    header = ("nom", "URL", "type", "dernière moisson", "état", "gardées", "rejetées", "erreur")
    rows = [header]
    for peer, found in zip(chosen, states, strict=True):
        when = found.harvested.isoformat(timespec="seconds") if found.harvested else "jamais"
        kind = peer.kind or detect(peer) or "dump/void"
        rows.append(
            (
                peer.name,
                peer.url,
                kind,
                when,
                found.status,
                str(found.kept),
                str(found.rejected),
                found.error or "—",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        for message in states[n - 1].messages[:3] if n else ():
            click.echo(f"    rejetée : {message}")
