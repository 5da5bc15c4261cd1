"""Accounts of the instance: people who write (editors, admins) and machines' API tokens.

They live in the instance folder (`accounts.sqlite3`), never in the published RDF: a
revision only names its account, as `{base}user/{name}`. Passwords are hashed with Argon2id
(argon2-cffi, OWASP's first choice); API tokens are random 256-bit secrets, of which only a
SHA-256 digest is kept (a slow hash adds nothing to a secret that long), shown once.

Roles: `reader` (may log in, may not write), `editor` (adds, edits and retires fiches),
`admin` (an editor who will also manage accounts on the web; today that is the CLI's job).
There is no default account and no default password.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import BadRequest, Conflict, NotFound

FILE = "accounts.sqlite3"
SECRET_KEY_FILE = "secret_key"
ROLES = ("reader", "editor", "admin")
WRITERS = frozenset({"editor", "admin"})
#: Names that history uses for agents that are not people logging in.
RESERVED = frozenset({"import", "yeswiki", "sparql", "system", "anonymous"})
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MIN_PASSWORD = 10
TOKEN_PREFIX = "mld"

_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """Verified when the account does not exist, so that both cases take the same time
    (made on first use: an Argon2 hash costs ~0.5 s, at every start otherwise)."""
    return _hasher.hash(secrets.token_urlsafe(16))


SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    digest TEXT NOT NULL,
    created TEXT NOT NULL,
    last_used TEXT
);
"""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created: str = ""

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS


@dataclass(frozen=True)
class Token:
    id: str
    account: str
    label: str
    created: str
    last_used: str | None = None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Accounts:
    """The accounts of one instance folder."""

    def __init__(self, instance_dir: Path):
        self.path = Path(instance_dir) / FILE

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        connection = sqlite3.connect(self.path, timeout=10)
        if fresh:
            os.chmod(self.path, 0o600)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(SCHEMA)
        return connection

    # -- people ---------------------------------------------------------------
    def add(self, name: str, password: str, role: str = "editor") -> Account:
        """Add an account; names are lower-case slugs, passwords at least 10 characters."""
        _check_name(name)
        _check_password(password)
        if role not in ROLES:
            raise BadRequest(f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
        account = Account(name, role, _now())
        with closing(self._connect()) as db, db:
            try:
                db.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?)",
                    (name, role, _hasher.hash(password), account.created),
                )
            except sqlite3.IntegrityError as error:
                raise Conflict(f"Le compte « {name} » existe déjà.") from error
        return account

    def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        with closing(self._connect()) as db, db:
            changed = db.execute(
                "UPDATE accounts SET password = ? WHERE name = ?", (_hasher.hash(password), name)
            ).rowcount
        if not changed:
            raise NotFound(f"Il n'y a pas de compte « {name} ».")

    def remove(self, name: str) -> None:
        """Remove an account and its tokens (its revisions stay in the history)."""
        with closing(self._connect()) as db, db:
            if not db.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount:
                raise NotFound(f"Il n'y a pas de compte « {name} ».")

    def get(self, name: str) -> Account | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT name, role, created FROM accounts WHERE name = ?", (name,)
            ).fetchone()
        return Account(*row) if row else None

    def all(self) -> list[Account]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT name, role, created FROM accounts ORDER BY name").fetchall()
        return [Account(*row) for row in rows]

    def check_password(self, name: str, password: str) -> Account | None:
        """The account if the password is right, else None (same time either way)."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT name, role, created, password FROM accounts WHERE name = ?", (name,)
            ).fetchone()
        stored = row[3] if row else _dummy()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self.set_password(name, password)
        return Account(*row[:3])

    # -- machines -------------------------------------------------------------
    def create_token(self, name: str, label: str = "") -> tuple[Token, str]:
        """A new API token for an account: (its record, the secret to show once)."""
        if self.get(name) is None:
            raise NotFound(f"Il n'y a pas de compte « {name} ».")
        token = Token(secrets.token_hex(4), name, label, _now())
        secret = secrets.token_urlsafe(32)
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (token.id, name, label, _digest(secret), token.created),
            )
        return token, f"{TOKEN_PREFIX}_{token.id}_{secret}"

    def revoke_token(self, token_id: str) -> None:
        with closing(self._connect()) as db, db:
            if not db.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount:
                raise NotFound(f"Il n'y a pas de jeton « {token_id} ».")

    def tokens(self, name: str | None = None) -> list[Token]:
        query = "SELECT id, account, label, created, last_used FROM tokens"
        with closing(self._connect()) as db:
            if name is None:
                rows = db.execute(query + " ORDER BY account, created").fetchall()
            else:
                rows = db.execute(query + " WHERE account = ? ORDER BY created", (name,))
                rows = rows.fetchall()
        return [Token(*row) for row in rows]

    def account_for_token(self, presented: str) -> Account | None:
        """The account of a valid API token (`mld_<id>_<secret>`), else None."""
        parts = presented.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        token_id, secret = parts[1], parts[2]
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT t.digest, a.name, a.role, a.created FROM tokens t "
                "JOIN accounts a ON a.name = t.account WHERE t.id = ?",
                (token_id,),
            ).fetchone()
            if row is None or not hmac.compare_digest(row[0], _digest(secret)):
                return None
            db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (_now(), token_id))
        return Account(*row[1:])


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_name(name: str) -> None:
    if not NAME.fullmatch(name) or name in RESERVED:
        raise BadRequest(
            f"Nom de compte invalide « {name} » : 2 à 40 caractères parmi a-z, 0-9, « . _ - », "
            f"commençant par une lettre ou un chiffre, hors {', '.join(sorted(RESERVED))}."
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"Mot de passe trop court : au moins {MIN_PASSWORD} caractères.")


def secret_key(instance_dir: Path, configured: str | None = None) -> str:
    """The key that signs session cookies: MEMOIRES_LD_SECRET_KEY, else `instance/secret_key`,
    generated on first start (readable by its owner only). Never in the repository."""
    if configured:
        return configured
    path = Path(instance_dir) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process wrote
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
