"""The home page: what needs the signed-in person now (see home.queries)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..core.actor import current_actor, require_sign_in
from .queries import home_page

bp = Blueprint("home", __name__)
require_sign_in(bp)


@bp.get("/")
def index():
    return render_template("home/index.html", page=home_page(current_actor(), request.args.get("page")))
