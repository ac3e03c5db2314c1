"""Writing, saving and publishing news items. Services flush and audit; core.commit.attempt commits.

The pre-fill tells each meeting held in the period in the seed's style ("30. juni 2021. u gradu Sarajevo,
Bosna i Hercegovina, sa fokusom na …"), in the language the author chooses: dates by Babel in that locale
(``format_date``), the sentence a translated template. City names are not declined: Bosnian, Serbian and
Montenegrin want the locative ("u Sarajevu"), which cannot be derived from a stored name, so the template
says "in the city of %(city)s" ("u gradu Sarajevo"), correct with the name in its plain form.

Nothing confidential reaches a news item: the pre-fill reads only what is public (kinds of agency and
head-counts, never names; decisions explicitly marked public; never a confidential item), and every save
refuses a body that carries the meetings' confidential content or a participant's name
(``queries.unsayable``) or words the privacy screen flags (core.privacy): a public text has no "save anyway".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..core import audit, language
from ..core.clock import utcnow
from ..core.errors import ServiceError
from ..core.markdown import render_for_storage
from ..core.privacy import screen
from ..extensions import db
from ..models import Grant, NewsItem, Programme, User
from ..permissions import ensure
from ..vocab import COUNTRIES, ORGANISATION_KINDS
from . import queries

MAX_TITLE = 300
MAX_BODY = 20_000
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class ComposeInput:
    """What a news item is about: a programme (or an organiser's grant), a period, a language."""

    programme_id: int
    grant_id: int | None
    period_start: date
    period_end: date
    language: str


@dataclass(frozen=True)
class NewsInput:
    title: str
    body_md: str
    version: int  # the row version the form was opened with


# --- the pre-fill ----------------------------------------------------------------------------------------


def _sentence(row: queries.HeldForum, code: str) -> str:
    day = format_date(row.day, "long", locale=language.locale_of(code))
    country = str(COUNTRIES.get(row.country, row.country))
    if row.focus:
        # TRANSLATORS: one forum in a news item, as the seed text: "30. juni 2021. u gradu Sarajevo, Bosna i
        # Hercegovina, sa fokusom na …". The city stays in its plain form, so keep a "in the city of" phrase.
        text = _(
            "%(date)s in the city of %(city)s, %(country)s, with a focus on %(focus)s",
            date=day,
            city=row.city,
            country=country,
            focus=row.focus,
        )
    else:
        text = _("%(date)s in the city of %(city)s, %(country)s", date=day, city=row.city, country=country)
    if row.people:
        kinds = ", ".join(str(ORGANISATION_KINDS[kind]) for kind in row.kinds)
        text += "; " + ngettext(
            "%(num)d participant from: %(kinds)s",
            "%(num)d participants from: %(kinds)s",
            row.people,
            kinds=kinds,
        )
    return text + "."


def _list_text(text: str) -> str:
    """``text`` as a Markdown list item's text: a leading "30." (the day, in the region's dates) or
    "2)" escaped, or Markdown would open a numbered list starting at 30 inside the item."""
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)


def prefill(scope: ComposeInput) -> tuple[str, str, bool]:
    """The title, the Markdown body and whether it names Kosovo*, in ``scope.language``."""
    rows = queries.held_forums(scope.programme_id, scope.grant_id, scope.period_start, scope.period_end)
    code = language.known(scope.language) or language.DEFAULT
    with language.speaking(code):
        start = format_date(scope.period_start, "long", locale=language.locale_of(code))
        end = format_date(scope.period_end, "long", locale=language.locale_of(code))
        title = _("Local coordination forums, %(start)s – %(end)s", start=start, end=end)
        if not rows:
            return title, _("No forum met in this period.") + "\n", False
        lines = [
            ngettext(
                "In this period %(num)d local coordination forum was held:",
                "In this period %(num)d local coordination forums were held:",
                len(rows),
            ),
            "",
        ]
        for row in rows:
            lines.append("- " + _list_text(_sentence(row, code)))
            for decision in row.public_decisions:
                lines.append("    - " + _list_text(decision))
        body = "\n".join(lines) + "\n"
    return title, body, any(row.country == "XK" for row in rows)


# --- checks ----------------------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _check_text(item_scope: ComposeInput, title: str, body_md: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    body_md = (body_md or "").replace("\r\n", "\n").strip() + "\n"
    if not title:
        raise ServiceError(_("Give the news item a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(
            ngettext("Keep the title under %(num)d character.", "Keep the title under %(num)d characters.", MAX_TITLE),
            field="title",
        )
    if len(body_md) > MAX_BODY:
        raise ServiceError(
            ngettext("Keep the text under %(num)d character.", "Keep the text under %(num)d characters.", MAX_BODY),
            field="body_md",
        )
    text = _normal(title + "\n" + body_md)
    for secret in queries.unsayable(
        item_scope.programme_id, item_scope.grant_id, item_scope.period_start, item_scope.period_end
    ):
        if _normal(secret) in text:
            # The refusal names no content: the author knows what they wrote, the page may be seen by others.
            raise ServiceError(
                _(
                    "The text contains a person's name or confidential content from the meetings. A news item is "
                    "public: remove it (names of participants and confidential items never go into the news)."
                ),
                field="body_md",
            )
    if screen(title + "\n" + body_md, utcnow().date()):
        raise ServiceError(
            _("The text looks like it holds a person's identity number or date of birth. A public text cannot."),
            field="body_md",
        )
    return title, body_md


def _mentions_kosovo(body_md: str, code: str) -> bool:
    with language.speaking(code):
        name = str(COUNTRIES["XK"]).rstrip("*")
    return any(word.casefold() in body_md.casefold() for word in {name, "Kosov", "Косов"})


def _scope_of(item: NewsItem) -> ComposeInput:
    return ComposeInput(item.programme_id, item.grant_id, item.period_start, item.period_end, item.language)


def _check_scope(actor: User, scope: ComposeInput) -> None:
    ensure(permissions.news_scope_lock(actor, scope.grant_id), field="grant_id")
    if db.session.get(Programme, scope.programme_id) is None:
        raise ServiceError(_("Choose a programme."), field="programme_id")
    if scope.grant_id is not None:
        grant = db.session.get(Grant, scope.grant_id)
        if grant is None or grant.programme_id != scope.programme_id:
            raise ServiceError(_("This grant is not part of the programme chosen."), field="grant_id")
    if scope.period_end < scope.period_start:
        raise ServiceError(_("The period ends before it starts."), field="period_end")
    if scope.period_end - scope.period_start > timedelta(days=MAX_PERIOD_DAYS):
        raise ServiceError(_("Choose a period of at most a year."), field="period_end")
    if language.known(scope.language) is None:
        raise ServiceError(_("Choose a language."), field="language")


# --- the services ----------------------------------------------------------------------------------------


def start_draft(actor: User, scope: ComposeInput) -> NewsItem:
    """A new draft, pre-filled from the meetings held in the period (its author edits it before publishing)."""
    _check_scope(actor, scope)
    title, body_md, kosovo = prefill(scope)
    title, body_md = _check_text(scope, title, body_md)
    now = utcnow()
    item = NewsItem(
        programme_id=scope.programme_id,
        grant_id=scope.grant_id,
        period_start=scope.period_start,
        period_end=scope.period_end,
        language=scope.language,
        title=title[:MAX_TITLE],
        body_md=body_md,
        body_html=render_for_storage(body_md, field="body_md"),
        kosovo_footnote=kosovo or _mentions_kosovo(body_md, scope.language),
        state="draft",
        author_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "news.create", item, f"News item: {item.title}")
    return item


def _ensure_version(item: NewsItem, version: int) -> None:
    if item.version != version:
        # Refused as a stale write: core.commit says someone else saved first, nothing is changed.
        raise StaleDataError("news item saved since the form was opened")


def save(actor: User, item: NewsItem, data: NewsInput) -> NewsItem:
    """Save the author's text (a published item stays published: corrections are public at once)."""
    ensure(None if permissions.can_edit_news(actor, item) else _("Only the item's author edits it."))
    _ensure_version(item, data.version)
    title, body_md = _check_text(_scope_of(item), data.title, data.body_md)
    if (title, body_md) == (item.title, item.body_md):
        return item
    item.body_html = render_for_storage(body_md, field="body_md")
    item.title, item.body_md = title, body_md
    item.kosovo_footnote = item.kosovo_footnote or _mentions_kosovo(body_md, item.language)
    item.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "news.save", item, f"News item: {title}")
    return item


def publish(actor: User, item: NewsItem, version: int) -> NewsItem:
    """Make the draft public on /news and in the feed; checked once more against today's meetings."""
    ensure(None if permissions.can_edit_news(actor, item) else _("Only the item's author publishes it."))
    _ensure_version(item, version)
    if item.state == "published":
        raise ServiceError(_("This news item is already published."))
    _check_text(_scope_of(item), item.title, item.body_md)
    item.state = "published"
    item.published_at = item.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "news.publish", item, f"Published news item: {item.title}")
    return item


def withdraw(actor: User, item: NewsItem, version: int) -> NewsItem:
    """Back to a draft: off /news and the feed."""
    ensure(None if permissions.can_edit_news(actor, item) else _("Only the item's author withdraws it."))
    _ensure_version(item, version)
    if item.state != "published":
        raise ServiceError(_("This news item is not published."))
    item.state, item.published_at, item.updated_at = "draft", None, utcnow()
    db.session.flush()
    audit.record(actor, "news.withdraw", item, f"Withdrew news item: {item.title}")
    return item


def footer(item: NewsItem, programme_name: str) -> list[str]:
    """What every news item carries after its text, in the item's language and not editable: the programme's
    funding line, its disclaimer and, when the item names Kosovo*, the footnote."""
    from ..vocab import KOSOVO_FOOTNOTE, PROGRAMME_DISCLAIMER

    with language.speaking(item.language):
        lines = [
            _(
                "The forums are part of %(programme)s, a joint programme of the European Union and the Council of "
                "Europe, funded by both.",
                programme=programme_name,
            ),
            str(PROGRAMME_DISCLAIMER),
        ]
        if item.kosovo_footnote:
            lines.append(str(KOSOVO_FOOTNOTE))
    return lines
