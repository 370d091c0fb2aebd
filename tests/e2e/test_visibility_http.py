"""One visibility rule on every read route, plain and htmx: held, hidden, retracted and spam comments, and
retracted or hidden posts, reach only those who may read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.platform.links import unsubscribe_token
from tests.conversation_helpers import (
    comment_id_of,
    found_tribe,
    publish,
    reply,
    sign_in,
    sign_out,
    signed_up,
)
from tests.helpers import post_form, unique

HTMX = {"HX-Request": "true"}
HELD, HIDDEN, REASON, RETRACTED, SPAM = "HELD-BODY", "HIDDEN-BODY", "PRIVATE-REASON", "RETRACTED-BODY", "SPAM-BODY"


@dataclass
class Thread:
    slug: str
    post_id: str
    moderator: str
    author: str
    member: str
    held: str
    hidden: str
    retracted: str
    spam: str
    guest_email: str


def client_for(app: Litestar) -> TestClient[Any]:
    return TestClient(app=app, base_url="http://testserver.local")


@pytest.fixture
def thread(app: Litestar) -> Thread:
    """A public tribe's post with one comment in each state, made through the pages."""
    with client_for(app) as client:
        moderator = signed_up(client, "Mod Person")
        slug = found_tribe(client)
        post_id = publish(client, slug, title="Open thread")
        sign_out(client)
        author = signed_up(client, "Author Person")
        hidden = comment_id_of(reply(client, post_id, HIDDEN))
        retracted = comment_id_of(reply(client, post_id, RETRACTED))
        spam = comment_id_of(reply(client, post_id, SPAM))
        assert post_form(client, f"/c/{retracted}/retract", {}).status_code == 303
        sign_out(client)
        member = signed_up(client, "Other Member")
        sign_out(client)
        email = f"{unique()}@example.org"
        held = comment_id_of(reply(client, post_id, HELD, name="Guest", email=email))
        sign_in(client, moderator)
        assert post_form(client, f"/c/{hidden}/hide", {"reason": REASON}).status_code == 303
        assert post_form(client, f"/c/{spam}/spam", {}).status_code == 303
    return Thread(slug, post_id, moderator, author, member, held, hidden, retracted, spam, email)


def read_routes(thread: Thread) -> list[str]:
    """Every page, partial and feed that shows the tribe's comments or their text."""
    comments = (thread.held, thread.hidden, thread.retracted, thread.spam)
    return [
        f"/p/{thread.post_id}", f"/t/{thread.slug}", "/tribes",
        f"/members/{thread.author}", f"/members/{thread.moderator}",
        *(f"/c/{c}" for c in comments), *(f"/c/{c}/history" for c in comments), *(f"/c/{c}/reply" for c in comments),
        *(f"/c/{c}/edit" for c in comments),
    ]


def everything_read(client: TestClient[Any], thread: Thread) -> str:
    pages = []
    for path in read_routes(thread):
        for headers in ({}, HTMX):
            response = client.get(path, headers=headers)
            assert response.status_code < 500, (path, headers, response.status_code)
            pages.append(response.text)
    # A reply refused by the form shows the comment it answers: only one the visitor may read.
    for parent in (thread.held, thread.hidden, thread.spam):
        for headers in ({}, HTMX):
            pages.append(post_form(client, f"/p/{thread.post_id}/comments",
                                   {"body": "", "parent_id": parent}, headers=headers).text)
    return "\n".join(pages)


def test_visitors_and_other_members_read_no_held_hidden_retracted_or_spam_comment(app: Litestar, thread: Thread) -> None:
    with client_for(app) as visitor:
        seen = everything_read(visitor, thread)
        signed_up(visitor)  # a member of the site with no part in these comments
        seen_by_member = everything_read(visitor, thread)
    with client_for(app) as member:
        sign_in(member, thread.member)
        seen_by_member += everything_read(member, thread)
    for text in (seen, seen_by_member):
        for secret in (HELD, HIDDEN, REASON, RETRACTED, SPAM):
            assert secret not in text


def test_the_htmx_permalink_of_a_hidden_comment_is_not_found_for_a_visitor(app: Litestar, thread: Thread) -> None:
    with client_for(app) as visitor:
        for comment_id in (thread.held, thread.hidden, thread.spam):
            response = visitor.get(f"/c/{comment_id}", headers=HTMX)
            assert response.status_code == 404
        tombstone = visitor.get(f"/c/{thread.retracted}", headers=HTMX)
        assert tombstone.status_code == 200 and "retracted by its author" in tombstone.text
        assert RETRACTED not in tombstone.text
        # A guest still reads the comment this browser posted while it waits, and only that one.
        own = comment_id_of(reply(visitor, thread.post_id, "My own words", name="Guest", email=thread.guest_email))
        card = visitor.get(f"/c/{own}", headers=HTMX)
        assert card.status_code == 200 and "My own words" in card.text and "awaiting moderation" in card.text
        assert visitor.get(f"/c/{thread.held}", headers=HTMX).status_code == 404


def test_the_author_reads_their_hidden_comment_with_the_reason_but_not_what_they_retracted(
    app: Litestar, thread: Thread
) -> None:
    with client_for(app) as author:
        sign_in(author, thread.author)
        seen = everything_read(author, thread)
        card = author.get(f"/c/{thread.hidden}", headers=HTMX).text
    assert HIDDEN in card and REASON in card and "Only you can see it" in card
    assert RETRACTED not in seen and SPAM not in seen and HELD not in seen


def test_the_moderators_read_every_comment_with_its_status_but_none_retracted(app: Litestar, thread: Thread) -> None:
    with client_for(app) as moderator:
        sign_in(moderator, thread.moderator)
        page = moderator.get(f"/p/{thread.post_id}").text
        partials = [moderator.get(f"/c/{c}", headers=HTMX).text for c in (thread.held, thread.hidden, thread.spam)]
        seen = everything_read(moderator, thread)
    for secret in (HELD, HIDDEN, REASON, SPAM):
        assert secret in page and secret in "".join(partials)
    assert "Waiting for moderation" in page and "Marked as spam" in page
    assert RETRACTED not in seen


def test_a_retracted_post_leaves_its_title_everywhere(app: Litestar, container: Container) -> None:
    with client_for(app) as client:
        author = signed_up(client, "Post Author")
        slug = found_tribe(client)
        post_id = publish(client, slug, title="SECRET-TITLE", body="SECRET-POST-BODY")
        sign_out(client)
        commenter = signed_up(client, "Commenter")
        comment_id = comment_id_of(reply(client, post_id, "Still here"))
        sign_out(client)
        sign_in(client, author)
        assert post_form(client, f"/p/{post_id}/retract", {}).status_code == 303
        pages = []
        for path in (f"/p/{post_id}", f"/c/{comment_id}", f"/c/{comment_id}/history", f"/c/{comment_id}/reply",
                     f"/p/{post_id}/history", f"/t/{slug}", f"/members/{author}", f"/members/{commenter}",
                     f"/unsubscribe/{unsubscribe_token(container.settings, post_id, 'reader@example.org')}"):
            for headers in ({}, HTMX):
                pages.append(client.get(path, headers=headers).text)
        shown = client.get(f"/p/{post_id}").text
    assert "<title>Retracted post" in shown and "on “Retracted post”" in shown and "Still here" in shown
    for html in pages:
        assert "SECRET-TITLE" not in html and "SECRET-POST-BODY" not in html


def test_a_hidden_post_keeps_its_title_and_reason_from_everyone_but_its_author_and_the_moderators(app: Litestar) -> None:
    with client_for(app) as client:
        moderator = signed_up(client, "Mod Person")
        slug = found_tribe(client)
        sign_out(client)
        author = signed_up(client, "Post Author")
        assert post_form(client, f"/t/{slug}/join", {}).status_code == 303
        post_id = publish(client, slug, title="SECRET-TITLE", body="SECRET-POST-BODY")
        comment_id = comment_id_of(reply(client, post_id, "Own comment"))
        sign_out(client)
        sign_in(client, moderator)
        assert post_form(client, f"/p/{post_id}/hide", {"reason": REASON}).status_code == 303
        moderator_history = client.get(f"/p/{post_id}/history")
        sign_out(client)
        pages = [client.get(path, headers=headers).text
                 for path in (f"/p/{post_id}", f"/p/{post_id}/history", f"/c/{comment_id}", f"/c/{comment_id}/history",
                              f"/t/{slug}", f"/members/{author}")
                 for headers in ({}, HTMX)]
        sign_in(client, author)
        own = client.get(f"/p/{post_id}").text
    assert moderator_history.status_code == 200 and "SECRET-POST-BODY" in moderator_history.text
    assert "SECRET-TITLE" in own and REASON in own
    for html in pages:
        for secret in ("SECRET-TITLE", "SECRET-POST-BODY", REASON):
            assert secret not in html

