"""The conversation's htmx interactions in Chromium: each changes the page in place, without a reload."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from cookout.platform.container import Container
from cookout.platform.web.conversation import THREAD_PAGE
from tests.conversation_helpers import comment, new_member, new_post, new_tribe, settle
from tests.helpers import PASSWORD, unique

pytestmark = pytest.mark.browser


def join_in_the_browser(page: Any, container: Container, name: str = "Browser Talker") -> UUID:
    handle = unique()
    page.goto("/signup")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(f"{handle}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(f"**/members/{handle}")
    return container.accounts.member_id_for_handle(handle)


def a_post_page(page: Any, container: Container, author: UUID | None = None, title: str = "Browser thread") -> UUID:
    author = author or new_member(container, "Post Author")
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, title)
    settle(container)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")
    return post_id


def not_reloaded(page: Any) -> bool:
    return page.evaluate("window.marker") == 1


def test_posting_a_comment_inserts_it_and_updates_the_count_in_place(page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    a_post_page(page, container, title="Live count")
    assert page.locator("#thread-count").inner_text() == "No comments yet"

    page.locator("#comment-form-top-body").fill("Hello from **Chromium**")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#replies-top > li.comment strong", has_text="Chromium").wait_for()
    assert page.locator("#thread-count").inner_text() == "1 thought on “Live count”"
    assert page.locator("#comment-form-top-body").input_value() == ""

    page.locator("#comment-form-top-body").fill("And again")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#thread-count", has_text="2 thoughts").wait_for()
    assert page.locator("#replies-top > li.comment").count() == 2
    assert not_reloaded(page)


def test_an_empty_comment_shows_its_message_in_place(page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    a_post_page(page, container)
    page.get_by_role("button", name="Post comment").click()
    page.locator("#comment-form-top .error", has_text="Write something first.").wait_for()
    assert page.locator("#replies-top > li.comment").count() == 0
    assert not_reloaded(page)


def test_the_reply_form_opens_inline_and_the_reply_lands_under_its_parent(page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    author = new_member(container, "Parent Author")
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, "Replies")
    parent = comment(container, author, post_id, "Who's coming?")
    settle(container)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")

    page.locator(f"#card-{parent} .reply-link").click()
    reply_box = page.locator(f"#comment-form-{parent}-body")
    reply_box.wait_for()
    reply_box.fill("Me, with cake")
    page.get_by_role("button", name="Post reply").click()
    page.locator(f"#replies-{parent} > li.comment", has_text="Me, with cake").wait_for()
    assert page.locator(f"#reply-slot-{parent}").inner_html().strip() == ""
    assert page.locator("#thread-count").inner_text() == "2 thoughts on “Replies”"
    assert not_reloaded(page)


def test_editing_a_comment_happens_in_place(page: Any, container: Container) -> None:
    me = join_in_the_browser(page, container)
    post_id = a_post_page(page, container)
    mine = comment(container, me, post_id, "Typo hree")
    settle(container)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")

    page.locator(f"#card-{mine} .edit-link").click()
    editor = page.locator(f"#edit-{mine}")
    editor.wait_for()
    assert editor.input_value() == "Typo hree"
    editor.fill("Typo here, fixed")
    page.get_by_role("button", name="Save").click()
    page.locator(f"#card-{mine} .body", has_text="Typo here, fixed").wait_for()
    assert page.locator(f"#card-{mine} a.edited").get_attribute("href") == f"/c/{mine}/history"
    assert not_reloaded(page)


def test_a_like_toggles_in_place(page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    liked = comment(container, author, post_id, "Like this")
    settle(container)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")

    button = page.locator(f"#card-{liked} .like-button")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    page.locator(f"#card-{liked} .like-button[aria-pressed=true]").wait_for()
    assert page.locator(f"#card-{liked} .like-count").inner_text() == "1"
    page.locator(f"#card-{liked} .like-button").click()
    page.locator(f"#card-{liked} .like-button[aria-pressed=false]").wait_for()
    assert page.locator(f"#card-{liked} .like-count").inner_text() == "0"
    assert not_reloaded(page)


def test_the_feed_loads_more_posts_in_place(page: Any, container: Container) -> None:
    author = new_member(container)
    tribe_id, slug = new_tribe(container, author)
    for number in range(1, 14):
        new_post(container, author, tribe_id, f"Feed post {number:02d}")
    settle(container)
    page.goto(f"/t/{slug}")
    page.evaluate("window.marker = 1")
    assert page.locator("li.feed-item").count() == 10
    assert page.get_by_role("link", name="Feed post 04").is_visible()
    assert page.get_by_role("link", name="Feed post 03").count() == 0

    page.get_by_role("link", name="Load more").click()
    page.get_by_role("link", name="Feed post 01").wait_for()
    assert page.locator("li.feed-item").count() == 13
    assert page.get_by_role("link", name="Load more").count() == 0
    assert not_reloaded(page)


def a_long_thread(container: Container, top_level: int) -> UUID:
    author = new_member(container, "Long Talker")
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, "A long one")
    for n in range(top_level):
        comment(container, author, post_id, f"Remark number {n}")
    settle(container)
    return post_id


def test_more_comments_adds_the_next_page_below_the_first_in_place(page: Any, container: Container) -> None:
    post_id = a_long_thread(container, THREAD_PAGE + 2)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")
    assert page.locator("#replies-top > li.comment").count() == THREAD_PAGE
    more = page.get_by_role("link", name="More comments")
    assert more.get_attribute("href") == f"/p/{post_id}?page=2#thread"
    more.click()
    page.locator("#replies-top > li.comment", has_text=f"Remark number {THREAD_PAGE + 1}").wait_for()
    assert page.locator("#replies-top > li.comment").count() == THREAD_PAGE + 2
    assert page.get_by_role("link", name="More comments").count() == 0
    assert page.url.endswith(f"/p/{post_id}") and not_reloaded(page)


def test_once_more_comments_brought_the_rest_a_new_comment_joins_the_page_in_place(
        page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    post_id = a_long_thread(container, THREAD_PAGE + 1)
    page.goto(f"/p/{post_id}")
    page.evaluate("window.marker = 1")
    page.get_by_role("link", name="More comments").click()
    page.locator("#replies-top > li.comment", has_text=f"Remark number {THREAD_PAGE}").wait_for()
    page.locator("#comment-form-top-body").fill("Caught up, and saying so")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#replies-top > li.comment", has_text="Caught up").wait_for()
    assert page.locator("li.comment", has_text="Caught up").count() == 1 and not_reloaded(page)


def test_a_comment_posted_while_later_pages_are_not_loaded_opens_its_page_and_shows_once(
        page: Any, container: Container) -> None:
    join_in_the_browser(page, container)
    post_id = a_long_thread(container, THREAD_PAGE + 1)
    page.goto(f"/p/{post_id}")

    page.locator("#comment-form-top-body").fill("Straight to the end")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(f"**/p/{post_id}?page=2#c-*")
    page.locator("#replies-top > li.comment", has_text="Straight to the end").wait_for()
    assert page.locator("li.comment", has_text="Straight to the end").count() == 1

    # All of the thread is on this page now: the next comment joins it in place.
    page.evaluate("window.marker = 1")
    page.locator("#comment-form-top-body").fill("And one more")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#replies-top > li.comment", has_text="And one more").wait_for()
    assert page.locator("li.comment", has_text="And one more").count() == 1 and not_reloaded(page)


SHOTS = os.environ.get("COOKOUT_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set COOKOUT_SCREENSHOTS=docs/screens to photograph the thread's pages")
def test_photograph_a_long_threads_pages(page: Any, container: Container) -> None:
    """Where the first page ends ("More comments") and how the second begins, at 1280 and 390 pixels."""
    author, replier = new_member(container, "Amara Okafor"), new_member(container, "Teo Lindqvist")
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, "Where do we grill next summer?")
    for n in range(THREAD_PAGE + 4):
        top = comment(container, author, post_id, f"Idea number {n + 1}: the park by the *river*.")
        if n % 10 == 9:
            comment(container, replier, post_id, "Yes! And bring the big grill.", top)
    settle(container)
    folder = Path(SHOTS or ".")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/p/{post_id}")
        page.get_by_role("link", name="More comments").scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, 250)")
        page.screenshot(path=str(folder / f"thread-more-{width}.png"))
        page.goto(f"/p/{post_id}?page=2#thread")
        page.screenshot(path=str(folder / f"thread-page-2-{width}.png"))
