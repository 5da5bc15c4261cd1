"""Typed errors. Each carries its HTTP status and a message for people, in French.

The web layer has one handler that answers any of them in the negotiated format; the CLI
prints the message and exits 2 (1 is reserved for "does not conform").
"""

from __future__ import annotations


class MemoiresError(Exception):
    """Base of every error we raise on purpose."""

    status = 500
    code = "erreur"

    def __init__(self, message: str, *, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or {}

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


class NotFound(MemoiresError):
    status = 404
    code = "introuvable"


class BadRequest(MemoiresError):
    status = 400
    code = "requete-invalide"
