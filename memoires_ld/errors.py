"""Typed errors. Each carries its HTTP status and a message for people, in French.

The web layer has one handler that answers any of them in the negotiated format; the CLI
prints the message and exits 2 (1 is reserved for "does not conform").
"""

from __future__ import annotations


class MemoiresError(Exception):
    """Base of every error we raise on purpose."""

    status = 500
    code = "erreur"

    def __init__(self, message: str, *, detail: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or {}
        #: HTTP headers the answer must carry (WWW-Authenticate, Retry-After, Allow…)
        self.headers = headers or {}

    def as_dict(self) -> dict:
        return {"error": self.code, "status": self.status, "message": self.message, **self.detail}


class SourceError(MemoiresError):
    """A source could not be read; nothing was written."""

    status = 422
    code = "import-invalide"

    def __init__(self, message: str, *, fiche: str | None = None, line: int | None = None):
        where = []
        if fiche:
            where.append(f"fiche « {fiche} »")
        if line:
            where.append(f"ligne {line}")
        prefix = ", ".join(where)
        super().__init__(
            f"{prefix} : {message}" if prefix else message,
            detail={"fiche": fiche, "line": line},
        )
        self.fiche = fiche
        self.line = line


class InvalidFiche(MemoiresError):
    """A fiche does not conform to the shapes; carries the validation report."""

    status = 422
    code = "fiche-invalide"

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report

    def as_dict(self) -> dict:
        from .validation import report_summary

        summary = {"summary": report_summary(self.report)} if self.report is not None else {}
        return {**super().as_dict(), **summary}


class NotFound(MemoiresError):
    status = 404
    code = "introuvable"


class BadRequest(MemoiresError):
    status = 400
    code = "requete-invalide"


class Unauthorized(MemoiresError):
    """No valid credentials: log in, or send `Authorization: Bearer <token>`."""

    status = 401
    code = "authentification-requise"

    def __init__(self, message: str = "Connectez-vous, ou envoyez un jeton d'API.", **kw):
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="memoires-ld"'})
        super().__init__(message, **kw)


class Forbidden(MemoiresError):
    """Known credentials, but the account may not do this (e.g. a reader writing)."""

    status = 403
    code = "interdit"


class Conflict(MemoiresError):
    """The resource already exists (a fiche created twice)."""

    status = 409
    code = "conflit"


class Gone(MemoiresError):
    """A fiche that was retired: its tombstone says when and why."""

    status = 410
    code = "fiche-retiree"


class PreconditionFailed(MemoiresError):
    """If-Match does not match: someone else changed the fiche meanwhile (no lost update)."""

    status = 412
    code = "modifiee-entre-temps"


class PreconditionRequired(MemoiresError):
    """A change without If-Match (RFC 6585 §3): the client must say which version it edits."""

    status = 428
    code = "if-match-requis"


class UnsupportedMediaType(MemoiresError):
    status = 415
    code = "type-non-accepte"


class TooManyRequests(MemoiresError):
    status = 429
    code = "trop-de-tentatives"


class NotPublishedYet(MemoiresError):
    """An instance's first description and dumps are still being written (minutes at 100k)."""

    status = 503
    code = "publication-en-cours"

    def __init__(self, retry_after: int = 60):
        super().__init__(
            "La première publication du jeu de données (sa description et ses fichiers de "
            f"données) est en cours : réessayez dans {retry_after} secondes. Les fiches, "
            "la liste et le point d'accès SPARQL répondent déjà.",
            headers={"Retry-After": str(retry_after)},
        )


class ReadOnly(MemoiresError):
    """The store is open read-only (several server processes): writes are refused."""

    status = 503
    code = "lecture-seule"
