"""Light on a phone network: the meeting page on an emulated slow link, in a real Chromium.

Chromium's own network emulation (DevTools ``Network.emulateNetworkConditions``): 400 ms
round trip, 400 kbit/s down and up, the "slow 3G" of issue 12. A participant opens a held
meeting of their forum, first with an empty cache (≤ 100 KB on the wire, counted from
``Network.loadingFinished``'s ``encodedDataLength``: compressed bodies plus headers; 1.6 s
measured), then again (the page itself is one round trip, 0.6 s measured: CSS and JS come
from the cache without a request because their URLs carry a content hash and a year-long
cache). The times are printed, not asserted: a busy machine would fail them, not the page.

It runs against the tests' live server (Werkzeug): the gzip and caching are done by the
app (forum_app/web_delivery.py), so they apply there as under gunicorn. This is a budget of
bytes and round trips, not of CPU: the link, not the machine, dominates both numbers.
"""

from __future__ import annotations

import time

import pytest

from forum_app.demo import DEMO_PASSWORD

from .browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PARTICIPANT = "amra.hodzic@forum-desk.example"
FORUM = "Sarajevo local coordination forum"
MEETING = "Second meeting: follow-up review"  # held, minutes circulated, comments
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


def visit(page, cdp, url: str) -> tuple[float, int, list[str]]:
    """Load ``url``; the seconds to the load event, the bytes received, the URLs fetched over
    the network (answers from the browser's cache are not)."""
    received: dict[str, int] = {}
    urls: dict[str, str] = {}
    cached: set[str] = set()

    def on_cached(event):
        cached.add(event["requestId"])

    def on_response(event):
        response = event["response"]
        if not (response.get("fromDiskCache") or response.get("fromMemoryCache")):
            urls[event["requestId"]] = response["url"]

    def on_finished(event):
        received[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.requestServedFromCache", on_cached)
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    started = time.monotonic()
    page.goto(url, wait_until="load")
    seconds = time.monotonic() - started
    page.wait_for_timeout(100)  # let the last loadingFinished events arrive
    cdp.remove_listener("Network.requestServedFromCache", on_cached)
    cdp.remove_listener("Network.responseReceived", on_response)
    cdp.remove_listener("Network.loadingFinished", on_finished)
    return (
        seconds,
        sum(received.values()),
        [url.split("?")[0].split("/", 3)[-1] for rid, url in urls.items() if rid not in cached],
    )


def test_meeting_page_is_light_on_slow_3g(demo, live_server, page):
    sign_in(page, live_server, PARTICIPANT, DEMO_PASSWORD)
    page.goto(live_server + "/forums")
    page.get_by_role("link", name=FORUM).click()
    page.locator("#past-meetings").get_by_role("link", name=MEETING).click()
    page.wait_for_load_state("load")
    meeting_url = page.url

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")  # a first visit: nothing of the site cached
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)

    first_s, first_bytes, first_urls = visit(page, cdp, meeting_url)
    assert page.get_by_role("heading", name=MEETING).is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"  # CSS applied
    again_s, again_bytes, again_urls = visit(page, cdp, meeting_url)
    report = (
        f"first visit {first_s:.2f} s, {first_bytes / 1000:.1f} KB {first_urls}; "
        f"repeat {again_s:.2f} s, {again_bytes / 1000:.1f} KB {again_urls}"
    )
    print(report)
    assert first_bytes <= 100_000, report
    assert [u for u in again_urls if not u.endswith("favicon.svg")] == [meeting_url.split("/", 3)[-1]], report
    # CSS and JS straight from the cache, without even a revalidation.
    assert not [u for u in again_urls if u.endswith((".css", ".js"))], report
