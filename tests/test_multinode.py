"""Beyond one machine (issue 12, point 6): two app nodes behind nginx, one database, one Redis.

The layout of the README's production section, on loopback: two gunicorn nodes (sync
workers, their own ports, the same SECRET_KEY), nginx (Debian's package, started here with
its own configuration in a temporary directory) sharing requests between them round-robin,
the test database (PostgreSQL with TEST_DATABASE_URL; otherwise the SQLite file the suite
already uses, opened by both nodes) and Redis database 12 for the login throttle.
nginx names the node that answered in an ``X-Upstream`` header, so every step checks that
both nodes took part, and what one node did holds on the other:

- a login through nginx is honoured by both nodes;
- a logout on one node ends the session on both (the old cookie, replayed, is worthless);
- failed logins spread over both nodes count towards one limit;
- a stale edit form saved through one node after the other node saved is caught.
"""

from __future__ import annotations

import gzip
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from .conftest import CSRF_RE, LOADED_RE
from .factories import PASSWORD, Factory

ROOT = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"
REDIS_URL = os.environ.get("MULTINODE_REDIS_URL", "redis://127.0.0.1:6379/12")
SECRET_KEY = "multinode-test-secret-key-that-is-long-enough-for-production"
pytestmark = pytest.mark.slow

NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream forum_desk {{
        server 127.0.0.1:{node_a};
        server 127.0.0.1:{node_b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://forum_desk;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def _require(ok: bool, message: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must provide it, this test may not skip there")
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout} s: {log.read_text(errors='replace')[-3000:]}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base: str, jar: CookieJar | None = None):
        self.base = base
        self.jar = jar or CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, node that answered, body)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            response = self.opener.open(self.base + path, data=body, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return response.status, response.headers.get("X-Upstream", ""), response.read().decode("utf-8", "replace")

    def form(self, path: str) -> tuple[str, dict[str, str]]:
        """The node that served the form, and its hidden fields (CSRF token, baseline)."""
        status, node, page = self.request(path)
        assert status == 200, (path, status)
        csrf, loaded = CSRF_RE.search(page), LOADED_RE.search(page)
        hidden = {"csrf_token": csrf.group(1) or csrf.group(2)}
        if loaded:
            hidden["loaded"] = html.unescape(loaded.group(1) or loaded.group(2))
        return node, hidden

    def next_not_on(self, node: str) -> None:
        """Advance nginx's round-robin until ``node`` has just answered, so the next request goes to the other."""
        for _ in range(4):
            if self.request("/static/favicon.svg")[1] == node:
                return
        raise AssertionError(f"nginx sends no request to {node}")

    def copy(self) -> Browser:
        jar = CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        return Browser(self.base, jar)

    def signed_in(self) -> dict[str, bool]:
        """Two consecutive home-page requests (one per node): node -> whether it found the person signed in."""
        answers = {}
        for _ in range(2):
            status, node, page = self.request("/")
            answers[node] = status == 200 and 'action="/logout"' in page
        return answers


@pytest.fixture
def cluster(app, database_url, tmp_path) -> str:
    """Two gunicorn nodes behind nginx; yields nginx's base URL."""
    _require(shutil.which(NGINX) is not None, f"{NGINX} is missing (Debian package 'nginx')")
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.RedisError:
        _require(False, f"Redis is not answering at {REDIS_URL}")
    store.flushdb()

    port, nodes = _free_port(), [_free_port(), _free_port()]
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        # What is shared between nodes is under test here, signed in with a password; the second
        # factor production asks of staff roles has its own tests (tests/test_second_factor.py).
        "SECOND_FACTOR_REQUIRED_ROLES": "",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "BASE_URL": base,
        "TRUSTED_PROXIES": "1",
        "FORUM_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    processes = []
    try:
        for i, node_port in enumerate(nodes):
            log = tmp_path / f"node{i}.log"
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "--workers",
                    "1",
                    "--worker-class",
                    "sync",
                    "--bind",
                    f"127.0.0.1:{node_port}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            processes.append(process)
            _wait_for(f"http://127.0.0.1:{node_port}/login", process, log)
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp_path,
                port=port,
                node_a=nodes[0],
                node_b=nodes[1],
                user="user root;\n" if os.geteuid() == 0 else "",
            )
        )
        log = tmp_path / "nginx-error.log"
        log.touch()
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(conf)], stdout=log.open("ab"), stderr=subprocess.STDOUT
        )
        processes.append(nginx)
        _wait_for(base + "/login", nginx, log)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        store.flushdb()


def test_two_nodes_behind_nginx_share_everything(cluster: str, app, make: Factory) -> None:
    world = make.world()
    organiser = world["organiser"]
    guessed = make.user()

    # A login through nginx, then the home page answered once by each node: signed in on both.
    person = Browser(cluster)
    _, hidden = person.form("/login")
    status, login_node, _ = person.request("/login", {**hidden, "email": organiser, "password": PASSWORD})
    assert status == 302, status
    answers = person.signed_in()
    assert len(answers) == 2 and all(answers.values()), f"the session is honoured by both nodes: {answers}"

    # Logging out on one node ends the session on both: the old cookie, replayed, opens nothing.
    stolen = person.copy()
    _, hidden = person.form("/")
    assert person.request("/logout", {"csrf_token": hidden["csrf_token"]})[0] == 302
    answers = stolen.signed_in()
    assert len(answers) == 2 and not any(answers.values()), f"logged out on one node, over on both: {answers}"

    # Failed logins spread over both nodes count towards one limit (5 per account).
    guesser = Browser(cluster)
    nodes = set()
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _, hidden = guesser.form("/login")
        if i % 2:  # a form and its post alternate nodes: every other guess, one more request between
            guesser.request("/static/favicon.svg")
        status, node, _ = guesser.request("/login", {**hidden, "email": guessed, "password": "wrong guess"})
        assert status == 401, status
        nodes.add(node)
    assert len(nodes) == 2, "the guesses went to both nodes"
    for _ in range(2):  # whichever node answers next refuses even the right password
        _, hidden = guesser.form("/login")
        status, node, _ = guesser.request("/login", {**hidden, "email": guessed, "password": PASSWORD})
        assert status == 429, (status, node)
    import redis

    assert redis.Redis.from_url(REDIS_URL).keys("forum-desk:throttle:*"), "the counters live in Redis"

    # Two people open the forum's edit form; the first saves through one node, the second's
    # stale form, saved through the other node, is refused with the comparison.
    first, second = Browser(cluster), Browser(cluster)
    for browser, email in ((first, organiser), (second, organiser)):
        _, hidden = browser.form("/login")
        assert browser.request("/login", {**hidden, "email": email, "password": PASSWORD})[0] == 302
    path = f"/forums/{world['forum']}/edit"
    fields = {
        "grant_id": str(world["grant"]),
        "city": "Sarajevo",
        "country": "BA",
        "timezone": "Europe/Sarajevo",
        "focus": "New State Prison",
        "description": "",
    }
    _, mine = first.form(path)
    _, theirs = second.form(path)
    status, saved_on, _ = first.request(path, {**mine, **fields, "title": "Saved first"})
    assert status == 302, status
    second.next_not_on(saved_on)
    status, refused_on, page = second.request(path, {**theirs, **fields, "title": "Saved second"})
    assert refused_on != saved_on
    assert status == 400 and 'id="conflict"' in page and "Saved first" in page


FEED_URL_RE = re.compile(r'id="feed-url" type="text" readonly value="([^"]+)"')


def poll(url: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str], bytes]:
    """One calendar app's fetch: (status, node that answered, headers, body as sent)."""
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
    except urllib.error.HTTPError as error:  # urllib counts a 304 among the errors
        response = error
    with response:
        return response.status, response.headers.get("X-Upstream", ""), dict(response.headers), response.read()


def test_a_feed_poll_through_nginx_with_gzip_and_its_etag_gets_304(cluster: str, make: Factory) -> None:
    """Issue 20, point 5, on the production path: nginx in front of gunicorn nodes, the app compressing.
    Both nodes make the same body and ETag, and each answers the ETag the other gave with 304."""
    world = make.world()
    for days in (7, 21):  # a feed big enough to be compressed
        make.invite(make.meeting(world["forum"], starts_in_days=days), world["participant"])
    person = Browser(cluster)
    _, hidden = person.form("/login")
    assert person.request("/login", {**hidden, "email": world["participant"], "password": PASSWORD})[0] == 302
    _, hidden = person.form("/account")
    assert person.request("/account/calendar-feed", {"csrf_token": hidden["csrf_token"]})[0] == 302
    feed_url = html.unescape(FEED_URL_RE.search(person.request("/account")[2]).group(1))
    assert feed_url.startswith(cluster + "/calendar/")

    gzip_only = {"Accept-Encoding": "gzip"}
    status, first_node, headers, body = poll(feed_url, gzip_only)
    assert status == 200 and headers["Content-Encoding"] == "gzip" and body.startswith(b"\x1f\x8b")
    assert b"X-PUBLISHED-TTL:PT1H" in gzip.decompress(body)
    etag = headers["ETag"]
    nodes = set()
    for _ in range(4):  # round-robin: both nodes, twice
        status, node, headers, body = poll(feed_url, {**gzip_only, "If-None-Match": etag})
        assert (status, body) == (304, b""), node
        assert headers["ETag"] == etag and "Accept-Encoding" in headers["Vary"]
        nodes.add(node)
    assert len(nodes | {first_node}) == 2, "both nodes answered"
