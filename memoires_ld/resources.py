"""Locate the files that ship with the package: the vocabulary and the shapes.

`ontology/` and `shapes/` live at the top of the repository and are mapped into the
package by `pyproject.toml` (`memoires_ld.ontology`, `memoires_ld.shapes`). An editable
install does not map them, so fall back to the checkout.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


@cache
def folder(name: str) -> Path:
    """Return the folder of shipped files called `name` ("ontology" or "shapes")."""
    try:
        found = Path(str(importlib.resources.files(f"memoires_ld.{name}")))
    except ModuleNotFoundError:
        found = CHECKOUT / name
    if not found.is_dir():
        raise FileNotFoundError(f"memoires-ld is installed without its {name}/ folder")
    return found
