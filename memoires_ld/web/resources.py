"""Resources: one canonical URL per resource, every format by Accept, suffix or ?format=."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("resources", __name__)


@bp.get("/")
def home():
    return render_template("home.html")
