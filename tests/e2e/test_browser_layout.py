"""Cookout on a phone and from the keyboard, in Chromium: every page the crawl reaches fits 360 and 390
pixel screens without sideways scrolling, "Skip to content" is the first Tab stop and lands in the
page's main part, and a focused control shows an outline.

With COOKOUT_SCREENSHOTS set to a folder (docs/screens), it also photographs every kind of page at
1280 and 390 pixels there: `COOKOUT_SCREENSHOTS=docs/screens pytest tests/e2e/test_browser_layout.py -n 0`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cookout.platform import demo
from cookout.platform.settings import Settings
from tests.site_helpers import ROLES, Site, crawl, demo_site, serving, signed_in_client

pytestmark = pytest.mark.browser
PHONES = (360, 390)


@pytest.fixture(scope="module")
def site(server_url: str, settings: Settings) -> Iterator[Site]:
    with demo_site(server_url, settings) as built, serving(built.app) as url:
        built.base_url = url
        yield built


def browse_as(browser: Any, site: Site, role: str, width: int, height: int = 800) -> Any:
    # The demo tribe meets in Chicago; its people browse from there (times.js shows times in this zone).
    context = browser.new_context(base_url=site.base_url, viewport={"width": width, "height": height},
                                  timezone_id="America/Chicago")
    page = context.new_page()
    page.set_default_timeout(10_000)
    handle = ROLES[role]
    if handle:
        page.goto("/login")
        page.locator("#login").fill(handle)
        page.locator("#password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/members/{handle}")
    return page


def pages_of(site: Site, role: str) -> list[str]:
    client = signed_in_client(site.app, ROLES[role])
    try:
        return sorted(crawl(client).html_pages)
    finally:
        client.__exit__(None, None, None)


def too_wide(page: Any) -> int:
    """How many pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_page_fits_a_phone_screen_without_sideways_scrolling(browser: Any, site: Site) -> None:
    overflowing = []
    for role in ("visitor", "organiser"):  # between them, every page there is
        page = browse_as(browser, site, role, PHONES[0])
        try:
            for path in pages_of(site, role):
                page.goto(path, wait_until="domcontentloaded")
                for width in PHONES:
                    page.set_viewport_size({"width": width, "height": 800})
                    if excess := too_wide(page):
                        overflowing.append(f"{path} as {role} at {width}px: {excess}px too wide")
                page.set_viewport_size({"width": PHONES[0], "height": 800})
        finally:
            page.context.close()
    assert overflowing == []


def test_skip_to_content_is_the_first_tab_stop_and_moves_focus_to_the_main_part(browser: Any, site: Site) -> None:
    page = browse_as(browser, site, "member", 390)
    try:
        page.goto("/t/crazies")
        page.keyboard.press("Tab")
        label, top = page.evaluate("[document.activeElement.textContent.trim(), document.activeElement.getBoundingClientRect().top]")
        assert label == "Skip to content"
        assert top >= 0  # on the screen while focused, not only read out
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.tagName") == "MAIN"
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    finally:
        page.context.close()


def test_each_kind_of_control_shows_an_outline_when_focused_from_the_keyboard(browser: Any, site: Site) -> None:
    page = browse_as(browser, site, "organiser", 1280)
    try:
        page.goto(f"/p/{site.ids['post']}")
        seen: dict[str, str] = {}
        for _ in range(40):
            page.keyboard.press("Tab")
            kind, style, width = page.evaluate("""() => {
                const el = document.activeElement, style = getComputedStyle(el);
                const kind = el.tagName === 'INPUT' ? 'input:' + el.type : el.tagName.toLowerCase();
                return [kind, style.outlineStyle, parseFloat(style.outlineWidth)];
            }""")
            if kind != "body":  # past the last control, focus leaves the page
                seen.setdefault(kind, (style, width))
    finally:
        page.context.close()
    assert {"a", "button", "textarea", "summary"} <= set(seen)
    # A solid outline at least 2 px thick (WCAG 2.2's focus appearance), not the browser's thin default ring.
    assert {kind: found for kind, found in seen.items() if found[0] != "solid" or found[1] < 2} == {}


# Screenshots, only when asked for: they are for people to look at, not for every CI run.

SHOTS = os.environ.get("COOKOUT_SCREENSHOTS")
README_IMAGES = os.environ.get("COOKOUT_README_IMAGES")  # docs: the README's three pictures


@pytest.mark.skipif(not SHOTS, reason="set COOKOUT_SCREENSHOTS=docs/screens to photograph every page")
@pytest.mark.parametrize("width", [1280, 390])
def test_photograph_every_kind_of_page(browser: Any, site: Site, width: int) -> None:
    folder = Path(SHOTS or ".")
    folder.mkdir(parents=True, exist_ok=True)
    ids = site.ids
    shots = {
        "visitor": {"home": "/", "tribe": "/t/crazies", "thread": f"/p/{ids['demo_post']}",
                    "signin": "/login", "signup": "/signup", "meetup": f"/m/{ids['chicago']}",
                    "error": "/t/no-such-tribe", "forgot-password": "/password/forgot",
                    "reset-link-problem": "/password/reset/not-a-link"},
        "member": {"compose": "/t/crazies/posts/new", "settings": "/settings", "profile": "/members/melanie",
                   "agenda": f"/m/{ids['conference']}", "cancelled": f"/m/{ids['cancelled']}",
                   "session": f"/m/{ids['conference']}/sessions/{ids['session']}"},
        "moderator": {"moderation": "/t/crazies/moderation"},
        "organiser": {"tribes": "/tribes", "meetup-organiser": f"/m/{ids['conference']}", "members": "/t/crazies/members",
                      "schedule": "/t/crazies/meetups/new", "found-tribe": "/tribes/new",
                      "tribe-organiser": "/t/crazies", "sole-organiser-leaving": "POST /t/crazies/leave"},
    }
    for role, named in shots.items():
        page = browse_as(browser, site, role, width)
        try:
            for name, path in named.items():
                if path.startswith("POST "):
                    post_from(page, path.removeprefix("POST "))
                else:
                    page.goto(path)
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        finally:
            page.context.close()


def post_from(page: Any, action: str) -> None:
    """Send a form the page does not offer (the sole organiser's "Leave"), as a browser would, to see the answer."""
    page.goto("/")
    with page.expect_navigation():
        page.evaluate("""action => {
            const form = Object.assign(document.createElement("form"), {method: "post", action});
            form.append(document.querySelector("input[name=_csrf_token]").cloneNode());
            document.body.append(form);
            form.submit();
        }""", action)


@pytest.mark.skipif(not README_IMAGES, reason="set COOKOUT_README_IMAGES=docs to picture the README")
def test_picture_the_readme(browser: Any, site: Site) -> None:
    folder = Path(README_IMAGES or ".")
    for name, role, path in (("home", "visitor", "/"), ("thread", "organiser", f"/p/{site.ids['demo_post']}"),
                             ("meetup", "organiser", f"/m/{site.ids['conference']}")):
        page = browse_as(browser, site, role, 1200)
        try:
            page.goto(path)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        finally:
            page.context.close()
