"""Forum pages: list, forum page, create/edit, members."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import permissions
from ..actions.followup import overdue_in_forum
from ..core import once
from ..core.actor import current_actor, require_sign_in
from ..core.forms import edit_record, run_action, run_service, status_for
from ..core.search import clean_query
from ..core.urls import parse_id
from ..extensions import db
from ..models import Grant, Organisation
from ..vocab import COUNTRIES
from . import queries, services
from .forms import ForumForm, MemberForm, MemberRoleForm

bp = Blueprint("forums", __name__)
require_sign_in(bp)


@bp.get("/forums")
def index():
    args = request.args
    filters = queries.ForumFilters(
        country=args.get("country", "") if args.get("country", "") in COUNTRIES else "",
        grant_id=parse_id(args.get("grant")),
        city=args.get("city", "").strip()[:120],
        q=clean_query(args.get("q")),
    )
    page = queries.forum_list(current_user, filters, args.get("page"))
    return render_template(
        "forums/index.html",
        rows=page.items,
        page=page,
        filters=filters,
        choices=queries.filter_choices(current_user),
        can_create=permissions.can_create_forums(current_user),
    )


@bp.get("/forums/<int:forum_id>")
def forum(forum_id: int):
    page = queries.forum_page(current_user, forum_id)
    return render_template(
        "forums/forum.html", page=page, forum=page.forum, overdue=overdue_in_forum(current_user, page.forum)
    )


def _grant_choices() -> list[tuple[int, str]]:
    grants = db.session.execute(permissions.creatable_grants(current_user).order_by(Grant.reference)).scalars()
    return [(g.id, f"{g.reference} — {g.title}") for g in grants]


@bp.route("/forums/new", methods=["GET", "POST"], defaults={"forum_id": None})
@bp.route("/forums/<int:forum_id>/edit", methods=["GET", "POST"])
@once.create_form
def forum_form(forum_id: int | None):
    if forum_id is None:
        permissions.require(permissions.can_create_forums(current_user))
        forum = None
    else:
        forum = permissions.load_forum(current_user, forum_id, need="edit")
    form = ForumForm(obj=forum)
    form.grant_id.choices = _grant_choices()
    saved = edit_record(
        form,
        forum,
        services.ForumInput,
        lambda data, loaded: once.guard(
            current_actor(),
            lambda: services.save_forum(current_actor(), forum, data, loaded),
            lambda saved: url_for("forums.forum", forum_id=saved.id),
        )(),
    )
    if saved is not None:
        flash(_("Saved."), "success")
        return redirect(url_for("forums.forum", forum_id=saved.id))
    return render_template("forums/forum_form.html", form=form, forum=forum), status_for(form)


@bp.route("/forums/<int:forum_id>/members", methods=["GET", "POST"])
@once.create_form
def members(forum_id: int):
    page = queries.forum_page(current_user, forum_id, need="edit")
    forum = page.forum
    form = MemberForm()
    form.organisation_id.choices = [(0, _("— choose —"))] + [
        (o.id, f"{o.name} ({o.city})")
        for o in db.session.execute(
            select(Organisation).where(Organisation.country == forum.country).order_by(Organisation.name)
        ).scalars()
    ]
    if form.validate_on_submit():
        result = run_service(
            form,
            once.guard(
                current_actor(),
                lambda: services.add_member(
                    current_actor(),
                    forum,
                    email=form.email.data,
                    role=form.role.data,
                    name=form.name.data or "",
                    organisation_id=form.organisation_id.data or None,
                ),
                lambda _added: url_for("forums.members", forum_id=forum.id),
            ),
        )
        if result is not None:
            # One answer whether the address was new, known elsewhere or closed, in the name the
            # organiser typed (issue 22 point 5); the account's own only for people the grant knows.
            user, _created = result
            flash(_("%(name)s was added.", name=(form.name.data or "").strip() or user.name), "success")
            return redirect(url_for("forums.members", forum_id=forum.id))
    return render_template(
        "forums/members.html", page=page, forum=forum, form=form, role_form=MemberRoleForm()
    ), status_for(form)


@bp.post("/forums/<int:forum_id>/members/<int:member_id>/role")
def member_role(forum_id: int, member_id: int):
    forum = permissions.load_forum(current_user, forum_id, need="edit")
    form = MemberRoleForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.change_member_role(current_actor(), forum, member_id, form.role.data), _("Role changed.")
    )
    return redirect(url_for("forums.members", forum_id=forum.id))


@bp.post("/forums/<int:forum_id>/members/<int:member_id>/remove")
def member_remove(forum_id: int, member_id: int):
    forum = permissions.load_forum(current_user, forum_id, need="edit")
    run_action(
        lambda: services.remove_member(current_actor(), forum, member_id),
        _("Removed from the forum. Their past attendance and actions stay on record."),
    )
    return redirect(url_for("forums.members", forum_id=forum.id))
