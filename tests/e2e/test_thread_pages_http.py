"""A long thread in pages: top-level comments 50 a page, each with all its replies, the next page behind a
plain link (and htmx's "More comments"), and every link to a comment opening the page that holds it."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.web.conversation import THREAD_PAGE
from tests.conversation_helpers import comment, heading, new_member, new_post, new_tribe, reply, settle, signed_up
from tests.helpers import post_form


def long_thread(container: Container, top_level: int) -> tuple[UUID, list[UUID], UUID]:
    """A post with `top_level` comments, the last of which has a reply; the comments' ids in order."""
    post_id, ids, answer, _ = long_thread_in(container, top_level)
    return post_id, ids, answer


def long_thread_in(container: Container, top_level: int) -> tuple[UUID, list[UUID], UUID, str]:
    author = new_member(container, "Talker")
    tribe_id, slug = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, "A long talk", "Go on.")
    ids = [comment(container, author, post_id, f"Top comment number {n}.") for n in range(top_level)]
    answer = comment(container, author, post_id, "An answer on a later page.", ids[-1])
    settle(container)
    return post_id, ids, answer, slug


def comment_ids(html: str) -> list[str]:
    return re.findall(r'<li class="comment depth-\d+" id="c-([0-9a-f-]{36})"', html)


def test_a_long_thread_shows_its_first_fifty_top_level_comments_and_a_plain_link_to_the_next(
        client: TestClient[Any], container: Container) -> None:
    post_id, ids, answer = long_thread(container, THREAD_PAGE + 3)
    first = client.get(f"/p/{post_id}")
    assert first.status_code == 200
    assert comment_ids(first.text) == [str(i) for i in ids[:THREAD_PAGE]]
    assert heading(first.text).startswith(f"{THREAD_PAGE + 4} thoughts on")  # every published comment counts
    assert f'href="/p/{post_id}?page=2#thread"' in first.text and "More comments" in first.text
    second = client.get(f"/p/{post_id}?page=2")
    assert second.status_code == 200
    assert comment_ids(second.text) == [*map(str, ids[THREAD_PAGE:]), str(answer)]  # a reply comes with its top
    assert "More comments" not in second.text
    assert f'href="/p/{post_id}#thread"' in second.text and "Earlier comments" in second.text
    assert client.get(f"/p/{post_id}?page=3").status_code == 404


def test_more_comments_answers_htmx_with_the_next_slice_and_a_plain_request_with_that_page(
        client: TestClient[Any], container: Container) -> None:
    post_id, ids, answer = long_thread(container, THREAD_PAGE + 1)
    slice_ = client.get(f"/p/{post_id}/comments?page=2", headers={"HX-Request": "true"})
    assert slice_.status_code == 200
    assert "<html" not in slice_.text and "A long talk" not in slice_.text
    assert comment_ids(slice_.text) == [str(ids[-1]), str(answer)]
    plain = client.get(f"/p/{post_id}/comments?page=2", follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/p/{post_id}?page=2#thread"


def test_a_link_to_a_comment_on_a_later_page_opens_that_page(client: TestClient[Any], container: Container) -> None:
    post_id, ids, answer = long_thread(container, THREAD_PAGE + 1)
    for target in (answer, ids[-1]):
        found = client.get(f"/c/{target}", follow_redirects=False)
        assert found.status_code == 303 and found.headers["location"] == f"/p/{post_id}?page=2#c-{target}"
    early = client.get(f"/c/{ids[0]}", follow_redirects=False)
    assert early.headers["location"] == f"/p/{post_id}#c-{ids[0]}"


def test_a_reply_posted_without_javascript_on_a_later_page_is_opened_there(
        client: TestClient[Any], container: Container) -> None:
    post_id, ids, _, slug = long_thread_in(container, THREAD_PAGE + 1)
    signed_up(client)
    assert post_form(client, f"/t/{slug}/join", {}).status_code == 303
    posted = reply(client, str(post_id), "Me too, down here.", str(ids[-1]))
    assert posted.status_code == 303
    assert re.fullmatch(rf"/p/{post_id}\?page=2#c-[0-9a-f-]{{36}}", posted.headers["location"])
    top = reply(client, str(post_id), "And a new top-level one.")
    assert re.fullmatch(rf"/p/{post_id}\?page=2#c-[0-9a-f-]{{36}}", top.headers["location"])
    early = reply(client, str(post_id), "Back to the start.", str(ids[0]))
    assert re.fullmatch(rf"/p/{post_id}#c-[0-9a-f-]{{36}}", early.headers["location"])
    new_id = top.headers["location"].split("#c-")[1]
    assert f'id="c-{new_id}"' in client.get(top.headers["location"]).text


def test_a_comment_that_fills_the_first_page_is_opened_there_and_the_next_one_on_the_second(
        client: TestClient[Any], container: Container) -> None:
    author = new_member(container, "Talker")
    tribe_id, slug = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id, "Nearly a page", "Go on.")
    for n in range(THREAD_PAGE - 1):
        comment(container, author, post_id, f"Top comment number {n}.")
    settle(container)
    signed_up(client)
    assert post_form(client, f"/t/{slug}/join", {}).status_code == 303
    last_on_first = reply(client, str(post_id), "The last one on the first page.")
    assert re.fullmatch(rf"/p/{post_id}#c-[0-9a-f-]{{36}}", last_on_first.headers["location"])
    settle(container)  # the view has it now: the page is read off the comment itself, not counted again
    assert client.get(f"/c/{last_on_first.headers['location'].split('#c-')[1]}",
                      follow_redirects=False).headers["location"] == last_on_first.headers["location"]
    first_on_second = reply(client, str(post_id), "The first one on the second page.")
    assert re.fullmatch(rf"/p/{post_id}\?page=2#c-[0-9a-f-]{{36}}", first_on_second.headers["location"])
    assert "The first one on the second page." in client.get(first_on_second.headers["location"]).text
