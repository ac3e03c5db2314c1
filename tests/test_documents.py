"""Meeting and forum documents: type, size and content checks, who uploads and who reads (confidential
documents, the signed attendance sheet), versions, the download's headers, soft deletion, the audit,
the storage folder, and a meeting page whose query count does not grow with its documents."""

from __future__ import annotations

import html
import io
import re
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum_app.documents import sniff
from forum_app.documents.services import safe_filename
from forum_app.documents.views import FORM_OVERHEAD
from forum_app.extensions import db
from forum_app.models import AuditEvent, Document, DocumentVersion

from .conftest import csrf_token, post_form, sign_in
from .factories import Factory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = sniff.PNG_SIGNATURE + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 40 + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def ooxml(main_part: str, main_type: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types><Override PartName="/{main_part}" '
            f'ContentType="application/vnd.openxmlformats-officedocument.{main_type}"/></Types>',
        )
        z.writestr(main_part, "<xml/>")
    return out.getvalue()


def odf(mimetype: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # first, stored
        z.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


DOCX = ooxml("word/document.xml", "wordprocessingml.document.main+xml")
XLSX = ooxml("xl/workbook.xml", "spreadsheetml.sheet.main+xml")
PPTX = ooxml("ppt/presentation.xml", "presentationml.presentation.main+xml")
ODT = odf("application/vnd.oasis.opendocument.text")


# --- the content check -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, kind",
    [
        ("protocol.pdf", PDF, sniff.PDF),
        ("scan.PNG", PNG, sniff.PNG),
        ("scan.jpeg", JPEG, sniff.JPEG),
        ("scan.jpg", JPEG, sniff.JPEG),
        ("terms.docx", DOCX, sniff.DOCX),
        ("budget.xlsx", XLSX, sniff.XLSX),
        ("slides.pptx", PPTX, sniff.PPTX),
        ("terms.odt", ODT, sniff.ODT),
        ("sheet.ods", odf("application/vnd.oasis.opendocument.spreadsheet"), sniff.ODS),
        ("slides.odp", odf("application/vnd.oasis.opendocument.presentation"), sniff.ODP),
    ],
)
def test_accepted_kinds_are_recognised_by_their_content(name: str, data: bytes, kind: sniff.FileKind) -> None:
    assert sniff.check(name, data) is kind


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("protocol.png", PDF, "mismatch"),  # a PDF declared as PNG
        ("scan.pdf", PNG, "mismatch"),
        ("terms.xlsx", DOCX, "mismatch"),  # a Word document called a spreadsheet
        ("terms.odt", odf("application/vnd.oasis.opendocument.spreadsheet"), "mismatch"),
        ("report.pdf", HTML, "markup"),  # an HTML page renamed .pdf
        ("logo.png", SVG, "markup"),
        ("polyglot.pdf", PDF[:9] + b"<html><script>alert(1)</script></html>" + PDF[9:], "markup"),
        ("polyglot.png", PNG + b"<svg onload=alert(1)>", "markup"),
        ("page.html", HTML, "extension"),
        ("logo.svg", SVG, "extension"),
        ("setup.exe", b"MZ\x90\x00", "extension"),
        ("no-extension", PDF, "extension"),
        ("archive.docx", zipfile.ZipFile.__name__.encode() + b"PK", "unknown"),
        ("plain.docx", b"PK\x03\x04" + b"\x00" * 30, "unknown"),  # a broken ZIP
        ("text.pdf", b"Just some text pretending to be a PDF", "unknown"),
        ("late.pdf", b"\n\n%PDF-1.4 not at the start", "unknown"),
    ],
)
def test_refused_content(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(sniff.Refused) as refused:
        sniff.check(name, data)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\ana\\Zapisnik.pdf", "Zapisnik.pdf"),
        ('a"b;c\r\nSet-Cookie: x.pdf', "abcSet-Cookie x.pdf"),
        ("....pdf", "document.pdf"),
        ("x" * 400 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_the_download_name_is_a_plain_name(sent: str, kept: str) -> None:
    assert safe_filename(sent, "pdf") == kept


def test_a_zip_that_is_no_office_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<xml/>")  # the part, but no [Content_Types].xml
    with pytest.raises(sniff.Refused):
        sniff.check("terms.docx", out.getvalue())


# --- the web pages ---------------------------------------------------------------------------------------


@pytest.fixture
def t(app: Flask, make: Factory) -> dict:
    world = make.world()
    meeting = make.meeting(world["forum"], state="held", starts_in_days=-3)
    present, absent = make.user(), make.user()
    inv_present, inv_absent = make.invite(meeting, present), make.invite(meeting, absent)
    make.mark_attendance(inv_present, "present")
    make.mark_attendance(inv_absent, "absent")
    other_organiser = make.user()
    make.add_to_team(world["other_grant"], other_organiser)
    return {**world, "meeting": meeting, "present": present, "absent": absent, "other_organiser": other_organiser}


def client_for(app: Flask, email: str):
    return sign_in(app.test_client(), email)


def upload(client, meeting_id: int, name: str, data: bytes, **fields):
    form = {"kind": "protocol", "title": "", "description": "", **fields, "file": (io.BytesIO(data), name)}
    if form.get("confidential") is False:
        del form["confidential"]
    return post_form(client, f"/meetings/{meeting_id}/documents/new", form)


def documents(app: Flask) -> list[Document]:
    with app.app_context():
        return list(db.session.execute(select(Document).order_by(Document.id)).scalars())


def versions(app: Flask) -> list[DocumentVersion]:
    with app.app_context():
        return list(db.session.execute(select(DocumentVersion).order_by(DocumentVersion.id)).scalars())


def stored_files(app: Flask) -> list[Path]:
    root = Path(app.config["DOCUMENTS_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_organiser_uploads_a_pdf_and_the_meeting_lists_it(app: Flask, t: dict) -> None:
    organiser = client_for(app, t["organiser"])
    before = len(stored_files(app))
    response = upload(organiser, t["meeting"], "Zapisnik – sastanak.pdf", PDF, title="Protocol of the meeting")
    assert response.status_code == 303
    [document] = documents(app)
    [version] = versions(app)
    assert (document.title, document.kind, document.meeting_id, document.current_number) == (
        "Protocol of the meeting",
        "protocol",
        t["meeting"],
        1,
    )
    assert (version.content_type, version.size, version.filename) == (
        "application/pdf",
        len(PDF),
        "Zapisnik – sastanak.pdf",
    )
    page = organiser.get(f"/meetings/{t['meeting']}").get_data(as_text=True)
    assert "Protocol of the meeting" in page and f"/documents/{document.id}/versions/1/file" in page
    # Stored under its random key, never the person's name for it, outside static/.
    files = stored_files(app)
    assert len(files) == before + 1
    [new] = [p for p in files if p.name == version.storage_key]
    assert new.read_bytes() == PDF
    static = Path(app.static_folder).resolve()
    assert static not in new.resolve().parents
    assert not Path(app.config["DOCUMENTS_DIR"]).resolve().is_relative_to(static)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("protocol.png", PDF, "The file&#39;s content is PDF, not what its name says."),
        ("protocol.pdf", HTML, "web page code (HTML or SVG)"),
        ("protocol.html", HTML, "This type of file is not accepted."),
        ("protocol.pdf", b"", "Choose a file to upload"),
    ],
)
def test_a_refused_file_is_named_and_nothing_is_stored(
    app: Flask, t: dict, name: str, data: bytes, message: str
) -> None:
    organiser = client_for(app, t["organiser"])
    before = len(stored_files(app))
    response = upload(organiser, t["meeting"], name, data, title="Protocol")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert documents(app) == [] and len(stored_files(app)) == before


def test_size_limit_from_the_configuration(app: Flask, t: dict, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "DOCUMENTS_MAX_BYTES", 4096)
    organiser = client_for(app, t["organiser"])
    response = upload(organiser, t["meeting"], "big.pdf", PDF + b"0" * 5000)
    assert response.status_code == 400
    assert "The file is larger than" in response.get_data(as_text=True)
    assert upload(organiser, t["meeting"], "small.pdf", PDF + b"0" * 3000).status_code == 303
    assert len(documents(app)) == 1


def test_a_body_past_the_upload_limit_gets_a_message_not_an_error_page(app: Flask, t: dict, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "DOCUMENTS_MAX_BYTES", 4096)
    organiser = client_for(app, t["organiser"])
    response = upload(organiser, t["meeting"], "huge.pdf", PDF + b"0" * (4096 + FORM_OVERHEAD + 10))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/meetings/{t['meeting']}/documents/new")
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file is larger than" in page
    assert documents(app) == []
    # A new version too large: back on the document's page (its form posts to a route without a page).
    monkeypatch.setitem(app.config, "DOCUMENTS_MAX_BYTES", 100_000)
    document = _upload_as_organiser(app, t)
    monkeypatch.setitem(app.config, "DOCUMENTS_MAX_BYTES", 4096)
    too_big = post_form(
        organiser,
        f"/documents/{document.id}",
        {"file": (io.BytesIO(PDF + b"0" * (4096 + FORM_OVERHEAD + 10)), "v2.pdf"), "base_version": "1"},
        action=f"/documents/{document.id}/versions",
    )
    assert too_big.status_code == 303 and too_big.headers["Location"].endswith(f"/documents/{document.id}")
    assert "The file is larger than" in organiser.get(too_big.headers["Location"]).get_data(as_text=True)
    assert len(versions(app)) == 1


def test_only_the_upload_routes_accept_large_bodies(app: Flask, t: dict, monkeypatch) -> None:
    """MAX_CONTENT_LENGTH stays the limit everywhere else; the upload route allows DOCUMENTS_MAX_BYTES."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 20_000)
    organiser = client_for(app, t["organiser"])
    big = PDF + b"0" * 60_000
    assert upload(organiser, t["meeting"], "big.pdf", big).status_code == 303
    token = csrf_token(organiser, f"/meetings/{t['meeting']}")
    refused = organiser.post(
        f"/reviews/meeting/{t['meeting']}/comments", data={"csrf_token": token, "body": "x" * 60_000}
    )
    assert refused.status_code == 413


def test_the_privacy_screen_reads_the_title_and_description(app: Flask, t: dict) -> None:
    organiser = client_for(app, t["organiser"])
    response = upload(organiser, t["meeting"], "plan.pdf", PDF, description="Release plan for JMBG 0101990450001")
    assert response.status_code == 400
    assert "privacy-prompt" in response.get_data(as_text=True)
    assert documents(app) == []


def test_who_may_upload(app: Flask, t: dict) -> None:
    page = f"/meetings/{t['meeting']}/documents/new"
    for who, status in [
        ("participant", 403),  # sees the meeting, does not run it
        ("staff", 403),
        ("other_organiser", 404),  # another grant's organiser: the meeting is not theirs to know
        ("outsider", 404),
        ("admin", 200),
        ("organiser", 200),
    ]:
        assert client_for(app, t[who]).get(page).status_code == status, who
    participant = client_for(app, t["participant"])
    token = csrf_token(participant, f"/meetings/{t['meeting']}")
    response = participant.post(
        page, data={"csrf_token": token, "kind": "protocol", "file": (io.BytesIO(PDF), "a.pdf")}
    )
    assert response.status_code == 403 and documents(app) == []
    forum_page = f"/forums/{t['forum']}/documents/new"
    assert client_for(app, t["other_organiser"]).get(forum_page).status_code == 404
    assert client_for(app, t["participant"]).get(forum_page).status_code == 403


def _upload_as_organiser(app: Flask, t: dict, name: str = "doc.pdf", data: bytes = PDF, **fields) -> Document:
    organiser = client_for(app, t["organiser"])
    assert upload(organiser, t["meeting"], name, data, **fields).status_code == 303
    return documents(app)[-1]


def test_readers_of_an_ordinary_document(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, title="Terms of reference", kind="terms_of_reference")
    url = f"/documents/{document.id}/versions/1/file"
    answers = {
        who: client_for(app, t[who]).get(url).status_code
        for who in (
            "organiser",
            "admin",
            "staff",
            "participant",
            "observer",
            "present",
            "absent",
            "other_organiser",
            "outsider",
        )
    }
    assert answers == {
        "organiser": 200,
        "admin": 200,
        "staff": 200,
        "participant": 200,
        "observer": 200,
        "present": 200,
        "absent": 200,
        "other_organiser": 404,
        "outsider": 404,
    }
    assert app.test_client().get(url).status_code == 302  # signed out: to the sign-in page


def test_a_confidential_document_is_for_the_organisers_and_those_present(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, title="Release plan discussion", confidential="y")
    assert document.confidential
    url = f"/documents/{document.id}/versions/1/file"
    answers = {
        who: client_for(app, t[who]).get(url).status_code
        for who in ("organiser", "admin", "present", "absent", "staff", "participant", "other_organiser")
    }
    assert answers == {
        "organiser": 200,
        "admin": 200,
        "present": 200,
        "absent": 404,
        "staff": 404,
        "participant": 404,
        "other_organiser": 404,
    }
    meeting = f"/meetings/{t['meeting']}"
    assert "Release plan discussion" in client_for(app, t["present"]).get(meeting).get_data(as_text=True)
    assert "Release plan discussion" not in client_for(app, t["absent"]).get(meeting).get_data(as_text=True)
    assert "Release plan discussion" not in client_for(app, t["staff"]).get(meeting).get_data(as_text=True)


def test_the_meeting_page_asks_its_organisers_for_the_signed_sheet(app: Flask, t: dict) -> None:
    organiser = client_for(app, t["organiser"])
    page = organiser.get(f"/meetings/{t['meeting']}").get_data(as_text=True)
    link = re.search(r'id="upload-signed-sheet" href="([^"]+)"', page)
    assert link is not None
    form = organiser.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert re.search(r'<option selected value="signed_attendance_sheet">', form)
    _upload_as_organiser(app, t, name="sheet.pdf", kind="signed_attendance_sheet")
    assert 'id="upload-signed-sheet"' not in organiser.get(f"/meetings/{t['meeting']}").get_data(as_text=True)
    assert 'id="upload-signed-sheet"' not in client_for(app, t["staff"]).get(f"/meetings/{t['meeting']}").get_data(
        as_text=True
    )


def test_the_signed_attendance_sheet_is_the_meetings_evidence_for_programme_staff(
    app: Flask, make: Factory, t: dict
) -> None:
    document = _upload_as_organiser(
        app, t, name="sheet.jpg", data=JPEG, kind="signed_attendance_sheet", title="Signed sheet"
    )
    meeting = f"/meetings/{t['meeting']}"
    staff_page = client_for(app, t["staff"]).get(meeting).get_data(as_text=True)
    assert 'id="signed-sheet"' in staff_page and "Signed sheet" in staff_page
    participant_page = client_for(app, t["participant"]).get(meeting).get_data(as_text=True)
    assert 'id="signed-sheet"' not in participant_page
    assert client_for(app, t["participant"]).get(f"/documents/{document.id}/versions/1/file").status_code == 404
    # Only once the meeting is held.
    planned = make.meeting(t["forum"], state="scheduled", starts_in_days=5)
    response = upload(client_for(app, t["organiser"]), planned, "sheet.jpg", JPEG, kind="signed_attendance_sheet")
    assert response.status_code == 400
    assert "once the meeting is marked as held" in response.get_data(as_text=True)


def test_versions_keep_the_old_files(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, title="Protocol")
    organiser = client_for(app, t["organiser"])
    page = f"/documents/{document.id}"
    second = PDF.replace(b"Catalog", b"Catalog2")
    shown = organiser.get(page).get_data(as_text=True)
    assert f'name="base_version" type="hidden" value="{document.version}"' in shown
    response = post_form(
        organiser,
        page,
        {"file": (io.BytesIO(second), "protocol v2.pdf"), "base_version": str(document.version)},
        action=f"{page}/versions",
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Document, document.id).current_number == 2
    reader = client_for(app, t["participant"])
    assert reader.get(f"{page}/versions/1/file").data == PDF
    assert reader.get(f"{page}/versions/2/file").data == second
    assert reader.get(f"{page}/versions/3/file").status_code == 404
    listed = reader.get(page).get_data(as_text=True)
    assert listed.count('class="list-group-item document-version"') == 2
    assert "Upload a new version" not in listed  # readers read; organisers upload
    # A form opened before someone else's upload: refused, nothing added.
    stale = post_form(
        organiser, page, {"file": (io.BytesIO(PDF), "late.pdf"), "base_version": "1"}, action=f"{page}/versions"
    )
    assert stale.status_code == 400
    assert "Someone else added a version" in stale.get_data(as_text=True)
    assert len(versions(app)) == 2
    # A reader cannot add one.
    token = csrf_token(reader, page)
    answer = reader.post(
        f"{page}/versions", data={"csrf_token": token, "base_version": "3", "file": (io.BytesIO(PDF), "x.pdf")}
    )
    assert answer.status_code == 403 and len(versions(app)) == 2


def test_download_headers(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, name="Записник.pdf", title="Protocol")
    response = client_for(app, t["participant"]).get(f"/documents/{document.id}/versions/1/file")
    headers = response.headers
    assert response.status_code == 200 and response.data == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"________.pdf\"; filename*=UTF-8''%D0%97%D0%B0%D0%BF%D0%B8%D1%81%D0%BD%D0%B8%D0%BA.pdf"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert "sandbox" in headers["Content-Security-Policy"]


def test_a_file_is_never_served_as_html(app: Flask, t: dict) -> None:
    """Even a stored row claiming text/html (it cannot be made through the service) is served as an attachment;
    and every accepted kind is served with its own, non-HTML type."""
    for name, data in [("a.png", PNG), ("b.docx", DOCX), ("c.odt", ODT), ("d.jpg", JPEG)]:
        document = _upload_as_organiser(app, t, name=name, data=data)
        response = client_for(app, t["participant"]).get(f"/documents/{document.id}/versions/1/file")
        assert response.status_code == 200
        assert "html" not in response.headers["Content-Type"] and "svg" not in response.headers["Content-Type"]
        assert response.headers["Content-Disposition"].startswith("attachment;")


def test_deleting_keeps_the_files_and_history(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, title="Old protocol")
    organiser = client_for(app, t["organiser"])
    page = f"/documents/{document.id}"
    token = csrf_token(organiser, page)
    response = organiser.post(
        f"{page}/delete?base_version={document.version}", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert response.status_code == 303
    assert "Old protocol" not in organiser.get(f"/meetings/{t['meeting']}").get_data(as_text=True)
    assert client_for(app, t["participant"]).get(f"{page}/versions/1/file").status_code == 404
    assert organiser.get(f"{page}/versions/1/file").data == PDF  # the organisers keep the history
    [kept] = documents(app)
    assert kept.deleted_at is not None and len(versions(app)) == 1


def test_uploads_downloads_and_deletions_are_audited(app: Flask, t: dict) -> None:
    document = _upload_as_organiser(app, t, title="Protocol", confidential="y")
    client_for(app, t["present"]).get(f"/documents/{document.id}/versions/1/file")
    organiser = client_for(app, t["organiser"])
    token = csrf_token(organiser, f"/documents/{document.id}")
    organiser.post(f"/documents/{document.id}/delete?base_version={document.version}", data={"csrf_token": token})
    with app.app_context():
        verbs = [
            (e.verb, e.actor.email, e.data.get("confidential"))
            for e in db.session.execute(
                select(AuditEvent).where(AuditEvent.object_type == "Document").order_by(AuditEvent.id)
            ).scalars()
        ]
    assert verbs == [
        ("document.upload", t["organiser"], True),
        ("document.download", t["present"], True),
        ("document.delete", t["organiser"], None),
    ]


def test_forum_documents_are_listed_on_the_forum_page(app: Flask, t: dict) -> None:
    organiser = client_for(app, t["organiser"])
    response = post_form(
        organiser,
        f"/forums/{t['forum']}/documents/new",
        {"kind": "terms_of_reference", "title": "Forum terms of reference", "file": (io.BytesIO(DOCX), "tor.docx")},
    )
    assert response.status_code == 303
    assert "Forum terms of reference" in client_for(app, t["participant"]).get(f"/forums/{t['forum']}").get_data(
        as_text=True
    )
    # A forum's document is no signed attendance sheet.
    refused = post_form(
        organiser,
        f"/forums/{t['forum']}/documents/new",
        {"kind": "signed_attendance_sheet", "file": (io.BytesIO(PDF), "s.pdf")},
    )
    assert refused.status_code == 400


def test_meeting_page_queries_do_not_grow_with_documents(app: Flask, t: dict, count_queries) -> None:
    _upload_as_organiser(app, t, title="First")
    _upload_as_organiser(app, t, title="Confidential", confidential="y")
    viewers = {who: client_for(app, t[who]) for who in ("organiser", "present", "staff")}

    def measure() -> dict[str, int]:
        counts = {}
        for who, client in viewers.items():
            client.get(f"/meetings/{t['meeting']}")
            with count_queries() as statements:
                assert client.get(f"/meetings/{t['meeting']}").status_code == 200
            counts[who] = len(statements)
        return counts

    small = measure()
    for n in range(8):
        _upload_as_organiser(app, t, name=f"d{n}.png", data=PNG, title=f"Doc {n}", confidential="y" if n % 2 else False)
    large = measure()
    assert large == small
    with app.app_context():
        assert db.session.execute(select(func.count(Document.id))).scalar_one() == 10


def test_the_printed_progress_report_lists_documents_and_marks_the_signed_sheet(app: Flask, t: dict) -> None:
    _upload_as_organiser(app, t, name="sheet.pdf", kind="signed_attendance_sheet", title="Signed sheet of the day")
    _upload_as_organiser(app, t, title="Presentation of the probation office", kind="presentation")
    _upload_as_organiser(app, t, title="Secret discussion", confidential="y")
    organiser = client_for(app, t["organiser"])
    post_form(
        organiser,
        f"/forums/{t['forum']}/documents/new",
        {"kind": "terms_of_reference", "title": "Forum terms", "file": (io.BytesIO(PDF), "tor.pdf")},
    )
    args = f"?forum={t['forum']}&from=2000-01-01&to=2999-12-31"
    staff = client_for(app, t["staff"])
    report = staff.get("/reports/progress" + args).get_data(as_text=True)
    listed = re.findall(r'<li class="progress-document">([^<]*)<', report)
    assert [title.strip() for title in listed] == [
        "Forum terms",
        "Presentation of the probation office",
        "Signed sheet of the day",
    ]  # the forum's own first; never the confidential one for staff
    assert report.count('class="badge text-bg-success signed-sheet-mark"') == 1
    meetings = staff.get("/reports/meetings" + args).get_data(as_text=True)
    assert meetings.count("signed-sheet-mark") == 1
    # The organisers' own copy lists the confidential document too.
    assert "Secret discussion" in organiser.get("/reports/progress" + args).get_data(as_text=True)


# --- the S3-compatible store, against a real S3 server (moto's, as a separate process) ------------------


@pytest.fixture
def s3_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the S3 server did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_documents_in_an_s3_compatible_store(app: Flask, t: dict, s3_server: str, monkeypatch) -> None:
    import boto3

    options = {
        "endpoint_url": s3_server,
        "region_name": "us-east-1",
        "aws_access_key_id": "forum-desk-test",
        "aws_secret_access_key": "forum-desk-test-secret",
    }
    s3 = boto3.client("s3", **options)
    s3.create_bucket(Bucket="forum-documents")
    for name, value in {
        "DOCUMENTS_S3_BUCKET": "forum-documents",
        "DOCUMENTS_S3_PREFIX": "desk",
        "DOCUMENTS_S3_ENDPOINT_URL": options["endpoint_url"],
        "DOCUMENTS_S3_REGION": options["region_name"],
        "DOCUMENTS_S3_ACCESS_KEY_ID": options["aws_access_key_id"],
        "DOCUMENTS_S3_SECRET_ACCESS_KEY": options["aws_secret_access_key"],
    }.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.delitem(app.extensions, "forum_documents_s3", raising=False)
    before = len(stored_files(app))
    try:
        document = _upload_as_organiser(app, t, name="scan.png", data=PNG, title="Scan")
        [version] = versions(app)
        stored = s3.get_object(Bucket="forum-documents", Key=f"desk/{version.storage_key}")
        assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
        assert len(stored_files(app)) == before  # nothing went to the folder
        response = client_for(app, t["participant"]).get(f"/documents/{document.id}/versions/1/file")
        assert response.status_code == 200 and response.data == PNG
    finally:
        app.extensions.pop("forum_documents_s3", None)


def test_an_unreachable_store_is_a_message_not_an_error_page(app: Flask, t: dict, monkeypatch) -> None:
    """A bucket that cannot be reached (nothing listens on the port): the upload is refused and nothing saved."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "DOCUMENTS_S3_BUCKET", "nowhere")
    monkeypatch.setitem(app.config, "DOCUMENTS_S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setitem(app.config, "DOCUMENTS_S3_REGION", "us-east-1")
    monkeypatch.setitem(app.config, "DOCUMENTS_S3_ACCESS_KEY_ID", "x")
    monkeypatch.setitem(app.config, "DOCUMENTS_S3_SECRET_ACCESS_KEY", "y")
    monkeypatch.delitem(app.extensions, "forum_documents_s3", raising=False)
    try:
        response = upload(client_for(app, t["organiser"]), t["meeting"], "a.pdf", PDF)
        assert response.status_code == 400
        assert "could not be stored just now" in response.get_data(as_text=True)
        assert documents(app) == []
    finally:
        app.extensions.pop("forum_documents_s3", None)


def test_forum_page_queries_do_not_grow_with_documents(app: Flask, t: dict, count_queries) -> None:
    organiser = client_for(app, t["organiser"])

    def add(n: int) -> None:
        for i in range(n):
            response = post_form(
                organiser,
                f"/forums/{t['forum']}/documents/new",
                {"kind": "other", "title": f"Forum doc {i}", "file": (io.BytesIO(PDF), f"f{i}.pdf")},
            )
            assert response.status_code == 303

    reader = client_for(app, t["participant"])

    def measure() -> tuple[int, int]:
        reader.get(f"/forums/{t['forum']}")
        with count_queries() as statements:
            page = reader.get(f"/forums/{t['forum']}").get_data(as_text=True)
        return len(statements), page.count('class="document-item')

    add(1)
    small = measure()
    add(6)
    large = measure()
    assert (small[1], large[1]) == (1, 7)
    assert large[0] == small[0]


def test_the_documents_folder_cannot_be_in_the_web_root() -> None:
    from forum_app.config import PROJECT_ROOT, ConfigError, load_config

    for inside in (PROJECT_ROOT / "static", PROJECT_ROOT / "static" / "documents", PROJECT_ROOT):
        with pytest.raises(ConfigError, match="DOCUMENTS_DIR"):
            load_config({"FORUM_ENV": "testing", "DOCUMENTS_DIR": str(inside)})
    assert load_config({"FORUM_ENV": "testing", "DOCUMENTS_DIR": str(PROJECT_ROOT / "instance" / "documents")})
