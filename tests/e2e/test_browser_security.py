"""Under the Content-Security-Policy, in Chromium: htmx works without a single violation, retracting asks
in a dialog with JavaScript and on a page without it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from cookout.domain.base import current_actor
from cookout.domain.meetings import Meetings
from cookout.platform.container import Container
from tests.conversation_helpers import comment, new_post
from tests.conversation_helpers import settle as settle_thread
from tests.helpers import PASSWORD
from tests.meetup_helpers import Tribe, acting, meetup_fields, settle

pytestmark = pytest.mark.browser

# Chromium reports a blocked script, style or eval both on the console and as this DOM event; the
# event is turned into a console error so both kinds end up in one list. Playwright injects this
# script past the page's policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def complaints(page: Any) -> Iterator[list[str]]:
    """Everything the browser complained about while the test ran: console warnings and errors, page errors."""
    found: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: found.append(f"{message.type}: {message.text} at {message.location['url']}")
            if message.type in ("error", "warning") and not message.location["url"].endswith("/favicon.ico")
            else None)
    page.on("pageerror", lambda error: found.append(f"pageerror: {error}"))
    yield found


def sign_in(page: Any, member: dict[str, Any]) -> None:
    page.goto("/login")
    page.get_by_label("Handle or email").fill(member["handle"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/members/{member['handle']}")


def schedule(container: Container, tribe: Tribe) -> UUID:
    token = acting(tribe.organiser["id"])
    try:
        meetup_id = container.service(Meetings).schedule(tribe.id, **{**meetup_fields(), "capacity": None})
    finally:
        current_actor.reset(token)
    settle(container)
    return meetup_id


def open_marked(page: Any, path: str) -> None:
    """Open a page, check it is under the strict policy, and mark it, so the test can tell an in-place
    update from a reload."""
    response = page.goto(path)
    assert "script-src 'self'; style-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("window.marker = 1")


def not_reloaded(page: Any) -> bool:
    return page.evaluate("window.marker") == 1


def test_commenting_liking_and_answering_through_htmx_break_no_security_policy(
    page: Any, complaints: list[str], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    post_id = new_post(container, tribe.organiser["id"], tribe.id, "Who brings the grill?")
    meetup_id = schedule(container, tribe)
    settle_thread(container)
    sign_in(page, tribe.members[0])

    open_marked(page, f"/p/{post_id}")
    page.locator("#comment-form-top-body").fill("I bring the **charcoal**")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#replies-top > li.comment strong", has_text="charcoal").wait_for()
    page.locator("#post .like-button").click()
    page.locator("#post .like-button[aria-pressed=true]").wait_for()
    page.locator("#replies-top .reply-link").first.click()
    page.locator(".reply-slot textarea").wait_for()
    assert not_reloaded(page)

    open_marked(page, f"/m/{meetup_id}")
    page.get_by_role("button", name="Going", exact=True).click()
    page.locator(".rsvp button[aria-pressed=true]", has_text="Going").wait_for()
    assert not_reloaded(page)

    assert complaints == []


def test_with_javascript_retracting_asks_in_a_dialog_and_updates_the_page_without_a_reload(
    page: Any, complaints: list[str], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    author = tribe.members[0]
    post_id = new_post(container, author["id"], tribe.id, "Grill rota")
    mine = comment(container, author["id"], post_id, "I take the first shift")
    settle_thread(container)
    sign_in(page, author)
    open_marked(page, f"/p/{post_id}")
    asked: list[str] = []
    answer = {"accept": False}
    retractions: list[str] = []

    def on_dialog(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: retractions.append(request.method)
            if request.url.endswith(f"/c/{mine}/retract") else None)
    page.locator(f"#card-{mine}").get_by_role("button", name="Retract").click()
    assert asked == ["Retract this comment? Its replies stay."]
    assert page.locator(f"#card-{mine} .body").inner_text() == "I take the first shift"

    answer["accept"] = True
    page.locator(f"#card-{mine}").get_by_role("button", name="Retract").click()
    page.get_by_role("status").filter(has_text="Your comment is retracted.").wait_for()
    assert page.get_by_text("I take the first shift").count() == 0
    assert retractions == ["POST"]  # the dismissed dialog sent nothing

    page.locator("#post").get_by_role("button", name="Retract").click()
    page.get_by_text("This post was retracted by its author.").wait_for()
    assert asked == ["Retract this comment? Its replies stay.", "Retract this comment? Its replies stay.",
                     "Retract this post? Its comments stay."]
    assert page.url.endswith(f"/p/{post_id}")
    assert not_reloaded(page)
    assert complaints == []


def test_without_javascript_the_retract_button_asks_on_a_page_first(browser: Any, live_server: str,
                                                                    container: Container) -> None:
    tribe = Tribe(container, members=1)
    author = tribe.members[0]
    post_id = new_post(container, author["id"], tribe.id, "Picnic in the rain")
    settle_thread(container)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, author)
        page.goto(f"/p/{post_id}")
        page.locator("#post").get_by_role("button", name="Retract").click()
        page.wait_for_url(re.compile(rf"/p/{post_id}/retract\??$"))
        assert page.get_by_role("heading", level=1).inner_text() == "Retract this post?"
        assert "Picnic in the rain" in page.locator(".retract-preview").inner_text()

        page.get_by_role("link", name="Keep it").click()
        page.wait_for_url(f"**/p/{post_id}")
        assert page.get_by_role("heading", level=1).inner_text() == "Picnic in the rain"

        page.locator("#post").get_by_role("button", name="Retract").click()
        page.get_by_role("button", name="Retract").click()
        page.wait_for_url(f"**/p/{post_id}")
        assert page.get_by_text("This post was retracted by its author.").is_visible()
    finally:
        context.close()
