"""Who may write: people log in (session cookie), machines send an API token.

* Sessions: Flask's signed cookie, `HttpOnly`, `SameSite=Lax`, `Secure` when the base URL
  is https; the key comes from MEMOIRES_LD_SECRET_KEY or `instance/secret_key`
  (accounts.secret_key). Logging in starts a new session (no fixation).
* CSRF: every form carries the session's token (synchroniser token pattern, OWASP); a POST
  whose token does not match writes nothing.
* Rate limit: failed logins are counted per account and per client, in memory; past
  LOGIN_ATTEMPTS in LOGIN_WINDOW seconds, logging in answers 429 with Retry-After.
* API: `Authorization: Bearer mld_<id>_<secret>` (accounts.py); 401 without credentials,
  403 for an account that may not write. SPARQL Update and the graph store take the token
  only (no session cookie).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..accounts import Account, Accounts, secret_key
from ..errors import BadRequest, Forbidden, TooManyRequests, Unauthorized

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    """Session cookie settings, the accounts of the instance, the login rate limiter."""
    instance = Path(app.config["INSTANCE_DIR"])
    app.secret_key = secret_key(instance, app.config.get("SECRET_KEY") or None)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=str(app.config["BASE_URL"]).startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_HOURS"]),
    )
    app.extensions["accounts"] = Accounts(instance)
    app.extensions["login_limiter"] = Limiter(
        app.config["LOGIN_ATTEMPTS"], app.config["LOGIN_WINDOW"]
    )
    app.jinja_env.globals.update(csrf_token=csrf_token, current_account=current_account)


def accounts() -> Accounts:
    return current_app.extensions["accounts"]


# ---------------------------------------------------------------------------- who is it


def current_account() -> Account | None:
    """The account of this request: an API token, else the session's login, else None."""
    if "account" not in g:
        g.account = _from_token() or _from_session()
    return g.account


def _from_token() -> Account | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    account = accounts().account_for_token(credentials)
    if account is None:
        raise Unauthorized(
            "Jeton d'API inconnu ou révoqué.",
            headers={"WWW-Authenticate": 'Bearer realm="memoires-ld", error="invalid_token"'},
        )
    return account


def _from_session() -> Account | None:
    name = session.get("account")
    return accounts().get(name) if name else None


def writer(*, token_only: bool = False) -> Account:
    """The account of a request that writes: 401 without one, 403 if it may not write.

    `token_only`: a session's login does not count (the SPARQL endpoint and the graph
    store take requests without a CSRF token: a page elsewhere could post to them).
    """
    account = _from_token() if token_only else current_account()
    if account is None:
        raise Unauthorized(
            "Envoyez le jeton d'API d'un compte qui peut écrire : "
            "Authorization: Bearer <jeton> (memoires-ld token create)."
            if token_only
            else "Connectez-vous, ou envoyez un jeton d'API."
        )
    if not account.can_write:
        raise Forbidden(f"Le compte « {account.name} » peut lire mais pas écrire.")
    return account


# --------------------------------------------------------------------------------- CSRF


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent, expected)


# ------------------------------------------------------------------------- rate limiting


class Limiter:
    """Failures per key (an account, a client) in a sliding window, in memory."""

    def __init__(self, attempts: int, window: float):
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before trying again (0: go ahead)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._failures[key]
                while failures and failures[0] <= now - self.window:
                    failures.popleft()
                if len(failures) >= self.attempts:
                    wait = max(wait, failures[0] + self.window - now)
        return int(wait) + 1 if wait else 0

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# -------------------------------------------------------------------------------- pages


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if not target:
        return url_for("resources.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("resources.home")
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error=None, name="")
    if not csrf_ok():
        # An expired or missing session: show the form again, with a fresh token.
        return _login_page(next_url, "Votre session a expiré : reconnectez-vous.", 400)
    name = request.form.get("name", "").strip().lower()
    password = request.form.get("password", "")
    limiter: Limiter = current_app.extensions["login_limiter"]
    keys = (f"account:{name}", f"client:{request.remote_addr}")
    wait = limiter.retry_after(*keys)
    if wait:
        raise TooManyRequests(
            f"Trop de tentatives de connexion : réessayez dans {wait} secondes.",
            headers={"Retry-After": str(wait)},
        )
    account = accounts().check_password(name, password)
    if account is None:
        limiter.fail(*keys)
        return _login_page(next_url, "Nom ou mot de passe incorrect.", 200, name)
    limiter.forget(keys[0])
    draft = session.get("draft")
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    session["account"] = account.name
    if draft:
        session["draft"] = draft
    csrf_token()
    return redirect(next_url, code=303)


def _login_page(next_url: str, error: str, status: int, name: str = ""):
    session.pop("csrf", None)
    return render_template("login.html", next_url=next_url, error=error, name=name), status


@bp.post("/deconnexion")
def logout():
    if not csrf_ok():
        raise BadRequest("Jeton de formulaire invalide : rechargez la page.")
    session.clear()
    return redirect(url_for("resources.home"), code=303)
