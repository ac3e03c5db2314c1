"""No secret reaches a table or a log.

Canaries: a password set through an emailed link, that link's token, an API token's secret,
the calendar feed's address, the session cookie, the SECRET_KEY, a TOTP secret and a recovery code. Each is planted through
the pages, as a person would, with the emails sent through a real SMTP server; then every
row of every table and every log record written meanwhile are searched for each of them.
"""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
from sqlalchemy import select

from forum_app.extensions import db
from forum_app.models import Base
from forum_app.notifications.delivery import deliver_due

from .conftest import csrf_token, login, post_form
from .mailserver import SmtpServer

CANARY_PASSWORD = "Canary passphrase 7Qx-Zebra-Mirt"


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_DELIVERY")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_DELIVERY=True)
    yield server
    app.config.update(saved)
    server.stop()


def every_row(app) -> str:
    with app.app_context():
        return "\n".join(
            repr(tuple(row)) for table in Base.metadata.sorted_tables for row in db.session.execute(select(table))
        )


def test_no_secret_reaches_a_table_or_a_log(app, client, make, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    email = make.user()

    # A reset link, sent by email; the password set through it.
    post_form(client, "/reset-password", {"email": email})
    with app.app_context():
        deliver_due()
    [sent] = smtp.to(email)
    body = sent.get_body(("plain",)).get_content()
    path = re.search(r"http://forum\.test(/reset-password/\S+)", body).group(1)
    link_token = path.rsplit("/", 1)[1]
    response = post_form(client, path, {"password": CANARY_PASSWORD, "confirm": CANARY_PASSWORD})
    assert response.status_code == 302
    assert login(client, email, CANARY_PASSWORD).status_code == 302
    session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    # An API token's secret, used once; the calendar feed's address.
    page = client.post(
        "/account/api-tokens", data={"csrf_token": csrf_token(client, "/account"), "name": "laptop"}
    ).get_data(as_text=True)
    api_secret = re.search(r'<code id="new-api-token">([^<]+)</code>', page).group(1)
    assert client.get("/api/v1/forums", headers={"Authorization": f"Bearer {api_secret}"}).status_code == 200
    client.post("/account/calendar-feed", data={"csrf_token": csrf_token(client, "/account")})
    feed_url = re.search(
        r'id="feed-url" type="text" readonly value="([^"]+)"', client.get("/account").get_data(as_text=True)
    ).group(1)
    feed_token = re.search(r"/([^/]+)\.ics$", feed_url).group(1)
    assert client.get(feed_url.replace("http://forum.test", "")).status_code == 200

    # A second factor: the TOTP secret shown for the app, and a recovery code, spent once.
    page = client.get("/account/second-factor").get_data(as_text=True)
    totp_secret = re.search(r'id="totp-secret">([^<]+)<', page).group(1).replace(" ", "")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    page = client.post(
        "/account/second-factor",
        data={"csrf_token": csrf_token(client, "/account"), "token": token, "code": pyotp.TOTP(totp_secret).now()},
    ).get_data(as_text=True)
    recovery_code = re.search(r"<li>([a-z2-7-]{19})</li>", page).group(1).replace("-", "")
    assert login(client, email, CANARY_PASSWORD).headers["Location"] == "/login/code"
    assert post_form(client, "/login/code", {"code": recovery_code}).status_code == 302

    canaries = {
        "TOTP secret": totp_secret,
        "recovery code": recovery_code,
        "password": CANARY_PASSWORD,
        "emailed link token": link_token,
        "API token": api_secret,
        "calendar feed token": feed_token,
        "session cookie": session_cookie,
        "SECRET_KEY": app.config["SECRET_KEY"],
    }
    assert all(len(value) >= 16 for value in canaries.values()), canaries
    tables = every_row(app)
    logs = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert caplog.records, "nothing was logged: the log half of this test would prove nothing"
    found = {name for name, value in canaries.items() if value in tables or value in logs}
    assert found == set(), f"secrets found in a table or a log: {sorted(found)}"
