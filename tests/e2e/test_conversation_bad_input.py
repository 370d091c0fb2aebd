"""What the conversation pages survive: bad and hostile input, forbidden replies, floods and crowds."""

from __future__ import annotations

import re
import threading
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient

from cookout.domain.threads import Threads
from cookout.platform.container import Container
from cookout.platform.web.assets import ASSETS, static_url
from cookout.projections.members import MemberDirectory
from cookout.projections.thread import ThreadTree
from tests.conversation_helpers import (
    acting_as,
    comment_id_of,
    found_tribe,
    heading,
    new_member,
    publish,
    reply,
    settle,
    sign_in,
    sign_out,
    signed_up,
)
from tests.helpers import post_form, unique

XSS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "[sneaky](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">link</a>',
    "<svg/onload=alert(1)>",
    '"><script>alert(1)</script>',
    "<iframe src=javascript:alert(1)></iframe>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class Elements(HTMLParser):
    """Every element's tag and attributes, as a browser would build them."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(html: str) -> None:
    """Nothing a visitor wrote became markup: no script, no event handler, no script URL."""
    for tag, attributes in Elements(html).found:
        assert tag not in ("iframe", "svg", "object", "embed"), tag
        if tag == "img":  # only the site's own mark, from /static
            assert (dict(attributes).get("src") or "").startswith("/static/"), attributes
        if tag == "script":
            assert dict(attributes).get("src") in {static_url(name) for name in ASSETS.names}
        for name, value in attributes:
            assert not name.startswith("on"), (tag, name, value)  # the pages have no handlers of their own
            if name in ("href", "src", "action", "hx-get", "hx-post"):
                assert not re.match(r"\s*(javascript|data|vbscript):", value or "", re.I), (tag, name, value)


def a_post(client: TestClient[Any]) -> tuple[str, str]:
    signed_up(client)
    slug = found_tribe(client)
    return slug, publish(client, slug)


def test_an_empty_comment_comes_back_with_a_message(client: TestClient[Any], container: Container) -> None:
    _, post_id = a_post(client)
    before = container.log_position()
    response = reply(client, post_id, "   ")
    assert response.status_code == 422
    assert "Write something first." in response.text
    assert container.log_position() == before


def test_an_over_long_comment_comes_back_with_the_message_and_the_text(client: TestClient[Any], container: Container) -> None:
    _, post_id = a_post(client)
    before = container.log_position()
    text = "word " * 2000 + "the end"
    response = reply(client, post_id, text)
    assert response.status_code == 422
    assert "Keep it under 10,000 characters." in response.text
    assert text in response.text
    edit_target = comment_id_of(reply(client, post_id, "short"))
    before = container.log_position()
    edit = post_form(client, f"/c/{edit_target}/edit", {"body": text})
    assert edit.status_code == 422 and text in edit.text and "10,000" in edit.text
    assert container.log_position() == before


def test_an_over_long_post_or_empty_title_comes_back_with_what_was_written(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    before = container.log_position()
    response = post_form(client, f"/t/{slug}/posts", {"title": "  ", "body": "Kept body"})
    assert response.status_code == 422 and "Give a title" in response.text and "Kept body" in response.text
    long_body = "x" * 10_001
    response = post_form(client, f"/t/{slug}/posts", {"title": "Kept title", "body": long_body})
    assert response.status_code == 422 and 'value="Kept title"' in response.text and long_body in response.text
    assert container.log_position() == before


@pytest.mark.parametrize("payload", XSS)
def test_hostile_markdown_titles_and_guest_details_render_inert(client: TestClient[Any], payload: str) -> None:
    organiser = signed_up(client, f"Organiser {payload}")
    slug = found_tribe(client, name=f"Tribe {payload}"[:80])
    post_id = publish(client, slug, f"Title {payload}", f"Body {payload}")
    member_comment = comment_id_of(reply(client, post_id, f"Member {payload}"))
    post_form(client, f"/c/{member_comment}/edit", {"body": f"Edited {payload} again"})
    sign_out(client)
    guest = reply(client, post_id, f"Guest {payload}", name=f"Guest {payload}"[:80],
                  email=f"{unique()}@example.org", website="https://guest.example/?q=%3Cscript%3E")
    assert guest.status_code == 303
    pages = [client.get(f"/p/{post_id}").text, client.get(f"/t/{slug}").text, client.get("/tribes").text,
             client.get(f"/c/{member_comment}/history").text]
    sign_in(client, organiser)
    pages += [client.get(f"/t/{slug}/moderation").text, client.get(f"/members/{organiser}").text,
              client.get(f"/p/{post_id}").text]
    for html in pages:
        assert_inert(html)
    assert "awaiting moderation" in pages[0] and "Guest " in pages[4]


@pytest.mark.parametrize("website", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "ftp://x.example",
                                     "https://", "http://exa mple.org"])
def test_a_guest_website_that_is_not_a_web_address_is_refused(client: TestClient[Any], container: Container, website: str) -> None:
    _, post_id = a_post(client)
    sign_out(client)
    before = container.log_position()
    response = reply(client, post_id, "Hello", name="Wanda", email=f"{unique()}@example.org", website=website)
    assert response.status_code == 422
    assert "A website is an http:// or https:// address." in response.text
    assert 'value="Wanda"' in response.text
    assert_inert(response.text)
    assert container.log_position() == before


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "@example.org", "two@@example.org", ""])
def test_a_guest_email_that_is_not_an_email_is_refused(client: TestClient[Any], container: Container, email: str) -> None:
    _, post_id = a_post(client)
    sign_out(client)
    before = container.log_position()
    response = reply(client, post_id, "My words stay", name="Evan", email=email)
    assert response.status_code == 422
    assert "That email address won&#39;t work" in response.text
    assert "My words stay" in response.text and 'value="Evan"' in response.text
    assert container.log_position() == before


def test_replies_to_retracted_hidden_or_missing_comments_are_refused_and_record_nothing(
    client: TestClient[Any], container: Container
) -> None:
    _, post_id = a_post(client)
    retracted = comment_id_of(reply(client, post_id, "Gone soon"))
    hidden = comment_id_of(reply(client, post_id, "Hidden soon"))
    post_form(client, f"/c/{retracted}/retract", {})
    post_form(client, f"/c/{hidden}/hide", {"reason": "Off topic"})
    before = container.log_position()

    for parent, status in ((retracted, 409), (hidden, 409), (str(uuid.uuid4()), 404), ("not-a-uuid", 404)):
        response = reply(client, post_id, "My reply text", parent)
        assert response.status_code == status, parent
        assert "You can&#39;t reply to this comment." in response.text or "No such comment." in response.text
        assert "My reply text" in response.text
    assert container.log_position() == before


def test_a_reply_to_a_comment_of_another_post_is_refused(client: TestClient[Any], container: Container) -> None:
    slug, post_id = a_post(client)
    other_post = publish(client, slug, "Other")
    elsewhere = comment_id_of(reply(client, other_post, "Over there"))
    before = container.log_position()
    response = reply(client, post_id, "Crossing threads", elsewhere)
    assert response.status_code == 404 and "No such comment." in response.text
    assert container.log_position() == before


def test_the_eleventh_comment_in_a_minute_is_refused_with_429(client: TestClient[Any], container: Container) -> None:
    _, post_id = a_post(client)
    statuses = [reply(client, post_id, f"Comment {n}").status_code for n in range(10)]
    assert statuses == [303] * 10
    before = container.log_position()
    eleventh = reply(client, post_id, "One too many")
    assert eleventh.status_code == 429
    assert "commenting faster than Cookout allows" in eleventh.text
    assert "One too many" in eleventh.text
    assert container.log_position() == before


def test_fifty_members_commenting_at_once_are_all_counted(client: TestClient[Any], container: Container) -> None:
    _, post_id = a_post(client)
    members = [new_member(container, f"Crowd {n}") for n in range(50)]
    service = container.service(Threads)
    errors: list[BaseException] = []
    start = threading.Barrier(len(members))

    def speak(member_id: uuid.UUID, number: int) -> None:
        try:
            start.wait()
            with acting_as(member_id):
                service.post_comment(uuid.UUID(post_id), f"Voice {number}")
        except BaseException as error:  # noqa: BLE001 -- reported below
            errors.append(error)

    threads = [threading.Thread(target=speak, args=(m, n)) for n, m in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    settle(container)
    page = client.get(f"/p/{post_id}").text
    assert heading(page).startswith("50 thoughts on")
    assert all(f"Voice {n}</p>" in page for n in range(50))
    assert len(container.view(ThreadTree).comments(uuid.UUID(post_id))) == 50
    assert container.view(MemberDirectory).by_id(members[0])["display_name"] == "Crowd 0"
