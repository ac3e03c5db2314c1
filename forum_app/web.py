"""Request-wide behaviour: security headers, error pages, template helpers."""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from flask import Flask, abort, jsonify, render_template, request, url_for
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from . import permissions
from .core.dates import format_local, format_local_date, format_span
from .core.errors import Forbidden, NotFound
from .core.kept import Kept
from .core.markdown import stored_html
from .vocab import (
    ACTION_STATES, ACTION_UPDATE_KINDS, ATTENDANCE_STATES, COUNTRIES, FORUM_ROLES, KOSOVO_FOOTNOTE, MEETING_STATES,
    MINUTES_STATES, ORGANISATION_KINDS, RSVP_STATES, SYSTEM_ROLES,
)

# No inline script or style anywhere: every page must run under this policy.
CONTENT_SECURITY_POLICY = "; ".join([
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
])


def _server_name(handler) -> str:
    return "Forum Desk"


def init_app(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    # The development server (and the tests' live server) would announce
    # "Werkzeug/x.y Python/x.y"; gunicorn sends only "gunicorn", without a version.
    WSGIRequestHandler.version_string = _server_name

    @app.before_request
    def refuse_nul_characters():
        # U+0000 is never meaningful input, and PostgreSQL refuses it in text: answer
        # it as bad input before it reaches a query instead of failing inside one. Header
        # values count too: the User-Agent and X-Forwarded-For end up in the database.
        values = [request.path, *request.headers.values(), *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400, description=_("The request contains a character that is not allowed (NUL)."))

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
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user.is_authenticated and "Cache-Control" not in headers:
            # Pages for a signed-in person hold personal data: keep them out of shared caches.
            headers["Cache-Control"] = "no-store"
        return response

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    def error_page(status: int, title: str, message: str):
        if request.path.startswith("/api/"):
            # The API's one error shape (documented in its OpenAPI document), also for a URL no route matches.
            return jsonify(message=message, errors={}), status
        if wants_json():
            return jsonify(error=title, message=message), status
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(400, _("Form expired"),
                          _("This form was open too long or came from elsewhere. Go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        messages = {
            400: (_("Bad request"), _("The request could not be understood.")),
            403: (_("Not allowed"), _("You do not have permission to see or change this.")),
            404: (_("Not found"), _("There is nothing here, or you may not see it.")),
            405: (_("Not allowed"), _("That method is not allowed here.")),
            413: (_("Too large"), _("What you sent is larger than this site accepts.")),
            429: (_("Too many attempts"), _("Please wait a few minutes and try again.")),
        }
        title, message = messages.get(exc.code, (exc.name, exc.description or ""))
        if exc.code == 400 and exc.description and exc.description != type(exc).description:
            message = exc.description  # a specific reason given with abort(400, description=...)
        return error_page(exc.code, title, message)

    # Loaders raise domain errors; on a page they are the same 404/403 as everywhere.
    @app.errorhandler(NotFound)
    def not_found(exc):
        return http_error(HTTPNotFound())

    @app.errorhandler(Forbidden)
    def forbidden(exc):
        return http_error(HTTPForbidden())

    @app.errorhandler(500)
    def server_error(exc):
        return error_page(500, _("Something went wrong"),
                          _("The error has been logged. Nothing you entered was saved; please try again."))

    # Vocabularies are globals (not context) so imported macros see them too.
    app.jinja_env.globals.update(
        perm=permissions, COUNTRIES=COUNTRIES, ORGANISATION_KINDS=ORGANISATION_KINDS, SYSTEM_ROLES=SYSTEM_ROLES,
        MEETING_STATES=MEETING_STATES, MINUTES_STATES=MINUTES_STATES, RSVP_STATES=RSVP_STATES,
        ATTENDANCE_STATES=ATTENDANCE_STATES, FORUM_ROLES=FORUM_ROLES, ACTION_STATES=ACTION_STATES,
        ACTION_UPDATE_KINDS=ACTION_UPDATE_KINDS,
        KOSOVO_FOOTNOTE=KOSOVO_FOOTNOTE,
    )

    @app.context_processor
    def navigation():
        # The signed-in person, resolved once: templates read current_user many times a page.
        user = permissions.resolved(current_user)
        return {"nav": permissions.navigation(user), "current_user": user}

    _install_fast_translations(app)
    app.jinja_env.filters["country"] = lambda code: cached_label(code, COUNTRIES)
    app.jinja_env.filters["kind"] = lambda kind: cached_label(kind, ORGANISATION_KINDS)
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["when"] = format_span
    app.jinja_env.filters["localdate"] = format_local_date
    # Pages never render Markdown: they show the HTML rendered and sanitised when it was saved.
    app.jinja_env.filters["stored_html"] = stored_html
    app.jinja_env.filters["label"] = cached_label
    app.jinja_env.globals["any_kosovo"] = lambda codes: "XK" in set(codes)
    app.jinja_env.globals["link_prefix"] = link_prefix
    app.jinja_env.globals["link_around"] = link_around
    app.jinja_env.globals["kept_fragment"] = kept_fragment
    app.jinja_env.globals["kept_rows"] = kept_rows
    app.jinja_env.globals["render_once"] = render_once




# --- translations in templates, per request and per locale ---------------------------------------
# Flask-Babel's Jinja callables look up the domain, the locale and the translations through
# several context proxies on every call; a page calls them a few hundred times. These keep
# the translations object per request (keyed by the locale in force, so force_locale still
# works), and vocabulary labels per locale for the life of the process.

_LABELS: dict[tuple[object, int, str], str] = {}


def _babel_locale_key() -> object:
    # The Locale object itself (it hashes by its identifier): str(locale) on every label of a
    # page was measurable.
    ctx = _cv_app.get(None)
    babel_ctx = getattr(ctx.g, "_flask_babel", None) if ctx is not None else None
    return getattr(babel_ctx, "babel_locale", None) or get_locale() or ""


def _translations():
    ctx = _cv_app.get(None)
    if ctx is None:
        return get_translations()
    babel_ctx = getattr(ctx.g, "_flask_babel", None)
    key = getattr(babel_ctx, "babel_locale", None)
    cache = ctx.g.__dict__.setdefault("_forum_translations", {})
    translations = cache.get(key)
    if translations is None:
        translations = cache[key] = get_translations()
    return translations


def _install_fast_translations(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def cached_label(value, mapping) -> str:
    """``mapping[value]`` as text in the current locale (the value itself when unknown), cached per locale."""
    if value is None:
        value = ""
    key = (_babel_locale_key(), id(mapping), value)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = str(mapping.get(value, value))
    return label


# Three ways to keep what a page renders, all per language and URL root: ``kept_fragment`` /
# ``kept_render`` keep a part of a page in this process's LRU under a key that names its data (a stamp
# read in this request); ``kept_rows`` keeps each row of a list under the row's own value;
# ``render_once`` keeps a part inside an object that is itself kept (the dashboard's sums,
# reports.queries), so it lives and goes with that object.

def _rendered_key(*parts) -> tuple:
    return (*parts, _babel_locale_key(), request.script_root)


# Rendered fragments are a few hundred KB at most (a meeting's review of 200 actions: ~150 KB):
# a few dozen keep the meetings people are looking at without weighing on a worker's memory.
_FRAGMENTS = Kept(40)


def kept_fragment(key: Hashable | None, template: str, **context) -> Markup:
    """``template`` rendered with ``context``, kept per process under ``key`` (None: rendered every time).

    ``key`` must name everything the fragment shows (a stamp from the database read in this request
    makes it safe: core/kept.py); the locale and the URL root are added here, so the same rows in
    another language, or behind another proxy prefix, are rendered for themselves.
    """
    return kept_render(key, template, lambda: context)


def kept_render(key: Hashable | None, template: str, make_context: Callable[[], dict]) -> Markup:
    """``kept_fragment`` for a view: ``make_context`` (which loads what the fragment shows) runs only
    when the fragment is not kept."""
    if key is None:
        return Markup(render_template(template, **make_context()))
    return _kept(_FRAGMENTS, _rendered_key(template, key), lambda: render_template(template, **make_context()))


def _kept(store: Kept, key: Hashable, render: Callable[[], str]) -> Markup:
    """What ``store`` holds under ``key``, or ``render()`` put there."""
    html = store.get(key)
    if html is None:
        html = Markup(render())
        store.put(key, html)
    return html


# A row of a list is a kilobyte or two: enough for every forum card, a few pages of people and a
# couple of meetings' reviews (200 rows each) in each language; a few MB at most.
_ROWS = Kept(3000)


def kept_rows(template: str, rows: Iterable[Hashable], **context: Hashable) -> Markup:
    """Each of ``rows`` rendered by ``template`` (as ``row``, with ``context``), kept under the row's
    value and the context's; joined.

    For lists of plain frozen rows (core/rows.py): equal rows render equally, so the row itself is
    the key and a kept row can never show stale data (a row whose data changed is another key); a
    page renders only its new or changed rows. The template may show only ``row``, ``context``,
    translations and links. Anything but a frozen dataclass is refused: ORM objects compare by
    identity, so their rows would only ever be kept, never reused.
    """
    page_key = _rendered_key(template, tuple(sorted(context.items())))
    html = []
    for row in rows:
        params = getattr(row, "__dataclass_params__", None)
        if params is None or not params.frozen:
            raise TypeError(f"kept_rows needs frozen dataclass rows, not {type(row).__name__}")
        html.append(_kept(_ROWS, (row, page_key), lambda: render_template(template, row=row, **context)))
    return Markup("").join(html)


def render_once(store: dict, key, macro, *args):
    """``macro(*args)``, rendered once into ``store`` per ``key``, locale and script root, then reused.

    For parts of a page made only of what a kept object holds (reports.queries keeps the
    dashboard's sums, and ``store`` with them): dozens of figure rows are then rendered once per
    state of the data, not per request. ``key`` names the part and whatever else it depends on.
    """
    full = _rendered_key(key)
    html = store.get(full)
    if html is None:
        html = store[full] = macro(*args)
    return html


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
    url = url_for(endpoint, **values, **{id_name: _ROW_ID})
    before, found, after = url.partition(f"/{_ROW_ID}")
    if not found or str(_ROW_ID) in after or after[:1] not in ("", "/", "?"):
        raise ValueError(f"{endpoint}: {id_name} is not one segment of its URL ({url})")
    return before + "/", after
