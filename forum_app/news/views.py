"""/news: the public news page, one item's page and the Atom feed (readable without signing in), and the
composer for programme staff and organisers (signed in: compose, edit with preview, publish, withdraw)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..core import language
from ..core.actor import current_actor
from ..core.errors import ServiceError
from ..core.forms import run_action, run_service, status_for
from ..core.markdown import render_markdown, stored_html
from . import atom, queries, services
from .forms import ComposeForm, NewsForm, VersionForm

bp = Blueprint("news", __name__)

FEED_SIZE = 20


def _footers(items) -> dict[int, list[str]]:
    """Each item's funding line, disclaimer and footnote (its programme loaded with it: no query per item)."""
    return {item.id: services.footer(item, item.programme.name) for item in items}


@bp.get("/news")
def index():
    page = queries.published(request.args.get("page"))
    composer = permissions.can_compose_news(current_user)
    return render_template(
        "news/index.html",
        page=page,
        footers=_footers(page.items),
        can_compose=composer,
        drafts=queries.drafts_of(current_user) if composer else [],
    )


@bp.get("/news/<int:news_id>")
def item(news_id: int):
    news = permissions.load_news(current_user, news_id)
    return render_template(
        "news/item.html",
        item=news,
        body_html=stored_html(news.body_html),
        footer=services.footer(news, news.programme.name),
        can_edit=permissions.can_edit_news(current_user, news),
        version_form=VersionForm(formdata=None, version=news.version),
    )


@bp.get("/news/feed.atom")
def feed():
    items = queries.latest_published(FEED_SIZE)
    body = atom.feed(
        title=_("Forum Desk news"),
        feed_url=url_for("news.feed", _external=True),
        page_url=url_for("news.index", _external=True),
        items=items,
        item_url=lambda news: url_for("news.item", news_id=news.id, _external=True),
        footers=_footers(items),
        author="Forum Desk",
        empty_updated=datetime(2021, 1, 1, tzinfo=UTC),
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def _compose_form(formdata=None) -> ComposeForm:
    form = ComposeForm(formdata=formdata) if formdata is not None else ComposeForm()
    programmes, grants = queries.compose_choices(current_user)
    form.offer(programmes, grants, staff=permissions.is_staff(current_user))
    return form


@bp.route("/news/new", methods=["GET", "POST"])
@login_required
def compose():
    permissions.require(permissions.can_compose_news(current_user))
    form = _compose_form()
    if request.method == "GET":
        form.language.data = language.current_code()  # the author's own, until they choose the readers'
    if form.validate_on_submit():
        created = run_service(form, lambda: services.start_draft(current_actor(), form.to_input()))
        if created is not None:
            flash(_("Draft pre-filled from the meetings: read it, edit it, then publish."), "success")
            return redirect(url_for("news.edit", news_id=created.id))
    return render_template("news/compose.html", form=form), status_for(form)


@bp.route("/news/<int:news_id>/edit", methods=["GET", "POST"])
@login_required
def edit(news_id: int):
    news = permissions.load_news(current_user, news_id, need="edit")
    form = NewsForm()
    if request.method == "GET":
        form.title.data, form.body_md.data, form.version.data = news.title, news.body_md, news.version
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            try:
                preview = render_markdown(form.body_md.data, field="body_md")
            except ServiceError as exc:
                form.body_md.errors = [*form.body_md.errors, exc.message]
        else:
            saved = run_service(form, lambda: services.save(current_actor(), news, form.to_input()))
            if saved is not None:
                flash(_("Saved."), "success")
                return redirect(url_for("news.item", news_id=news.id))
    return render_template(
        "news/edit.html",
        form=form,
        item=news,
        preview=preview,
        footer=services.footer(news, news.programme.name),
        version_form=VersionForm(formdata=None, version=news.version),
    ), status_for(form)


def _step(news_id: int, step, success: str):
    news = permissions.load_news(current_user, news_id, need="edit")
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(lambda: step(current_actor(), news, form.version.data), success)
    return redirect(url_for("news.item", news_id=news.id))


@bp.post("/news/<int:news_id>/publish")
@login_required
def publish(news_id: int):
    return _step(news_id, services.publish, _("Published on the news page and in its feed."))


@bp.post("/news/<int:news_id>/withdraw")
@login_required
def withdraw(news_id: int):
    return _step(news_id, services.withdraw, _("Withdrawn: it is a draft again, seen only by you."))
