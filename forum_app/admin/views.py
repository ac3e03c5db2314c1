"""Administration: people, organisations, programmes, grants and their teams (the audit log: audit_log/).

Thin views: parse the request, check permission (once, for the whole blueprint), call a
service, render.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions
from ..account.queries import session_rows
from ..auth import second_factor
from ..auth import services as accounts
from ..auth.reauth import authenticated_recently, recent_auth_required
from ..auth.sessions import current_session_id
from ..core.actor import current_actor, require_sign_in
from ..core.audit import seal as seal_audit
from ..core.errors import NotFound, ServiceError
from ..core.forms import edit_record, run_action, run_service, status_for
from ..core.paging import paginate
from ..core.search import clean_query, contains
from ..extensions import db
from ..models import Grant, GrantTeam, Organisation, Programme, User
from ..people import erasure
from ..people.views import export_response
from . import queries, services
from .forms import GrantForm, OrganisationForm, ProgrammeForm, TeamMemberForm, UserForm

bp = Blueprint("admin", __name__)
require_sign_in(bp)


@bp.before_request
def only_admins():
    permissions.require(permissions.can_administer(current_user))


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound()
    return obj


def _search(stmt, *columns, folded=None):
    """Filter ``stmt`` by the ``q`` query parameter: on a model's ``folded`` search_text (case,
    diacritics and script folded), or case-insensitively on ``columns`` (the audit log)."""
    q = clean_query(request.args.get("q"))
    if q:
        stmt = stmt.where(contains(q, *columns, folded=folded))
    return stmt, q


def _organisation_choices(blank: bool) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.country).order_by(Organisation.name)
    ).all()
    choices = [(r.id, f"{r.name} ({r.country})") for r in rows]
    return ([(0, _("— none —"))] if blank else []) + choices


def _simple_form(form, obj, input_cls, save, *, title: str, listing: str, after_save=None):
    """Edit ``obj`` (or create one when None) on the shared simple form; back to ``listing`` when saved."""
    saved = edit_record(form, obj, input_cls, lambda data, loaded: save(current_actor(), obj, data, loaded))
    if saved is not None:
        flash(_("Saved."), "success")
        return redirect(after_save(saved) if after_save else url_for(listing))
    return render_template(
        "admin/simple_form.html", form=form, obj=obj, title=title, back=url_for(listing)
    ), status_for(form)


# --- people ---------------------------------------------------------------------------------


@bp.get("/users")
def users():
    q = clean_query(request.args.get("q"))
    return render_template("admin/users.html", page=queries.people_page(q, request.args.get("page")), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    form.organisation_id.choices = _organisation_choices(blank=True)
    if form.validate_on_submit():
        user = run_service(
            form,
            lambda: accounts.invite_user(
                current_actor(),
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                organisation_id=form.organisation_id.data or None,
                job_title=form.job_title.data or "",
            ),
        )
        if user is not None:
            flash(_("%(name)s was invited; the set-password email is in the outbox.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None), status_for(form)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _get(User, user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = _organisation_choices(blank=True)
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id or 0

    def save(data: accounts.UserInput, loaded: dict | None) -> User:
        lock = permissions.account_change_lock(user, data.email, data.role, authenticated_recently())
        if lock:
            raise ServiceError(lock, field="email" if data.email != user.email else "role")
        return accounts.update_user(current_actor(), user, data, loaded)

    saved = edit_record(form, user, accounts.UserInput, save)
    if saved is not None:
        flash(_("Saved."), "success")
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        can_send_link=permissions.set_password_link_lock(user) is None,
        can_erase=permissions.erase_lock(current_user, user) is None,
        # Where to confirm the password before changing the address or role (None: given recently).
        reauth_url=None if authenticated_recently() else url_for("auth.reauth", next=request.path),
        sessions=session_rows(user, current_session_id()),
    ), status_for(form)


@bp.post("/users/<int:user_id>/sessions/<int:session_id>/end")
def user_end_session(user_id: int, session_id: int):
    user = _get(User, user_id)
    run_action(lambda: services.end_user_session(current_actor(), user, session_id), _("That session is signed out."))
    return redirect(url_for("admin.user_edit", user_id=user.id, _anchor="sessions"))


@bp.post("/users/<int:user_id>/sessions/end-all")
def user_end_sessions(user_id: int):
    user = _get(User, user_id)
    run_action(
        lambda: services.end_user_sessions(current_actor(), user),
        _("%(name)s is signed out everywhere.", name=user.name),
    )
    return redirect(url_for("admin.user_edit", user_id=user.id, _anchor="sessions"))


@bp.post("/users/<int:user_id>/active")
def user_set_active(user_id: int):
    user = _get(User, user_id)
    active = request.form.get("active") == "1"
    run_action(
        lambda: accounts.set_active(current_actor(), user, active),
        _("%(name)s is now active.", name=user.name)
        if active
        else _("%(name)s is deactivated and signed out everywhere.", name=user.name),
    )
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/second-factor/reset")
@recent_auth_required(come_back_to="admin.user_edit")
def user_reset_second_factor(user_id: int):
    user = _get(User, user_id)
    run_action(
        lambda: second_factor.reset_by_administrator(current_actor(), user),
        _("The second factor of %(name)s is turned off and their sessions ended.", name=user.name),
    )
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/export")
@recent_auth_required(come_back_to="admin.user_edit")
def user_export(user_id: int):
    """Anyone's export, for an administrator answering a request (``format`` json or html)."""
    user = _get(User, user_id)
    permissions.require(permissions.can_export_person(current_user, user))
    try:
        return export_response(current_actor(), user, request.form.get("format", "html"))
    except ServiceError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/erase")
@recent_auth_required(come_back_to="admin.user_edit")
def user_erase(user_id: int):
    """Erase a person (pseudonymise them everywhere); asked twice (``confirmed=yes``)."""
    user = _get(User, user_id)
    lock = permissions.erase_lock(current_user, user)
    if lock:
        flash(lock, "danger")
    elif request.form.get("confirmed") == "yes":
        seal_audit()  # entries not sealed yet would keep the name: seal them before redacting
        run_action(lambda: erasure.erase(current_actor(), user), _("The person is erased."))
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/invite")
def user_resend_invite(user_id: int):
    user = _get(User, user_id)
    run_action(
        lambda: accounts.resend_set_password_link(current_actor(), user), _("A new set-password link is in the outbox.")
    )
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- organisations -----------------------------------------------------------------------------


@bp.get("/organisations")
def organisations():
    stmt = select(Organisation).order_by(Organisation.country, Organisation.name)
    stmt, q = _search(stmt, folded=Organisation.search_text)
    return render_template("admin/organisations.html", page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"org_id": None})
@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
def organisation_form(org_id: int | None):
    org = _get(Organisation, org_id) if org_id is not None else None
    return _simple_form(
        OrganisationForm(obj=org),
        org,
        services.OrganisationInput,
        services.save_organisation,
        title=_("Organisation"),
        listing="admin.organisations",
    )


# --- programmes -------------------------------------------------------------------------------


@bp.get("/programmes")
def programmes():
    stmt = select(Programme).order_by(Programme.name)
    stmt, q = _search(stmt, folded=Programme.search_text)
    return render_template("admin/programmes.html", page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/programmes/new", methods=["GET", "POST"], defaults={"programme_id": None})
@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
def programme_form(programme_id: int | None):
    programme = _get(Programme, programme_id) if programme_id is not None else None
    return _simple_form(
        ProgrammeForm(obj=programme),
        programme,
        services.ProgrammeInput,
        services.save_programme,
        title=_("Programme"),
        listing="admin.programmes",
    )


# --- grants ---------------------------------------------------------------------------------------


@bp.get("/grants")
def grants():
    stmt = select(Grant).options(joinedload(Grant.programme), joinedload(Grant.holder)).order_by(Grant.reference)
    stmt, q = _search(stmt, folded=Grant.search_text)
    return render_template("admin/grants.html", page=paginate(stmt, request.args.get("page")), q=q)


@bp.route("/grants/new", methods=["GET", "POST"], defaults={"grant_id": None})
@bp.route("/grants/<int:grant_id>/edit", methods=["GET", "POST"])
def grant_form(grant_id: int | None):
    grant = _get(Grant, grant_id) if grant_id is not None else None
    form = GrantForm(obj=grant)
    form.programme_id.choices = [
        (p.id, p.name) for p in db.session.execute(select(Programme).order_by(Programme.name)).scalars()
    ]
    form.holder_id.choices = _organisation_choices(blank=False)
    return _simple_form(
        form,
        grant,
        services.GrantInput,
        services.save_grant,
        title=_("Grant"),
        listing="admin.grants",
        after_save=lambda saved: url_for("admin.grant", grant_id=saved.id),
    )


@bp.route("/grants/<int:grant_id>", methods=["GET", "POST"])
def grant(grant_id: int):
    grant = db.session.execute(
        select(Grant)
        .where(Grant.id == grant_id)
        .options(
            joinedload(Grant.programme),
            joinedload(Grant.holder),
            selectinload(Grant.team).joinedload(GrantTeam.user).joinedload(User.organisation),
            selectinload(Grant.forums),
        )
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound()
    form = TeamMemberForm()
    if form.validate_on_submit():
        user = run_service(form, lambda: services.add_to_team(current_actor(), grant, form.email.data))
        if user is not None:
            flash(_("%(name)s is now an organiser of this grant.", name=user.name), "success")
            return redirect(url_for("admin.grant", grant_id=grant.id))
    return render_template("admin/grant.html", grant=grant, form=form), status_for(form)


@bp.post("/grants/<int:grant_id>/team/<int:user_id>/remove")
def grant_team_remove(grant_id: int, user_id: int):
    grant = _get(Grant, grant_id)
    run_action(lambda: services.remove_from_team(current_actor(), grant, user_id), _("Removed from the team."))
    return redirect(url_for("admin.grant", grant_id=grant.id))
