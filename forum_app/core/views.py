"""The health check load balancers poll (the home page is in home/, the outbox in notifications/)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        db.session.rollback()
        return jsonify(status="error", database="error", detail=type(exc).__name__), 503
    return jsonify(status="ok", database=database)
