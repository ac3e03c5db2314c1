"""What an uploaded file really is: its first bytes (and, for a ZIP, its directory), never its name.

A document is accepted only when its content is one of the kinds below *and* the kind its name
declares (a PDF called .png is refused as much as an HTML page called .pdf). Browsers guess a
type from the first bytes of a response; these checks refuse what one could take for HTML or SVG
(markup in the first kilobyte, the bytes they sniff), so a file served back can never run as a
page, even if a header were lost on the way. No dependency beyond the standard library.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    extensions: tuple[str, ...]
    content_type: str  # what downloads are served as (never the browser's claim)
    label: str


PDF = FileKind(("pdf",), "application/pdf", "PDF")
PNG = FileKind(("png",), "image/png", "PNG")
JPEG = FileKind(("jpg", "jpeg"), "image/jpeg", "JPEG")
DOCX = FileKind(("docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX")
XLSX = FileKind(("xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")
PPTX = FileKind(("pptx",), "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PPTX")
ODT = FileKind(("odt",), "application/vnd.oasis.opendocument.text", "ODT")
ODS = FileKind(("ods",), "application/vnd.oasis.opendocument.spreadsheet", "ODS")
ODP = FileKind(("odp",), "application/vnd.oasis.opendocument.presentation", "ODP")

KINDS = (PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, ODP)
BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}
ACCEPTED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)

# OOXML: the part a document of that kind must have, named in [Content_Types].xml too.
_OOXML_MAIN = {
    DOCX: ("word/document.xml", "wordprocessingml.document.main+xml"),
    XLSX: ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    PPTX: ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}
_ODF = {ODT: ODT.content_type, ODS: ODS.content_type, ODP: ODP.content_type}

# What a browser's sniffer (WHATWG MIME Sniffing) would read as HTML, SVG or XML in the bytes it looks at.
_SNIFFED_BYTES = 1024
_MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed)[\s>/]",
    re.IGNORECASE,
)
_MAX_ZIP_ENTRIES = 10_000  # an office document has tens; a ZIP of thousands of parts is not one of ours

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"
ZIP_SIGNATURE = b"PK\x03\x04"


class Refused(ValueError):
    """Why the content is not accepted, as a message id for the service to translate."""

    def __init__(self, reason: str, found: str = ""):
        super().__init__(reason)
        self.reason = reason  # "extension", "mismatch", "unknown", "markup"
        self.found = found


def extension_of(filename: str) -> str:
    _stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def detect(data: bytes) -> FileKind | None:
    """The kind the bytes are, by their signature (and a ZIP's directory), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if data.startswith(JPEG_SOI):
        return JPEG
    if data.startswith(ZIP_SIGNATURE):
        return _zip_kind(data)
    return None


def _zip_kind(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                return None
            names = {info.filename for info in infos}
            # ODF: the first entry is "mimetype", stored uncompressed, holding the document's type.
            if infos and infos[0].filename == "mimetype" and infos[0].file_size < 200:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                return next((kind for kind, mime in _ODF.items() if declared == mime), None)
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")[:200_000].decode("utf-8", "replace")
                for kind, (part, main) in _OOXML_MAIN.items():
                    if part in names and main in types:
                        return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None
    return None


def check(filename: str, data: bytes) -> FileKind:
    """The accepted kind of ``data`` named ``filename``, or ``Refused`` with the reason."""
    declared = BY_EXTENSION.get(extension_of(filename))
    if declared is None:
        raise Refused("extension")
    if _MARKUP.search(data[:_SNIFFED_BYTES]):
        # HTML or SVG in the bytes a browser sniffs: refused whatever comes first (a "polyglot"
        # that is a valid PDF or image and a page at once).
        raise Refused("markup")
    found = detect(data)
    if found is None:
        raise Refused("unknown")
    if found is not declared:
        raise Refused("mismatch", found.label)
    return found
