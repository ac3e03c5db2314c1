"""Request-wide behaviour: proxy, security headers, error pages, template helpers.

``init_app`` runs the ``configure_*`` steps in order; each says what it sets up.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context
from markupsafe import escape
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from . import permissions
from .core import audit
from .core.commit import attempt
from .core.errors import Forbidden, NotFound
from .core.forms import error_links
from .core.markdown import stored_html
from .core.once import new_token
from .extensions import db
from .vocab import (
    ACTION_STATES,
    ACTION_UPDATE_KINDS,
    AGENDA_ITEM_KINDS,
    ATTENDANCE_STATES,
    COUNTRIES,
    DOCUMENT_KINDS,
    FORUM_ROLES,
    KOSOVO_FOOTNOTE,
    MEETING_STATES,
    MINUTES_STATES,
    ORGANISATION_KINDS,
    PROGRAMME_DISCLAIMER,
    RSVP_STATES,
    SYSTEM_ROLES,
    kosovo_shown,
)

# No inline script or style anywhere: every page must run under this policy.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # data: stays for images only: the vendored Bootstrap CSS draws the select arrow, the
        # checkbox tick, the navbar toggler and the field-validation icons as data: SVGs.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _server_name(handler) -> str:
    return "Forum Desk"


def init_app(app: Flask) -> None:
    configure_proxy(app)
    configure_request_checks(app)
    configure_security_headers(app)
    configure_error_pages(app)
    configure_templates(app)


def configure_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, the client's address, scheme and host come from their headers."""
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to add WSGI middleware; its types declare wsgi_app a method, not an attribute.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    # The development server (and the tests' live server) would announce
    # "Werkzeug/x.y Python/x.y"; gunicorn sends only "gunicorn", without a version.
    # Replaced on the class: the servers are started elsewhere (flask run, the tests' live server), without
    # a way to pass them a handler subclass. setattr, as mypy refuses assigning to a method.
    setattr(WSGIRequestHandler, "version_string", _server_name)  # noqa: B010


def configure_request_checks(app: Flask) -> None:
    def name_the_request():
        # First, so that even a refused request has an id: audit entries, log lines and the
        # error page's incident number all carry it (core.audit.request_id).
        g.request_id = audit.new_request_id()

    # Before every other check, those registered earlier included: Flask-WTF's CSRF check and a body
    # over MAX_CONTENT_LENGTH refuse the request in their own before_request (400, 413), and their
    # error pages must name the incident too.
    app.before_request_funcs.setdefault(None, []).insert(0, name_the_request)

    @app.after_request
    def tell_the_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response

    @app.before_request
    def refuse_nul_characters():
        # U+0000 is never meaningful input, and PostgreSQL refuses it in text: answer
        # it as bad input before it reaches a query instead of failing inside one. Header
        # values count too: the User-Agent and X-Forwarded-For end up in the database.
        values = [request.path, *request.headers.values(), *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400, description=_("The request contains a character that is not allowed (NUL)."))
        # A JSON body carries it as "\u0000", seen only once parsed. Named per field, the way the
        # API reports a field's problems (its error handler reads ``data["messages"]``).
        fields = _fields_with_nul(request.get_json(silent=True)) if request.is_json else []
        if fields:
            refused = BadRequest(description=_("The request contains a character that is not allowed (NUL)."))
            message = _("This value contains a character that is not allowed (NUL).")
            refused.data = {"messages": {"json": {name: [message] for name in fields}}}
            raise refused


def _fields_with_nul(body: Any) -> list[str]:
    """Where U+0000 occurs in a parsed JSON body, as dotted paths ("comment", "items.0.name"); in a
    key, the path is that key's own. Walked without recursion: as deep as the parser allowed."""
    found, waiting = [], [("", body)]
    while waiting:
        path, value = waiting.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "json")
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, inner in items:
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in where:
                found.append(where.replace("\x00", "\\u0000"))  # named as the client wrote it
            else:
                waiting.append((where, inner))
    return sorted(found)


def configure_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Links in pages (and the tokens in some URLs) never leak to other sites or to ours.
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # Under https, however the app learnt it (the configured BASE_URL, or the request itself, which
        # behind TRUSTED_PROXIES is the proxy's X-Forwarded-Proto): browsers ignore it over plain http.
        if app.config["SESSION_COOKIE_SECURE"] or request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        signed_in = current_user.is_authenticated or g.get("api_user") is not None
        if signed_in and "Cache-Control" not in headers:
            # Pages (and API answers) for a signed-in person hold personal data: kept by no cache at all.
            headers["Cache-Control"] = "no-store"
        return response


def configure_error_pages(app: Flask) -> None:
    """One error page (or JSON body) for every error, and domain errors from loaders as 404/403."""

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    def error_page(status: int, title: str, message: str):
        if request.path.startswith("/api/"):
            # The API's one error shape (documented in its OpenAPI document), also for a URL no route matches.
            return jsonify(message=message, errors={}), status
        if wants_json():
            return jsonify(error=title, message=message), status
        incident = g.get("request_id", "")
        return (
            render_template("errors/error.html", status=status, title=title, message=message, incident=incident),
            status,
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(
            400,
            _("Form expired"),
            _("This form was open too long or came from elsewhere. Go back, reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if exc.code == 403:
            audit_denied()
        body, status = error_page(exc.code, *error_texts(exc))
        return body, status, error_headers(exc)

    # Loaders raise domain errors; on a page they are the same 404/403 as everywhere.
    @app.errorhandler(NotFound)
    def not_found(exc):
        return http_error(HTTPNotFound())

    @app.errorhandler(Forbidden)
    def forbidden(exc):
        return http_error(HTTPForbidden())

    @app.errorhandler(500)
    def server_error(exc):
        # Flask has logged the traceback; this line ties it to the number the person sees.
        current_app.logger.error("Incident %s: %s %s", g.get("request_id", "-"), request.method, request.path)
        return error_page(
            500,
            _("Something went wrong"),
            _("The error has been logged. Nothing you entered was saved; please try again."),
        )


def audit_denied() -> None:
    """Write a refused access to the audit log, in a transaction of its own (the request's is
    given up: it was going to be refused anyway)."""
    db.session.rollback()
    user = current_user if current_user.is_authenticated else None
    attempt(lambda: audit.record_denied(user))


def error_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """The headers an error itself owes the client, whatever page or JSON body goes with it:
    ``Allow`` on a 405 (RFC 9110, 15.5.6: the methods that would work), ``WWW-Authenticate``,
    ``Content-Range`` on a 416. Werkzeug puts them on its own error response, which ours replaces."""
    return [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]


def error_texts(exc: HTTPException) -> tuple[str, str]:
    """An HTTP error's title and message in the reader's language (never Werkzeug's English ones)."""
    code = exc.code or 500
    messages = {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You do not have permission to see or change this.")),
        404: (_("Not found"), _("There is nothing here, or you may not see it.")),
        405: (_("Not allowed"), _("That method is not allowed here.")),
        413: (_("Too large"), _("What you sent is larger than this site accepts.")),
        429: (_("Too many attempts"), _("Please wait a few minutes and try again.")),
    }
    if code in messages:
        title, message = messages[code]
    elif code >= 500:
        title, message = _("Something went wrong"), _("Please wait a few minutes and try again.")
    else:
        title, message = messages[400]
    if code == 400 and exc.description and exc.description != type(exc).description:
        message = exc.description  # a specific reason given with abort(400, description=_(...))
    return title, message


def configure_templates(app: Flask) -> None:
    """What every template may use: vocabularies, labels, dates, the navigation, row links.

    Templates get values and flags computed for them; nothing here lets a template decide who may do what.
    """
    # Vocabularies are globals (not context) so imported macros see them too.
    app.jinja_env.globals.update(
        COUNTRIES=COUNTRIES,
        ORGANISATION_KINDS=ORGANISATION_KINDS,
        SYSTEM_ROLES=SYSTEM_ROLES,
        MEETING_STATES=MEETING_STATES,
        DOCUMENT_KINDS=DOCUMENT_KINDS,
        MINUTES_STATES=MINUTES_STATES,
        AGENDA_ITEM_KINDS=AGENDA_ITEM_KINDS,
        RSVP_STATES=RSVP_STATES,
        ATTENDANCE_STATES=ATTENDANCE_STATES,
        FORUM_ROLES=FORUM_ROLES,
        ACTION_STATES=ACTION_STATES,
        ACTION_UPDATE_KINDS=ACTION_UPDATE_KINDS,
        KOSOVO_FOOTNOTE=KOSOVO_FOOTNOTE,
        PROGRAMME_DISCLAIMER=PROGRAMME_DISCLAIMER,
    )

    install_escaped_gettext(app)

    @app.context_processor
    def navigation():
        # The signed-in person, resolved once: templates read current_user many times a page.
        user = permissions.resolved(current_user)
        return {"nav": permissions.navigation(user), "current_user": user}

    app.jinja_env.filters["country"] = lambda code: label(code, COUNTRIES)
    app.jinja_env.filters["kind"] = lambda kind: label(kind, ORGANISATION_KINDS)
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["labels"] = labels
    # Pages never render Markdown: they show the HTML rendered and sanitised when it was saved.
    app.jinja_env.filters["stored_html"] = stored_html
    app.jinja_env.globals["kosovo_shown"] = kosovo_shown
    app.jinja_env.globals["link_prefix"] = link_prefix
    app.jinja_env.globals["link_around"] = link_around
    app.jinja_env.globals["error_links"] = error_links
    # A create form's one-time token, for forms written by hand (core.once; WTForms forms carry it).
    app.jinja_env.globals["once_token"] = new_token


def install_escaped_gettext(app: Flask) -> None:
    """``_()``, ``ngettext()`` in templates: a translation is text, never markup.

    Flask-Babel installs Jinja's new-style gettext, which marks the translated string safe
    (``Markup(translation) % variables``): a catalogue entry with ``<script>`` would reach the page
    as markup, and an English string with ``<token>`` in it vanished as an unknown tag. Here the
    translation is escaped like any text first; the placeholders are then filled by ``Markup %``,
    which escapes the values too.
    """
    from flask_babel import get_translations

    # Jinja calls these through ``context.call``, which hands them the context: text templates
    # (emails' .txt, no autoescaping) get the translation as it is, HTML gets it escaped.
    def as_text(context, translated: str) -> str:
        return escape(translated) if context.eval_ctx.autoescape else translated

    @pass_context
    def gettext(context, text):
        return as_text(context, get_translations().ugettext(text))

    @pass_context
    def ngettext(context, singular, plural, n):
        return as_text(context, get_translations().ungettext(singular, plural, n))

    @pass_context
    def pgettext(context, msgctxt, text):
        return as_text(context, get_translations().upgettext(msgctxt, text))

    @pass_context
    def npgettext(context, msgctxt, singular, plural, n):
        return as_text(context, get_translations().unpgettext(msgctxt, singular, plural, n))

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )


def label(value, mapping) -> str:
    """``mapping[value]`` as text in the current locale (the value itself when unknown)."""
    if value is None:
        value = ""
    return str(mapping.get(value, value))


class Labels(dict):
    """A vocabulary's labels as text: ``labels[value]``, the value itself when unknown."""

    def __missing__(self, value) -> str:
        return "" if value is None else str(value)


def labels(mapping) -> Labels:
    """Every label of ``mapping`` translated once, for a page that shows them on many rows (each
    ``|label`` looks the translations up again through Flask-Babel's context)."""
    return Labels((value, str(text)) for value, text in mapping.items())


def link_prefix(endpoint: str, id_name: str, **values) -> str:
    """The URL of ``endpoint`` up to its trailing id, for lists that link every row: the row adds its id.

    url_for per row is measurable on pages with hundreds of rows; this is one call per page. A
    route whose id is not the last part of its path is refused here rather than linked wrongly.
    """
    before, after = link_around(endpoint, id_name, **values)
    if after:
        raise ValueError(f"{endpoint}: {id_name} is not the last part of its URL ({before}…{after})")
    return before


_ROW_ID = 987654321  # a stand-in id that no other part of a URL is made of


def link_around(endpoint: str, id_name: str, **values) -> tuple[str, str]:
    """The URL of ``endpoint`` cut where its id goes, for rows linking a route whose id is not last
    (``/forums/<id>/actions?overdue=1``): the row puts its id between the two parts.

    One url_for per page like ``link_prefix``; refused unless the id is one whole path segment.
    """
    the_id: dict[str, Any] = {id_name: _ROW_ID}  # url_for takes any value for the endpoint's arguments
    url = url_for(endpoint, **values, **the_id)
    before, found, after = url.partition(f"/{_ROW_ID}")
    if not found or str(_ROW_ID) in after or after[:1] not in ("", "/", "?"):
        raise ValueError(f"{endpoint}: {id_name} is not one segment of its URL ({url})")
    return before + "/", after
