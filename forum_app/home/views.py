"""The home page: what needs the signed-in person now (see home.queries)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from .queries import home_page

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("home/index.html", page=home_page(current_user, request.args.get("page")))
