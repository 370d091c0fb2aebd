"""A conference's sessions edited through HTTP as an organiser's browser without JavaScript does it:
the prefilled form, bad input kept and explained, the calendar download beside it, and the letters
that go to those attending when a session moves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.testing import TestClient

from cookout.platform.container import Container
from cookout.projections.meetups import Meetups
from tests.helpers import post_form
from tests.meetup_helpers import Tribe, local, meetup_fields, schedule, settle, sign_in


def session_fields(**changes: str) -> dict[str, str]:
    fields = {
        "title": "Keynote",
        "starts_at": local(timedelta(days=10, hours=1)),
        "ends_at": local(timedelta(days=10, hours=2)),
        "room": "Hall A",
        "speaker": "Amara Okafor",
    }
    fields.update(changes)
    return fields


def conference(client: TestClient[Any], container: Container, tribe: Tribe) -> tuple[UUID, dict[str, Any]]:
    """A meetup with one session on its agenda, added by the tribe's organiser; returns both."""
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    assert post_form(client, f"/m/{meetup_id}/sessions", session_fields()).status_code == 303
    settle(container)
    [session] = container.view(Meetups).sessions(meetup_id)
    return meetup_id, session


def session_updates(container: Container, session: dict[str, Any]) -> list[dict[str, Any]]:
    assert container.wait_for(container.log_position(), timeout=20)
    return container.outbox.rows(
        "SELECT * FROM outbox WHERE kind = 'meetup_update' AND payload->'entry'->>'uid' = %(uid)s "
        "ORDER BY created_at, key",
        {"uid": session["uid"]},
    )


def test_the_edit_form_is_prefilled_in_the_meetups_time_zone_and_saving_updates_the_agenda(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    meetup_id, session = conference(client, container, tribe)
    page = client.get(f"/m/{meetup_id}")
    assert f'href="/m/{meetup_id}/sessions/{session["id"]}/edit"' in page.text

    form = client.get(f"/m/{meetup_id}/sessions/{session['id']}/edit")
    assert form.status_code == 200
    for name, value in session_fields().items():
        kind = "datetime-local" if name.endswith("_at") else "text"
        assert f'name="{name}" type="{kind}" value="{value}"' in form.text

    changed = session_fields(title="Opening keynote", starts_at=local(timedelta(days=10, hours=2)),
                             ends_at=local(timedelta(days=10, hours=3)), room="Hall B", speaker="")
    saved = post_form(client, f"/m/{meetup_id}/sessions/{session['id']}/edit", changed)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/m/{meetup_id}#agenda"
    settle(container)
    [edited] = container.view(Meetups).sessions(meetup_id)
    assert (edited["title"], edited["room"], edited["speaker"], edited["sequence"]) == (
        "Opening keynote", "Hall B", "", 1)
    agenda = client.get(f"/m/{meetup_id}").text
    assert "Opening keynote" in agenda and "Hall B" in agenda and "Amara Okafor" not in agenda


def test_bad_session_input_is_refused_with_the_message_and_the_text_kept_and_nothing_recorded(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    meetup_id, session = conference(client, container, tribe)
    url = f"/m/{meetup_id}/sessions/{session['id']}/edit"
    before = container.log_position()
    cases = [
        ({"title": "   "}, "title", "title is missing."),
        ({"title": "Two\r\nlines"}, "title", "must be a single line"),
        ({"starts_at": "soon"}, "starts_at", "Give a date and time as YYYY-MM-DDTHH:MM."),
        ({"ends_at": local(timedelta(days=10, hours=1))}, "ends_at", "The end must come after the start."),
        ({"starts_at": local(timedelta(days=30)), "ends_at": local(timedelta(days=30, hours=1))}, "starts_at",
         "A session must happen during the meetup."),
        ({"room": "r" * 201}, "room", "longer than 200 characters."),
    ]
    for changes, field, message in cases:
        response = post_form(client, url, session_fields(**changes))
        assert response.status_code == 422, changes
        assert message in response.text, changes
        assert f'id="{field}-error"' in response.text, changes
        for value in changes.values():
            if "\r" not in value:
                assert f'value="{value}"' in response.text, changes
    assert container.log_position() == before
    settle(container)
    assert container.view(Meetups).sessions(meetup_id)[0]["title"] == "Keynote"


def test_a_member_who_is_not_an_organiser_gets_403_and_unknown_sessions_404(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    meetup_id, session = conference(client, container, tribe)
    other_id = schedule(client, container, tribe.slug, title="Another picnic")
    url = f"/m/{meetup_id}/sessions/{session['id']}/edit"
    assert client.get(f"/m/{other_id}/sessions/{session['id']}/edit").status_code == 404
    assert client.get(f"/m/{meetup_id}/sessions/{meetup_id}/edit").status_code == 404

    sign_in(client, tribe.members[0])
    before = container.log_position()
    assert client.get(url).status_code == 403
    assert post_form(client, url, session_fields(title="Mine now")).status_code == 403
    assert f"/sessions/{session['id']}/edit" not in client.get(f"/m/{meetup_id}").text
    assert container.log_position() == before
    post_form(client, "/logout", {})  # signing out records that the member's sessions ended
    before = container.log_position()
    assert post_form(client, url, session_fields(title="Mine now")).status_code in (401, 403)
    assert container.log_position() == before


def test_the_edit_form_and_the_calendar_download_live_side_by_side(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=0)
    meetup_id, session = conference(client, container, tribe)
    form = client.get(f"/m/{meetup_id}/sessions/{session['id']}/edit")
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    download = client.get(f"/m/{meetup_id}/sessions/{session['id']}.ics")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/calendar")
    assert f"UID:{session['uid']}" in download.text
    # The URL a session's calendar entry carries opens a page: its meetup's, with the agenda.
    opened = client.get(f"/m/{meetup_id}/sessions/{session['id']}")
    assert opened.status_code == 200 and session["title"] in opened.text
    assert download.headers["content-type"].count("charset") == 1
    assert client.get(f"/m/{meetup_id}/sessions/{uuid4()}").status_code == 404
    assert client.get(f"/m/{meetup_id}/sessions/new").status_code == 200


def test_attendees_of_a_session_get_an_update_when_its_title_room_or_time_changes(
    client: TestClient[Any], container: Runtime
) -> None:
    tribe = Tribe(container, members=2)
    attendee, bystander = tribe.members
    meetup_id, session = conference(client, container, tribe)
    for member in tribe.members:
        sign_in(client, member)
        assert post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"}).status_code == 303
    assert post_form(client, f"/m/{meetup_id}/sessions/{session['id']}/choose", {}).status_code == 303
    assert post_form(client, f"/m/{meetup_id}/sessions/{session['id']}/drop", {}).status_code == 303
    sign_in(client, attendee)
    assert post_form(client, f"/m/{meetup_id}/sessions/{session['id']}/choose", {}).status_code == 303
    sign_in(client, tribe.organiser)
    url = f"/m/{meetup_id}/sessions/{session['id']}/edit"

    assert post_form(client, url, session_fields(title="Keynote, renamed")).status_code == 303
    [retitled] = session_updates(container, session)
    assert retitled["recipient"] == attendee["email"] and retitled["payload"]["entry"]["sequence"] == 0
    assert retitled["payload"]["entry"]["session"]["title"] == "Keynote, renamed"

    assert post_form(client, url, session_fields(title="Keynote, renamed", room="Hall B")).status_code == 303
    later = session_fields(title="Keynote, renamed", room="Hall B", starts_at=local(timedelta(days=10, hours=2)),
                           ends_at=local(timedelta(days=10, hours=3)))
    assert post_form(client, url, later).status_code == 303
    letters = session_updates(container, session)
    assert [l["recipient"] for l in letters] == [attendee["email"]] * 3
    assert [l["payload"]["entry"]["sequence"] for l in letters] == [0, 1, 2]
    assert letters[-1]["payload"]["entry"]["session"] == {"title": "Keynote, renamed", "room": "Hall B",
                                                          "speaker": "Amara Okafor"}


def test_a_sessions_url_opens_its_page_in_the_venues_zone_with_who_chose_it_for_members(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    meetup_id, session = conference(client, container, tribe)
    member = tribe.members[0]
    sign_in(client, member)
    assert post_form(client, f"/m/{meetup_id}/rsvp", {"answer": "going"}).status_code == 303
    assert post_form(client, f"/m/{meetup_id}/sessions/{session['id']}/choose", {}).status_code == 303
    settle(container)
    url = f"/m/{meetup_id}/sessions/{session['id']}"

    page = client.get(url)

    assert page.status_code == 200
    assert "<h1>Keynote</h1>" in page.text
    start = local(timedelta(days=10, hours=1))  # the venue's local time the form was given
    assert f"{start[11:16]} – {local(timedelta(days=10, hours=2))[11:16]} (Europe/Berlin)" in page.text
    assert "Amara Okafor" in page.text and "Hall A" in page.text
    assert f'href="/m/{meetup_id}"' in page.text and f'href="{url}.ics"' in page.text
    assert "✓ Attending" in page.text
    assert member["display_name"] in page.text
    # Someone outside the (public) tribe reads the session, not who chose it.
    post_form(client, "/logout", {})
    outside = client.get(url)
    assert outside.status_code == 200 and "Keynote" in outside.text
    assert member["display_name"] not in outside.text
    assert client.get(f"/m/{meetup_id}/sessions/{uuid4()}").status_code == 404


def test_moving_a_conference_moves_its_agenda_and_a_move_that_would_strand_a_session_is_refused(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0)
    meetup_id, session = conference(client, container, tribe)  # 10 days out, its session an hour in
    moved = meetup_fields(starts_at=local(timedelta(days=11)), ends_at=local(timedelta(days=11, hours=3)))

    assert post_form(client, f"/m/{meetup_id}/edit", moved).status_code == 303
    settle(container)

    [after] = container.view(Meetups).sessions(meetup_id)
    assert after["starts_at"] - session["starts_at"] == timedelta(days=1)
    assert after["ends_at"] - session["ends_at"] == timedelta(days=1)
    before = container.log_position()
    too_short = {**moved, "ends_at": local(timedelta(days=11, minutes=30))}
    refused = post_form(client, f"/m/{meetup_id}/edit", too_short)
    assert refused.status_code == 422
    assert "Keynote" in refused.text and "edit or remove that session first" in refused.text
    assert container.log_position() == before
