"""Running a tribe through HTTP without JavaScript: revising it, hiding posts, following a post's comments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from cookout.domain.threads import Threads
from cookout.platform.container import Container
from tests.conversation_helpers import found_tribe, publish, reply, sign_in, sign_out, signed_up
from tests.helpers import post_form


def test_an_organiser_revises_the_tribe_and_its_address_stays(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client, name="Night Owls")
    assert f'href="/t/{slug}/edit"' in client.get(f"/t/{slug}").text
    form = client.get(f"/t/{slug}/edit")
    assert form.status_code == 200
    assert 'value="Night Owls"' in form.text and 'value="owls"' in form.text and "We talk after dark." in form.text
    assert 'name="slug"' not in form.text
    revised = post_form(client, f"/t/{slug}/edit", {"name": "Early Birds", "description": "We talk at dawn.",
                                                     "nickname": "birds", "visibility": "members",
                                                     "slug": "somewhere-else"})
    assert revised.status_code == 303 and revised.headers["location"] == f"/t/{slug}"
    page = client.get(f"/t/{slug}")
    assert "Early Birds" in page.text and "We talk at dawn." in page.text and "1 member" in page.text
    assert "The birds of Early Birds" in client.get(f"/t/{slug}/members").text
    assert "members only" in page.text
    assert client.get("/t/somewhere-else").status_code == 404


def test_a_bad_revision_keeps_what_you_typed_and_records_nothing(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client, name="Night Owls")
    before = container.log_position()
    too_long = post_form(client, f"/t/{slug}/edit", {"name": "x" * 81, "description": "Still here",
                                                      "nickname": "owls", "visibility": "public"})
    assert too_long.status_code == 422
    assert "1 to 80 characters" in too_long.text and "x" * 81 in too_long.text and "Still here" in too_long.text
    odd = post_form(client, f"/t/{slug}/edit", {"name": "Owls", "description": "", "nickname": "", "visibility": "all"})
    assert odd.status_code == 422 and "Choose public or members only" in odd.text
    assert container.log_position() == before
    assert "Night Owls" in client.get(f"/t/{slug}").text


def test_only_organisers_revise_and_outsiders_of_a_members_only_tribe_find_nothing(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    public = found_tribe(client)
    secret = found_tribe(client, visibility="members", name="Secret Society")
    sign_out(client)
    signed_out = client.get(f"/t/{public}/edit", follow_redirects=False)
    assert signed_out.headers["location"] == f"/login?next=/t/{public}/edit"
    signed_up(client, "Joiner Person")
    assert post_form(client, f"/t/{public}/join", {}).status_code == 303
    assert f'href="/t/{public}/edit"' not in client.get(f"/t/{public}").text
    before = container.log_position()
    assert client.get(f"/t/{public}/edit").status_code == 403
    changes = {"name": "Taken over", "description": "", "nickname": "", "visibility": "public"}
    assert post_form(client, f"/t/{public}/edit", changes).status_code == 403
    assert client.get(f"/t/{secret}/edit").status_code == 404
    refused = post_form(client, f"/t/{secret}/edit", changes)
    assert refused.status_code == 404 and "Secret Society" not in refused.text
    assert container.log_position() == before


def test_a_moderator_hides_a_post_with_a_reason_and_shows_it_again(client: TestClient[Any], container: Container) -> None:
    organiser = signed_up(client, "Organiser Person")
    slug = found_tribe(client)
    sign_out(client)
    writer = signed_up(client, "Writer Person")
    assert post_form(client, f"/t/{slug}/join", {}).status_code == 303
    post_id = publish(client, slug, "Buy cheap watches", "Visit my shop.")
    assert f'action="/p/{post_id}/hide"' not in client.get(f"/p/{post_id}").text
    assert post_form(client, f"/p/{post_id}/hide", {"reason": "Mine now"}).status_code == 403
    sign_out(client)

    sign_in(client, organiser)
    page = client.get(f"/p/{post_id}")
    assert f'action="/p/{post_id}/hide"' in page.text
    before = container.log_position()
    empty = post_form(client, f"/p/{post_id}/hide", {"reason": "   "})
    assert empty.status_code == 422 and "Say why" in empty.text and 'id="hide-reason"' in empty.text
    too_long = post_form(client, f"/p/{post_id}/hide", {"reason": "spam " * 101})
    assert too_long.status_code == 422 and "spam spam spam" in too_long.text
    assert container.log_position() == before
    hidden = post_form(client, f"/p/{post_id}/hide", {"reason": "Advertising"})
    assert hidden.status_code == 303 and hidden.headers["location"] == f"/p/{post_id}"
    page = client.get(f"/p/{post_id}")
    assert "Hidden by a moderator: Advertising" in page.text and "Visit my shop." in page.text
    assert f'action="/p/{post_id}/unhide"' in page.text
    assert "Buy cheap watches" not in client.get(f"/t/{slug}").text
    sign_out(client)

    sign_in(client, writer)
    own = client.get(f"/p/{post_id}")
    assert "Hidden by a moderator: Advertising" in own.text and "Visit my shop." in own.text
    assert reply(client, post_id, "Why?").status_code == 409
    sign_out(client)

    outsider = client.get(f"/p/{post_id}")
    assert outsider.status_code == 200 and "This post was hidden by a moderator." in outsider.text
    assert "Visit my shop." not in outsider.text and "Buy cheap watches" not in outsider.text
    assert "Advertising" not in outsider.text

    sign_in(client, organiser)
    shown = post_form(client, f"/p/{post_id}/unhide", {})
    assert shown.status_code == 303
    sign_out(client)
    assert "Visit my shop." in client.get(f"/p/{post_id}").text
    assert "Buy cheap watches" in client.get(f"/t/{slug}").text


def test_a_member_follows_a_posts_comments_without_commenting(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    sign_out(client)
    assert "Notify me of new comments</button>" not in client.get(f"/p/{post_id}").text
    reader = signed_up(client, "Reader Person")
    email = f"{reader}@example.org"
    threads = container.service(Threads)
    page = client.get(f"/p/{post_id}")
    assert f'action="/p/{post_id}/subscribe"' in page.text and "Notify me of new comments</button>" in page.text

    followed = post_form(client, f"/p/{post_id}/subscribe", {})
    assert followed.status_code == 303 and followed.headers["location"] == f"/p/{post_id}"
    assert threads.is_subscribed(UUID(post_id), email)
    page = client.get(f"/p/{post_id}")
    assert f'action="/p/{post_id}/unsubscribe"' in page.text and "Stop notifying me" in page.text
    before = container.log_position()
    assert post_form(client, f"/p/{post_id}/subscribe", {}).status_code == 303
    assert container.log_position() == before

    stopped = post_form(client, f"/p/{post_id}/unsubscribe", {})
    assert stopped.status_code == 303
    assert not threads.is_subscribed(UUID(post_id), email)
    assert "Notify me of new comments</button>" in client.get(f"/p/{post_id}").text


def test_following_needs_a_signed_in_reader(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    secret = found_tribe(client, visibility="members")
    post_id = publish(client, secret)
    sign_out(client)
    assert post_form(client, f"/p/{post_id}/subscribe", {}).status_code == 401
    signed_up(client, "Outsider Person")
    before = container.log_position()
    assert post_form(client, f"/p/{post_id}/subscribe", {}).status_code == 404
    assert post_form(client, f"/p/{post_id}/unsubscribe", {}).status_code == 404
    assert container.log_position() == before
