"""A live server and a real headless Chromium for the browser journeys."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from forum_app.demo import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background calls home, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing (Debian package 'chromium')"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must install it, browser tests may not skip there")
        pytest.skip(message)


def wait_until(page, predicate: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` (a JS function's source) until it returns true.

    Not ``page.wait_for_function``: its polling evaluates strings in the page, which the
    app's CSP (no 'unsafe-eval') rightly refuses; ``page.evaluate`` goes through DevTools.
    """
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        page.wait_for_timeout(50)


def sign_in(page, live_server: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the real form, as a person would, and wait for the page it leads to (the browser's
    counterpart of conftest.sign_in; the journeys run on the demo data, hence its password)."""
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def demo(app) -> None:
    """The demo data (three forums, their people and meetings) for one test; the database
    is emptied after every test, so each test that needs it asks for it."""
    from forum_app.demo import seed_demo
    from forum_app.extensions import db

    with app.app_context():
        seed_demo()
        db.session.commit()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context (no cookies) whose console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    # A form shown again with its errors answers 400, which Chromium logs as a failed load;
    # that is the app working. Script errors and CSP violations still fail the test.
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "responded with a status of 400" not in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    artifacts = os.environ.get("BROWSER_ARTIFACTS")
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        page.screenshot(
            path=os.path.join(
                artifacts, f"{os.environ.get('PYTEST_CURRENT_TEST', 'page').split(':')[-1].split(' ')[0]}.png"
            ),
            full_page=True,
        )
    context.close()
    # A strict CSP violation or a script error is a failure, not noise.
    assert not problems, f"browser console errors: {problems}"
