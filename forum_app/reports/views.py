"""The programme dashboard, the lists behind its figures, exports and the printable progress report."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..core import audit
from ..core.actor import current_actor, require_sign_in
from ..core.commit import attempt
from ..core.dates import format_clock
from ..core.forms import run_service
from ..extensions import db
from ..models import INDICATOR_METRICS, Indicator, Meeting, Programme
from . import dashboard as programme
from . import drawing, exports, indicators, lists
from .figures import ACTION_FIGURES, MEETING_FIGURES
from .forms import IndicatorForm, TargetForm
from .periods import ReportFilters, aware

bp = Blueprint("reports", __name__, url_prefix="/reports")
require_sign_in(bp)


@bp.before_request
def staff_and_organisers_only():
    permissions.require(permissions.can_view_reports(current_user))


@bp.get("")
def dashboard():
    """The figures, cached for a while (reports/dashboard.py); ``refresh=1`` (the Refresh button) counts them again.

    Refresh is a GET: it changes nothing but the cache, and the request that asked for it shows
    the figures it counted, whichever worker answers.
    """
    filters = ReportFilters.from_args(request.args)
    refresh = request.args.get("refresh") == "1"
    page = programme.dashboard(
        current_user,
        filters,
        raw_page=request.args.get("page"),
        refresh=refresh,
        columns=request.args.get("columns"),
    )
    return render_template(
        "reports/dashboard.html",
        page=page,
        svg=drawing.svg,
        sparkline=drawing.sparkline,
        spark=drawing,
        COLUMN_GROUPS=programme.COLUMN_GROUPS,
        as_of=format_clock(aware(page.counted_at), current_user.timezone),
        indicator_rows=indicators.indicator_rows(permissions.resolved(current_user), filters, page.now, refresh),
        can_manage_indicators=permissions.can_manage_indicators(current_user),
    )


# --- indicators (programme staff) ------------------------------------------------------------------


def _indicator_forms(indicator_form=None, target_form=None):
    programmes = db.session.execute(select(Programme).order_by(Programme.name)).scalars().all()
    defined = (
        db.session.execute(
            select(Indicator)
            .options(selectinload(Indicator.targets), joinedload(Indicator.programme))
            .order_by(Indicator.programme_id, Indicator.name)
        )
        .scalars()
        .all()
    )
    indicator_form = indicator_form or IndicatorForm(formdata=None)
    target_form = target_form or TargetForm(formdata=None)
    indicator_form.programme_id.choices = [(p.id, p.name) for p in programmes]
    target_form.indicator_id.choices = [(i.id, f"{i.programme.name}: {i.name}") for i in defined]
    return indicator_form, target_form, defined


def _indicators_page(indicator_form=None, target_form=None, status: int = 200, defined=None):
    if defined is None:
        indicator_form, target_form, defined = _indicator_forms(indicator_form, target_form)
    return render_template(
        "reports/indicators.html",
        indicator_form=indicator_form,
        target_form=target_form,
        indicators=defined,
        METRICS=INDICATOR_METRICS,
    ), status


@bp.get("/indicators")
def indicators_page():
    permissions.require(permissions.can_manage_indicators(current_user))
    return _indicators_page()


def _save(forms, form, model, object_id_field, service, saved: str):
    """Validate ``form`` (one of ``forms``), run ``service(user, object, input)``; re-show the page on refusal."""
    if form.validate_on_submit():
        obj = db.get_or_404(model, object_id_field.data)
        user = permissions.resolved(current_user)
        if run_service(form, lambda: service(user, obj, form.to_input())):
            flash(saved, "success")
            return redirect(url_for("reports.indicators_page"))
    indicator_form, target_form, defined = forms
    return _indicators_page(indicator_form, target_form, 400, defined)


@bp.post("/indicators")
def define_indicator():
    permissions.require(permissions.can_manage_indicators(current_user))
    forms = _indicator_forms(IndicatorForm())
    form = forms[0]
    return _save(forms, form, Programme, form.programme_id, indicators.define_indicator, _("The indicator is defined."))


@bp.post("/indicators/targets")
def set_target():
    permissions.require(permissions.can_manage_indicators(current_user))
    forms = _indicator_forms(target_form=TargetForm())
    form = forms[1]
    return _save(forms, form, Indicator, form.indicator_id, indicators.set_target, _("The target is saved."))


@bp.get("/meetings")
def meetings():
    filters = ReportFilters.from_args(request.args)
    figure = request.args.get("figure", "")
    figure = figure if figure in MEETING_FIGURES else ""
    page = lists.meetings_page(current_user, filters, figure, request.args.get("page"), (joinedload(Meeting.forum),))
    return render_template("reports/meetings.html", filters=filters, figure=figure, page=page)


def _action_figure() -> str:
    """The listed actions' figure from the query string ("on_time" is a share: its list is "due")."""
    figure = request.args.get("figure", "raised")
    return figure if figure in ACTION_FIGURES and figure != "on_time" else "raised"


@bp.get("/actions")
def actions():
    filters = ReportFilters.from_args(request.args)
    figure = _action_figure()
    from ..actions.queries import ACTION_LIST_OPTIONS

    page = lists.actions_page(current_user, filters, figure, request.args.get("page"), ACTION_LIST_OPTIONS)
    return render_template("reports/actions.html", filters=filters, figure=figure, page=page)


@bp.get("/export/<any(meetings, attendance, actions):what>.<any(csv, xlsx):fmt>")
def export(what: str, fmt: str):
    filters = ReportFilters.from_args(request.args)
    if what == "actions":
        header, rows = exports.action_rows(current_user, filters, _action_figure())
    else:
        header, rows = exports.EXPORTS[what](current_user, filters)
    # Who took which figures out of the app is audited (issue 22), before anything is sent. A GET
    # that writes: one of the entries core.audit.APPENDED_ON_READ names.
    audited = attempt(
        lambda: audit.record(
            current_actor(), "report.export", None, f"Exported {what} as {fmt}", what=what, fmt=fmt, **filters.args()
        )
    )
    if not audited:
        flash(audited.message, "danger")
        return redirect(url_for("reports.dashboard"))
    name = f"forum-desk-{what}-{filters.start.isoformat()}-{filters.end.isoformat()}.{fmt}"
    body: Iterator[str] | Iterator[bytes]
    if fmt == "csv":
        body, mimetype = exports.csv_stream(header, rows), "text/csv; charset=utf-8"
    else:
        body = exports.xlsx_stream(what, header, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        stream_with_context(body), mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/progress")
def progress():
    """The printable forum progress report: a forum per page, with a picker and a pager for the others."""
    page = lists.progress_report(current_user, ReportFilters.from_args(request.args), raw_page=request.args.get("page"))
    return render_template("reports/progress.html", page=page)
