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
from ..core.forms import edit_record, run_action, run_service, status_for
from ..core.pdf import PdfUnavailable, pdf_status, render_pdf
from ..extensions import db
from ..models import INDICATOR_CHANGES, INDICATOR_METRICS, Indicator, Meeting, Programme
from . import dashboard as programme
from . import drawing, exports, indicators, lists
from .figures import ACTION_FIGURES, MEETING_FIGURES
from .forms import IndicatorEditForm, IndicatorForm, IndicatorVersionForm, TargetForm
from .periods import ReportFilters, aware
from .programme_report import programme_report

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
    # Retired indicators take no new targets: they are not offered.
    target_form.indicator_id.choices = [
        (i.id, f"{i.programme.name}: {i.name}") for i in defined if i.retired_at is None
    ]
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


def _indicator(indicator_id: int) -> Indicator:
    return permissions.load_indicator(current_user, indicator_id, options=(joinedload(Indicator.programme),))


@bp.route("/indicators/<int:indicator_id>", methods=["GET", "POST"])
def edit_indicator(indicator_id: int):
    """An indicator's definition to edit, its history, and retiring or reinstating it."""
    indicator = _indicator(indicator_id)
    user = permissions.resolved(current_user)
    form = IndicatorEditForm(obj=indicator if request.method == "GET" else None)
    saved = edit_record(
        form,
        indicator,
        indicators.IndicatorEdit,
        lambda data, loaded: indicators.edit_indicator(user, indicator, data, loaded),
    )
    if saved is not None:
        flash(_("The indicator is saved; its previous definition is kept in its history."), "success")
        return redirect(url_for("reports.edit_indicator", indicator_id=indicator_id))
    # Someone else saved first: 409, as on the action's edit page (the form shows the three ways).
    return _indicator_page(indicator, form, 409 if getattr(form, "conflict", None) is not None else status_for(form))


def _indicator_page(indicator: Indicator, form, status: int = 200):
    version_form = IndicatorVersionForm(formdata=None, data={"version": indicator.version})
    return render_template(
        "reports/indicator.html",
        indicator=indicator,
        form=form,
        version_form=version_form,
        flags=permissions.indicator_flags(current_user, indicator),
        history=indicators.indicator_history(indicator.id),
        METRICS=INDICATOR_METRICS,
        CHANGES=INDICATOR_CHANGES,
    ), status


def _retirement(indicator_id: int, service, done: str):
    indicator = _indicator(indicator_id)
    form = IndicatorVersionForm()
    if form.validate_on_submit():
        user = permissions.resolved(current_user)
        run_action(lambda: service(user, indicator, form.version.data), done)
    else:
        flash(_("The form was incomplete. Nothing was changed: reload the page and try again."), "danger")
    return redirect(url_for("reports.edit_indicator", indicator_id=indicator_id))


@bp.post("/indicators/<int:indicator_id>/retire")
def retire_indicator(indicator_id: int):
    return _retirement(
        indicator_id, indicators.retire_indicator, _("The indicator is retired: past figures and its history stay.")
    )


@bp.post("/indicators/<int:indicator_id>/reinstate")
def reinstate_indicator(indicator_id: int):
    return _retirement(indicator_id, indicators.reinstate_indicator, _("The indicator is in use again."))


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
        # The full header, given as content_type: a mimetype would get a second "; charset=utf-8" from Werkzeug.
        body, content_type = exports.csv_stream(header, rows), "text/csv; charset=utf-8"
    else:
        body = exports.xlsx_stream(what, header, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        stream_with_context(body),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/progress")
def progress():
    """The printable forum progress report: a forum per page, with a picker and a pager for the others."""
    page = lists.progress_report(current_user, ReportFilters.from_args(request.args), raw_page=request.args.get("page"))
    return render_template("reports/progress.html", page=page)


def _programme_page(report, pdf=None, template: str = "reports/programme.html") -> str:
    """The printable page, or (``reports/programme_pdf.html``) the lean page the server's PDF is made from."""
    return render_template(
        template,
        report=report,
        pdf=pdf or pdf_status(),
        as_of=format_clock(aware(report.counted_at), current_user.timezone),
    )


@bp.get("/programme")
def programme_report_page():
    """The programme report for the selection: one printable document (cover, contents, a forum per page)."""
    report = programme_report(current_user, ReportFilters.from_args(request.args))
    return _programme_page(report)


@bp.get("/programme.pdf")
def programme_report_pdf():
    """The same document rendered on the server (WeasyPrint); without it, back to the printable page, saying why."""
    filters = ReportFilters.from_args(request.args)
    status = pdf_status()
    if not status.available:
        flash(status.how_to_enable, "warning")
        return redirect(url_for("reports.programme_report_page", **filters.args()))
    report = programme_report(current_user, filters)
    try:
        body = render_pdf(_programme_page(report, status, "reports/programme_pdf.html"))
    except PdfUnavailable:  # the libraries went away under a running process
        flash(pdf_status().how_to_enable, "warning")
        return redirect(url_for("reports.programme_report_page", **filters.args()))
    name = f"forum-desk-report-{filters.start.isoformat()}-{filters.end.isoformat()}.pdf"
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})
