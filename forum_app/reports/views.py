"""The programme dashboard, the lists behind its figures, exports and the printable progress report."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user, login_required

from .. import permissions
from ..core.paging import paginate
from ..models import Meeting
from . import charts, exports, queries
from ..vocab import GENDERS
from .queries import ACTION_FIGURES, MEETING_FIGURES, ReportFilters

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
@login_required
def staff_and_organisers_only():
    permissions.require(permissions.can_view_reports(current_user))


@bp.get("")
def dashboard():
    page = queries.dashboard(current_user, ReportFilters.from_args(request.args))
    return render_template("reports/dashboard.html", page=page, bars=charts.bars, chart=charts, GENDERS=GENDERS)


@bp.get("/meetings")
def meetings():
    filters = ReportFilters.from_args(request.args)
    figure = request.args.get("figure", "")
    figure = figure if figure in MEETING_FIGURES else ""
    from sqlalchemy.orm import joinedload

    stmt = queries.meetings_stmt(current_user, filters, figure).options(joinedload(Meeting.forum))
    return render_template("reports/meetings.html", filters=filters, figure=figure,
                           page=paginate(stmt, request.args.get("page")))


@bp.get("/actions")
def actions():
    filters = ReportFilters.from_args(request.args)
    figure = request.args.get("figure", "raised")
    figure = figure if figure in ACTION_FIGURES and figure != "on_time" else "raised"
    from ..actions.queries import ACTION_LIST_OPTIONS

    stmt = queries.actions_stmt(current_user, filters, figure).options(*ACTION_LIST_OPTIONS)
    return render_template("reports/actions.html", filters=filters, figure=figure,
                           page=paginate(stmt, request.args.get("page")))




@bp.get("/export/<any(meetings, attendance, actions):what>.<any(csv, xlsx):fmt>")
def export(what: str, fmt: str):
    filters = ReportFilters.from_args(request.args)
    if what == "actions":
        figure = request.args.get("figure", "raised")
        header, rows = exports.action_rows(current_user, filters,
                                           figure if figure in ACTION_FIGURES and figure != "on_time" else "raised")
    else:
        header, rows = exports.EXPORTS[what](current_user, filters)
    name = f"forum-desk-{what}-{filters.start.isoformat()}-{filters.end.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = exports.csv_stream(header, rows), "text/csv; charset=utf-8"
    else:
        body = exports.xlsx_stream(what, header, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(stream_with_context(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/progress")
def progress():
    """The printable forum progress report: one page per forum."""
    page = queries.progress_report(current_user, ReportFilters.from_args(request.args))
    return render_template("reports/progress.html", page=page)
