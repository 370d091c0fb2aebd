"""Leave Cookout: deleting an account with the current password erases who the member was, from the views
and from the log (their key is deleted), keeps their comments as "a former member" unless they retract them,
and frees their handle and address."""

from __future__ import annotations

from typing import Any

import psycopg
from litestar.testing import TestClient
from psycopg import sql

from cookout.domain.meetups import GOING, NOT_GOING, WAITLISTED
from cookout.platform.container import Container
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.projections.registry import PROJECTIONS
from cookout.projections.thread import ThreadTree
from tests.conversation_helpers import comment_id_of, found_tribe, publish, reply, settle, sign_out, signed_up
from tests.helpers import PASSWORD, post_form, rebuilding, sign_up, unique
from tests.meetup_helpers import Tribe, schedule, sign_in

TEXT_TYPES = ("text", "character varying", "character", "jsonb", "json", "bytea", "ARRAY")


def tables_holding(url: str, needle: str) -> list[str]:
    """Every table.column of the database whose value anywhere contains `needle` (any case): text and JSON
    columns as text, bytea (the event log's state) as bytes."""
    found = []
    with psycopg.connect(url, autocommit=True) as connection:
        columns = connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s)", (list(TEXT_TYPES),)).fetchall()
        for table, column, kind in columns:
            if kind == "bytea":
                test = sql.SQL("position(%s::bytea IN {0}) > 0").format(sql.Identifier(column))
                value: Any = needle.encode()
            else:
                test = sql.SQL("position(%s IN lower({0}::text)) > 0").format(sql.Identifier(column))
                value = needle.lower()
            query = sql.SQL("SELECT count(*) FROM {0} WHERE {1}").format(sql.Identifier(table), test)
            if connection.execute(query, (value,)).fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def leave(client: TestClient[Any], password: str = PASSWORD, **extra: str) -> Any:
    return post_form(client, "/settings/delete", {"password": password, **extra})


def a_member_who_talked(client: TestClient[Any], container: Container) -> dict[str, str]:
    """A member who founded a tribe, posted, commented (asking to be told of new comments) and was replied to."""
    handle = unique("leaver")
    email = f"{handle}@example.org"
    assert sign_up(client, handle, email=email, display_name="Lea Leaver").status_code == 303
    slug = found_tribe(client)
    post_id = publish(client, slug, title="Bonfire night", body="Bring wood.")
    comment_id = comment_id_of(reply(client, post_id, "I have an axe", notify="on"))
    sign_out(client)
    signed_up(client, display_name="Otto Other")
    reply(client, post_id, "Lovely", parent_id=comment_id)
    sign_out(client)
    post_form(client, "/login", {"login": handle, "password": PASSWORD})
    settle(container)
    return {"handle": handle, "email": email, "post_id": post_id, "comment_id": comment_id}


def test_the_settings_page_offers_to_leave(client: TestClient[Any]) -> None:
    signed_up(client)
    page = client.get("/settings").text
    assert page.index("<main") < page.index('action="/settings/delete"') < page.index("</main>")
    assert 'id="leave-password" name="password" type="password" value=""' in page
    assert 'name="retract_comments" >' in page or 'name="retract_comments">' in page


def test_a_wrong_password_deletes_nothing(client: TestClient[Any], container: Container) -> None:
    handle = signed_up(client)
    before = container.log_position()
    response = leave(client, "not my password", retract_comments="on")
    assert response.status_code == 422
    assert "That is not your current password. Nothing was deleted." in response.text
    assert 'name="retract_comments" checked' in response.text
    assert container.log_position() == before
    assert container.view(MemberDirectory).by_handle(handle) is not None
    assert client.get("/settings").status_code == 200


def test_leaving_erases_the_member_everywhere_and_after_a_rebuild(
        client: TestClient[Any], container: Container) -> None:
    member = a_member_who_talked(client, container)
    assert tables_holding(container.url, member["email"])  # the test can see the address where it is

    response = leave(client)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    settle(container)
    assert client.get("/settings", follow_redirects=False).status_code == 303  # signed out
    assert post_form(client, "/login", {"login": member["handle"], "password": PASSWORD}).status_code == 401
    assert client.get(f"/members/{member['handle']}").status_code == 404
    thread = client.get(f"/p/{member['post_id']}").text
    assert "I have an axe" in thread and "a former member" in thread
    assert "Lea Leaver" not in thread
    assert tables_holding(container.url, member["email"]) == []
    assert tables_holding(container.url, "Lea Leaver") == []

    with rebuilding(container) as other:
        head = other.log_position()
        other.start_projections(PROJECTIONS, rebuild=True)
        assert other.wait_for(head, PROJECTIONS, timeout=120)
        other.stop_projections()
        assert tables_holding(container.url, member["email"]) == []
        assert tables_holding(container.url, "Lea Leaver") == []
        rebuilt = other.view(ThreadTree).comment(member["comment_id"])
        assert rebuilt is not None and not rebuilt["retracted"]
    assert "a former member" in client.get(f"/p/{member['post_id']}").text


def test_a_former_members_handle_and_address_can_sign_up_again(
        client: TestClient[Any], container: Container) -> None:
    handle = unique("again")
    assert sign_up(client, handle, email=f"{handle}@example.org").status_code == 303
    assert leave(client).status_code == 303
    settle(container)

    again = sign_up(client, handle, email=f"{handle}@example.org", display_name="Someone New")

    assert again.status_code == 303, again.text
    settle(container)
    profile = client.get(f"/members/{handle}")
    assert profile.status_code == 200 and "Someone New" in profile.text


def test_leaving_can_retract_the_comments_too(client: TestClient[Any], container: Container) -> None:
    member = a_member_who_talked(client, container)

    assert leave(client, retract_comments="on").status_code == 303

    settle(container)
    thread = client.get(f"/p/{member['post_id']}").text
    assert "I have an axe" not in thread
    assert "Lovely" in thread  # the reply keeps its place under the tombstone


def test_a_leaving_members_seat_goes_to_the_next_person_waiting(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=2)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="2")  # the host's seat and one more
    first, second = tribe.members
    for member in (first, second):
        sign_in(client, member)
        assert post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"}).status_code == 303
    assert container.view(Meetups).state_of(meetup_id, second["id"])["state"] == WAITLISTED
    sign_in(client, first)

    assert leave(client).status_code == 303

    settle(container)
    assert container.view(Meetups).state_of(meetup_id, second["id"])["state"] == GOING
    assert container.view(Meetups).state_of(meetup_id, first["id"])["state"] == NOT_GOING
