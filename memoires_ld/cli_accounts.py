"""`memoires-ld user …` and `memoires-ld token …`: the accounts of an instance (accounts.py).

Passwords are prompted (twice, not echoed), never taken from the command line; scripts pass
one on standard input with `--password-stdin`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .accounts import ROLES, Accounts

INSTANCE_OPTION = click.option(
    "--instance",
    "instance_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instance folder with accounts.sqlite3 (default: MEMOIRES_LD_INSTANCE_DIR, ./instance).",
)


def _accounts(ctx: click.Context, instance_dir: Path | None) -> Accounts:
    return Accounts(instance_dir or Path(ctx.obj["INSTANCE_DIR"]))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)


@click.group("user")
def user():
    """Accounts of people who log in to write (editors, admins) or only read."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="editor",
    show_default=True,
    help="reader: may not write; editor: adds, edits, retires fiches; admin: editor + accounts.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@INSTANCE_OPTION
@click.pass_context
def user_add(ctx, name: str, role: str, password_stdin: bool, instance_dir: Path | None):
    """Add an account; the password is asked for (at least 10 characters).

    \b
    Example:
        memoires-ld user add camille --role editor
        printf '%s\\n' "$PASSWORD" | memoires-ld user add robot --password-stdin
    """
    account = _accounts(ctx, instance_dir).add(name, _password(password_stdin), role)
    click.echo(f"Compte « {account.name} » ({account.role}) ajouté.")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@INSTANCE_OPTION
@click.pass_context
def user_password(ctx, name: str, password_stdin: bool, instance_dir: Path | None):
    """Change an account's password.

    \b
    Example:
        memoires-ld user password camille
    """
    _accounts(ctx, instance_dir).set_password(name, _password(password_stdin))
    click.echo(f"Mot de passe de « {name} » changé.")


@user.command("list")
@INSTANCE_OPTION
@click.pass_context
def user_list(ctx, instance_dir: Path | None):
    """List the accounts: name, role, creation date.

    \b
    Example:
        memoires-ld user list
    """
    for account in _accounts(ctx, instance_dir).all():
        click.echo(f"{account.name}\t{account.role}\t{account.created}")


@user.command("remove")
@click.argument("name")
@INSTANCE_OPTION
@click.pass_context
def user_remove(ctx, name: str, instance_dir: Path | None):
    """Remove an account and its API tokens (its revisions stay in the history).

    \b
    Example:
        memoires-ld user remove camille
    """
    _accounts(ctx, instance_dir).remove(name)
    click.echo(f"Compte « {name} » supprimé.")


@click.group("token")
def token():
    """API tokens: machines write with `Authorization: Bearer <token>`."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for, e.g. the script's name.")
@INSTANCE_OPTION
@click.pass_context
def token_create(ctx, name: str, label: str, instance_dir: Path | None):
    """Create a token for an account and print it, once: it is stored hashed.

    \b
    Example:
        memoires-ld token create robot --label "import YesWiki"
    """
    record, secret = _accounts(ctx, instance_dir).create_token(name, label)
    click.echo(secret)
    click.echo(f"Jeton {record.id} pour « {name} » : copiez-le, il ne sera plus affiché.", err=True)


@token.command("list")
@click.argument("name", required=False)
@INSTANCE_OPTION
@click.pass_context
def token_list(ctx, name: str | None, instance_dir: Path | None):
    """List tokens (all, or one account's): id, account, label, created, last used.

    \b
    Example:
        memoires-ld token list robot
    """
    for t in _accounts(ctx, instance_dir).tokens(name):
        click.echo(f"{t.id}\t{t.account}\t{t.label}\t{t.created}\t{t.last_used or '-'}")


@token.command("revoke")
@click.argument("token_id")
@INSTANCE_OPTION
@click.pass_context
def token_revoke(ctx, token_id: str, instance_dir: Path | None):
    """Revoke a token by its id (see `token list`).

    \b
    Example:
        memoires-ld token revoke 3f9a1c2e
    """
    _accounts(ctx, instance_dir).revoke_token(token_id)
    click.echo(f"Jeton {token_id} révoqué.")
