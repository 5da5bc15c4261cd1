"""Locate the files that ship with the package: the vocabulary, the shapes, the mappings.

`ontology/`, `shapes/` and `mappings/` live at the top of the repository and are copied into
the package by `pyproject.toml` (`memoires_ld/ontology`, …) when it is installed. An editable
install does not copy them, so fall back to the checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


@cache
def folder(name: str) -> Path:
    """Return the folder of shipped files called `name` ("ontology", "shapes", "mappings")."""
    for candidate in (PACKAGE / name, CHECKOUT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"memoires-ld is installed without its {name}/ folder")
