"""Server-side PDF with WeasyPrint, for the printable pages (the programme report, the sign-in sheet).

WeasyPrint is imported only when a PDF is asked for: it needs system libraries (Pango, HarfBuzz,
fontconfig; docs/operations.md) that a host may lack, and without them the printable page still
works and its "Download PDF" button says how to get them (``pdf_status``).

Rendering never reaches the network: ``StaticOnlyFetcher`` serves the app's own static files (the
stylesheets the page links) from disk and refuses every other URL, so a link or image in user text
cannot make the server fetch anything (no SSRF, no local files).
"""

from __future__ import annotations

import logging
import mimetypes
import os
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import safe_join

# Where the page gets its stylesheets from while it is rendered: a name that resolves nowhere, so a
# URL the fetcher let through by mistake could not reach a real host either.
BASE_URL = "https://forum-desk.invalid/"


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or its system libraries) cannot be used on this host."""


@dataclass(frozen=True)
class PdfStatus:
    available: bool
    how_to_enable: str  # what the button says when it is not ("" when it is)


@cache
def _import_problem() -> str:
    """Why WeasyPrint cannot be imported here ("" when it can): once per process."""
    try:
        import weasyprint  # noqa: F401 - imported to learn whether it loads (and its libraries with it)
    except ImportError as error:  # the package is not installed
        return f"ImportError: {error}"
    except OSError as error:  # installed, but Pango or another system library is missing
        return f"OSError: {error}"
    return ""


def pdf_status() -> PdfStatus:
    """Whether "Download PDF" works here, and if not, what to do about it (for the button)."""
    if not current_app.config.get("PDF_RENDERING", True):
        return PdfStatus(False, _("PDF download is turned off on this server (PDF_RENDERING). Use Print instead."))
    problem = _import_problem()
    if problem:
        current_app.logger.info("PDF download unavailable: %s", problem)
        return PdfStatus(
            False,
            _(
                "PDF download needs WeasyPrint and its system libraries (Pango, HarfBuzz, fontconfig), which this "
                "server lacks: ask the administrator to install them (see the operations guide). Print works "
                "meanwhile: choose Print and save as PDF."
            ),
        )
    return PdfStatus(True, "")


def _static_url_path() -> str:
    return (current_app.static_url_path or "/static").rstrip("/") + "/"


def _weasyprint() -> Any:
    if not pdf_status().available:
        raise PdfUnavailable(_import_problem() or "PDF_RENDERING is off")
    import weasyprint

    return weasyprint


def static_only_fetcher(refused: list[str] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves the app's static files and refuses everything else.

    ``refused``: the URLs it turned away are appended there (the tests read it).
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_folder = current_app.static_folder or ""
    prefix = _static_url_path()
    base = urlsplit(BASE_URL)

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            path = parts.path
            if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and path.startswith(prefix):
                file = safe_join(static_folder, path[len(prefix) :])
                if file and os.path.isfile(file):
                    with open(file, "rb") as handle:
                        body = handle.read()
                    kind = mimetypes.guess_type(file)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body, {"Content-Type": kind})
            if refused is not None:
                refused.append(url)
            raise ValueError(f"not one of the app's static files: {url}")

    return StaticOnlyFetcher()


def render_pdf(html: str, refused: list[str] | None = None) -> bytes:
    """The PDF of a page rendered by the app (its static stylesheets, media print)."""
    weasyprint = _weasyprint()
    # Bootstrap's screen-only CSS makes WeasyPrint warn about every rule it does not support; its
    # errors are still logged, and a refused URL is in ``refused``.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=static_only_fetcher(refused))
    return document.write_pdf()
