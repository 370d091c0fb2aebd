"""Meetups through HTTP as a browser without JavaScript uses them: scheduling, answering, inviting,
editing, cancelling, calendars, "can't make it" links, check-in, and the bad input people type."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import vobject
from litestar.testing import TestClient

from cookout.domain.base import acting_as, current_actor
from cookout.domain.meetings import Meetings
from cookout.domain.meetups import GOING, INVITED, WAITLISTED
from cookout.platform.container import Container
from cookout.projections.meetups import Meetups
from cookout.platform.letters import compose
from tests.helpers import post_form
from tests.meetup_helpers import Tribe, acting, join, local, meetup_fields, schedule, settle, sign_in

TRICKY_TITLE = "Grill, chill; back\\slash 🎉🌭 " + "x" * 150
TRICKY_TEXT = "Line one\r\nline two\nComma, semicolon; backslash \\ emoji 🎉🌭 " + "y" * 1900


def answer(client: TestClient[Any], meetup_id: UUID, what: str, **headers: str) -> Any:
    return post_form(client, f"/m/{meetup_id}/rsvp", {"answer": what}, headers=headers)


def cant_make_it_path(container: Container, tribe: Tribe, meetup_id: UUID, member: dict[str, Any]) -> str:
    """The "can't make it" link in the newest letter the member got about the meetup, as a path."""
    letters = [l for l in tribe.letters(meetup_id)
               if l["recipient"] == member["email"] and l["kind"] in ("meetup_invitation", "meetup_promotion")]
    message = compose(letters[-1], container.settings)
    [link] = re.findall(r"https?://\S+?(/rsvp/\S+)", message.get_body(("plain",)).get_content())
    return link


def readable_parts(token: str) -> list[bytes]:
    """What anyone can read out of a token: its base64 parts, inflated when they are compressed."""
    parts = [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".") if part]
    inflated = []
    for raw in parts:
        try:
            inflated.append(zlib.decompress(raw))
        except zlib.error:
            pass
    return parts + inflated


def hosting(tribe: Tribe) -> dict[str, str]:
    """The organiser who scheduled a meetup is going to it."""
    return {tribe.organiser["handle"]: GOING}


def states(container: Container, meetup_id: UUID) -> dict[str, str]:
    settle(container)
    return {row["handle"]: row["state"] for row in container.view(Meetups).attendance(meetup_id)}


def parse_calendar(text: str) -> Any:
    raw = text.encode()
    assert b"\r\r\n" not in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "bare LF"
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    return vobject.readOne(text, validate=True)


def test_an_organiser_schedules_a_meetup_and_it_is_listed_as_upcoming(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=0)
    sign_in(client, tribe.organiser)
    form = client.get(f"/t/{tribe.slug}/meetups/new")
    assert form.status_code == 200
    for field in ("title", "description", "starts_at", "ends_at", "timezone", "venue", "address",
                  "online_url", "capacity", "rsvp_deadline"):
        assert f'name="{field}"' in form.text
    response = post_form(client, f"/t/{tribe.slug}/meetups", meetup_fields(title="Summer picnic"))
    assert response.status_code == 303
    assert re.fullmatch(r"/m/[0-9a-f-]{36}", response.headers["location"])
    page = client.get(response.headers["location"])
    assert "Summer picnic" in page.text
    assert "<strong>food</strong>" in page.text
    assert "Volkspark" in page.text
    listing = client.get(f"/t/{tribe.slug}/meetups")
    assert "Summer picnic" in listing.text.split("Past")[0]


def test_a_member_who_is_not_an_organiser_gets_403_scheduling_editing_and_checking_in(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, starts_at=local(timedelta(minutes=30)),
                         ends_at=local(timedelta(hours=2)))
    sign_in(client, tribe.members[0])
    before = container.log_position()
    assert client.get(f"/t/{tribe.slug}/meetups/new").status_code == 403
    assert post_form(client, f"/t/{tribe.slug}/meetups", meetup_fields()).status_code == 403
    assert post_form(client, f"/m/{meetup_id}/edit", meetup_fields(title="Mine now")).status_code == 403
    assert post_form(client, f"/m/{meetup_id}/check-in",
                     {"member_id": str(tribe.members[0]["id"])}).status_code == 403
    assert post_form(client, f"/m/{meetup_id}/cancel", {"message": "no"}).status_code == 403
    assert container.log_position() == before


def test_bad_times_are_refused_with_a_clear_message_and_the_input_kept(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=0)
    sign_in(client, tribe.organiser)
    before = container.log_position()
    cases = [
        ({"starts_at": "2031-07-01T18:00", "ends_at": "2031-07-01T17:00"}, "The end must come after the start."),
        ({"timezone": "Mars/Olympus_Mons"}, "not a time zone we know"),
        ({"starts_at": "2031-03-30T02:30", "ends_at": "2031-03-30T05:00"}, "does not exist in Europe/Berlin"),
        ({"starts_at": "2031-10-26T02:30", "ends_at": "2031-10-26T05:00"}, "happens twice in Europe/Berlin"),
        ({"capacity": "0"}, "at least 1"),
        ({"capacity": "-3"}, "at least 1"),
        ({"capacity": "ten"}, "at least 1"),
    ]
    for changes, message in cases:
        response = post_form(client, f"/t/{tribe.slug}/meetups", meetup_fields(**changes))
        assert response.status_code == 422, changes
        assert message in response.text, changes
        for value in changes.values():
            assert f'value="{value}"' in response.text
    assert container.log_position() == before


def test_capacity_fills_then_the_waitlist_shows_positions_and_a_withdrawal_promotes_the_first(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=3)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="2")  # the host's seat and one more
    first, second, third = tribe.members
    for member in tribe.members:
        sign_in(client, member)
        assert answer(client, meetup_id, "going").status_code == 303
    page = client.get(f"/m/{meetup_id}")
    assert "You're on the waitlist" in page.text and "number 2" in page.text
    assert states(container, meetup_id) == {**hosting(tribe), first["handle"]: GOING, second["handle"]: WAITLISTED,
                                          third["handle"]: WAITLISTED}

    sign_in(client, first)
    assert answer(client, meetup_id, "not_going").status_code == 303
    assert states(container, meetup_id)[second["handle"]] == GOING
    sign_in(client, third)
    assert "number 1" in client.get(f"/m/{meetup_id}").text
    promoted = [l for l in tribe.letters(meetup_id) if l["kind"] == "meetup_promotion"]
    assert [l["recipient"] for l in promoted] == [second["email"]]


def test_outsiders_see_how_many_are_going_and_members_see_who(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, tribe.members[0])
    answer(client, meetup_id, "going")
    assert "Member 0" in client.get(f"/m/{meetup_id}").text
    post_form(client, "/logout", {})
    outside = client.get(f"/m/{meetup_id}")
    assert outside.status_code == 200
    assert "<strong>2</strong> going" in outside.text  # the host and Member 0
    assert "Member 0" not in outside.text
    assert "Sign in</a> to answer" in outside.text


def test_a_members_only_tribes_meetups_and_calendar_are_hidden_from_outsiders(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=0, visibility="members")
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    assert client.get(f"/m/{meetup_id}").status_code == 200
    post_form(client, "/logout", {})
    assert client.get(f"/m/{meetup_id}").status_code == 404
    assert client.get(f"/m/{meetup_id}.ics").status_code == 404
    assert client.get(f"/t/{tribe.slug}/meetups").status_code == 404
    assert client.get(f"/t/{tribe.slug}/calendar.ics").status_code == 404


def test_answering_a_cancelled_meetup_or_after_the_deadline_is_refused_and_nothing_is_recorded(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    closed = schedule(client, container, tribe.slug, rsvp_deadline=local(timedelta(minutes=-5)))
    cancelled = schedule(client, container, tribe.slug)
    assert post_form(client, f"/m/{cancelled}/cancel", {"message": "Rain, sorry."}).status_code == 303
    sign_in(client, tribe.members[0])
    before = container.log_position()
    refused = answer(client, cancelled, "going")
    assert refused.status_code == 409
    assert "This meetup was cancelled." in refused.text
    assert "Rain, sorry." in client.get(f"/m/{cancelled}").text

    late = answer(client, closed, "going")
    assert late.status_code == 409
    assert "Answers closed at the RSVP deadline." in late.text
    assert container.log_position() == before
    assert states(container, cancelled) == hosting(tribe) and states(container, closed) == hosting(tribe)


def test_retitling_a_meetup_sends_holders_an_update_at_the_same_sequence(
    client: TestClient[Any], container: Runtime
) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, tribe.members[0])
    answer(client, meetup_id, "going")
    sign_in(client, tribe.organiser)
    renamed = meetup_fields(title="Picnic by the lake", description="Bring a blanket.")
    assert post_form(client, f"/m/{meetup_id}/edit", renamed).status_code == 303
    settle(container)

    [update] = [l for l in tribe.letters(meetup_id)
                if l["kind"] == "meetup_update" and l["recipient"] == tribe.members[0]["email"]]
    entry = update["payload"]["entry"]
    assert (update["recipient"], entry["title"], entry["description"], entry["sequence"]) == (
        tribe.members[0]["email"], "Picnic by the lake", "Bring a blanket.", 0)


def test_editing_time_and_place_in_one_form_sends_holders_one_update_with_the_whole_new_state(
    client: TestClient[Any], container: Runtime
) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, tribe.members[0])
    answer(client, meetup_id, "going")
    sign_in(client, tribe.organiser)
    form = client.get(f"/m/{meetup_id}/edit")
    assert 'value="Volkspark"' in form.text
    changed = meetup_fields(title="Picnic, moved", starts_at=local(timedelta(days=11)),
                            ends_at=local(timedelta(days=11, hours=2)), venue="Tempelhofer Feld",
                            address="Tempelhof, Berlin", capacity="20")
    assert post_form(client, f"/m/{meetup_id}/edit", changed).status_code == 303
    settle(container)
    meetup = container.view(Meetups).meetup(meetup_id)
    assert (meetup["title"], meetup["venue"], meetup["capacity"], meetup["sequence"]) == (
        "Picnic, moved", "Tempelhofer Feld", 20, 2)
    updates = [l for l in tribe.letters(meetup_id) if l["kind"] == "meetup_update"]
    assert sorted(l["recipient"] for l in updates) == sorted([tribe.organiser["email"], tribe.members[0]["email"]])
    [update] = [l for l in updates if l["recipient"] == tribe.members[0]["email"]]
    assert update["recipient"] == tribe.members[0]["email"]
    entry = update["payload"]["entry"]
    assert (entry["sequence"], entry["title"], entry["venue"]) == (2, "Picnic, moved", "Tempelhofer Feld")
    assert entry["starts_at"] != update["payload"]["before"]["starts_at"]
    assert update["payload"]["before"]["venue"] == "Volkspark"
    bad = post_form(client, f"/m/{meetup_id}/edit", {**changed, "ends_at": changed["starts_at"]})
    assert bad.status_code == 422
    assert "The end must come after the start." in bad.text


def test_inviting_everyone_skips_those_who_answered_and_unknown_handles_are_refused(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=3)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, tribe.members[0])
    answer(client, meetup_id, "going")
    sign_in(client, tribe.organiser)
    named = post_form(client, f"/m/{meetup_id}/invite", {"members": f"@{tribe.members[1]['handle']}"})
    assert named.status_code == 303
    everyone = post_form(client, f"/m/{meetup_id}/invite", {"everyone": "on"})
    assert everyone.status_code == 303
    assert "Invited 1 member." in client.get(f"/m/{meetup_id}").text
    found = states(container, meetup_id)
    assert found == {**hosting(tribe), tribe.members[0]["handle"]: GOING, tribe.members[1]["handle"]: INVITED,
                     tribe.members[2]["handle"]: INVITED}
    invitations = [l for l in tribe.letters(meetup_id) if l["kind"] == "meetup_invitation"]
    assert sorted(l["recipient"] for l in invitations) == sorted(
        [tribe.organiser["email"], *(m["email"] for m in tribe.members)])  # the host's own entry too
    strangers = post_form(client, f"/m/{meetup_id}/invite", {"members": "nobody_here_at_all"})
    assert strangers.status_code == 422
    assert "Not members of this tribe: @nobody_here_at_all" in strangers.text


def test_cancelling_sends_a_cancellation_to_everyone_holding_the_meetup(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=2)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    post_form(client, f"/m/{meetup_id}/invite", {"everyone": "on"})
    sign_in(client, tribe.members[1])
    answer(client, meetup_id, "not_going")
    sign_in(client, tribe.organiser)
    assert client.get(f"/m/{meetup_id}/cancel").status_code == 200
    assert post_form(client, f"/m/{meetup_id}/cancel", {"message": "Storm warning."}).status_code == 303
    cancellations = [l for l in tribe.letters(meetup_id) if l["kind"] == "meetup_cancellation"]
    assert sorted(l["recipient"] for l in cancellations) == sorted([tribe.organiser["email"], tribe.members[0]["email"]])
    assert cancellations[0]["payload"]["message"] == "Storm warning."
    feed = parse_calendar(client.get(f"/t/{tribe.slug}/calendar.ics").text)
    assert [e.status.value for e in feed.vevent_list if e.uid.value == cancellations[0]["payload"]["entry"]["uid"]] == ["CANCELLED"]


def test_tricky_text_keeps_the_calendar_valid_and_headers_clean(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    newline_title = post_form(client, f"/t/{tribe.slug}/meetups", meetup_fields(title="Two\r\nBcc: x@evil.example"))
    assert newline_title.status_code == 422
    assert "single line" in newline_title.text
    meetup_id = schedule(client, container, tribe.slug, title=TRICKY_TITLE, description=TRICKY_TEXT,
                         venue="Café, \"Zur Linde\"; 🎉", address="Hauptstr. 1\r\n10115 Berlin \\ Hof")
    download = client.get(f"/m/{meetup_id}.ics")
    assert download.headers["content-type"].startswith("text/calendar")
    event = parse_calendar(download.text).vevent
    assert event.summary.value == TRICKY_TITLE
    assert event.description.value == TRICKY_TEXT.replace("\r\n", "\n")
    assert "Hauptstr. 1" in event.location.value and "🎉" in event.location.value

    sign_in(client, tribe.members[0])
    answer(client, meetup_id, "going")
    [letter] = [l for l in tribe.letters(meetup_id) if l["recipient"] == tribe.members[0]["email"]]
    message = compose(letter, container.settings)
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert "Bcc" not in message.as_string().split("\n\n")[0]


def test_calendar_downloads_for_a_meetup_and_its_sessions(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    sign_in(client, tribe.organiser)
    starts = local(timedelta(days=20))
    meetup_id = schedule(client, container, tribe.slug, starts_at=starts, ends_at=local(timedelta(days=22)))
    day_two = local(timedelta(days=21))
    added = post_form(client, f"/m/{meetup_id}/sessions", {
        "title": "Keynote", "starts_at": day_two, "ends_at": local(timedelta(days=21, hours=1)),
        "room": "Hall A", "speaker": "Amara Okafor"})
    assert added.status_code == 303
    outside = post_form(client, f"/m/{meetup_id}/sessions", {
        "title": "Too late", "starts_at": local(timedelta(days=30)), "ends_at": local(timedelta(days=30, hours=1)),
        "room": "", "speaker": ""})
    assert outside.status_code == 422
    assert "during the meetup" in outside.text
    settle(container)
    [session] = container.view(Meetups).sessions(meetup_id)
    page = client.get(f"/m/{meetup_id}")
    assert "Agenda" in page.text and "Keynote" in page.text and "Hall A" in page.text
    calendar = parse_calendar(client.get(f"/m/{meetup_id}/sessions/{session['id']}.ics").text)
    assert calendar.vevent.uid.value == session["uid"]
    assert calendar.vevent.summary.value.startswith("Keynote")
    assert client.get(f"/m/{meetup_id}/sessions/{meetup_id}.ics").status_code == 404


def test_a_members_private_feed_holds_what_they_go_to_and_a_revoked_token_is_404(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    member = tribe.members[0]
    sign_in(client, tribe.organiser)
    going_to = schedule(client, container, tribe.slug, title="Going to this")
    schedule(client, container, tribe.slug, title="Not this one")
    post_form(client, f"/m/{going_to}/sessions", {
        "title": "Lightning talks", "starts_at": local(timedelta(days=10, hours=1)),
        "ends_at": local(timedelta(days=10, hours=2)), "room": "", "speaker": ""})
    settle(container)
    [session] = container.view(Meetups).sessions(going_to)
    sign_in(client, member)
    answer(client, going_to, "going")
    assert post_form(client, f"/m/{going_to}/sessions/{session['id']}/choose", {}).status_code == 303
    with acting_as(member["id"]):
        token = container.accounts.issue_calendar_feed()
    settle(container)
    post_form(client, "/logout", {})
    response = client.get(f"/feeds/{token}.ics")
    feed = parse_calendar(response.text)
    titles = sorted(e.summary.value for e in feed.vevent_list)
    assert titles == ["Going to this", "Lightning talks (Going to this)"]
    # Subscribed clients poll hourly; no shared cache keeps a member's own feed.
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["content-type"].lower().count("charset") == 1
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in response.text
    assert feed.contents["name"][0].value == feed.x_wr_calname.value == f"Cookout: {member['display_name']}"
    with acting_as(member["id"]):
        container.accounts.revoke_calendar_feed()
    settle(container)
    assert client.get(f"/feeds/{token}.ics").status_code == 404
    assert client.get("/feeds/not-a-token.ics").status_code == 404


def test_a_members_private_feed_shows_maybe_as_tentative_includes_invitations_and_sets_no_cookie(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    member = tribe.members[0]
    sign_in(client, tribe.organiser)
    maybe = schedule(client, container, tribe.slug, title="Maybe this")
    invited = schedule(client, container, tribe.slug, title="Invited to this")
    with acting_as(tribe.organiser["id"]):
        container.meetings.invite(invited, [member["id"]])
    sign_in(client, member)
    answer(client, maybe, "maybe")
    with acting_as(member["id"]):
        token = container.accounts.issue_calendar_feed()
    settle(container)
    client.cookies.clear()

    response = client.get(f"/feeds/{token}.ics")

    feed = parse_calendar(response.text)
    status = {e.summary.value: e.status.value for e in feed.vevent_list}
    assert status == {"Maybe this": "TENTATIVE", "Invited to this": "CONFIRMED"}
    # Polled by calendar apps, which post no forms: no CSRF (or any other) cookie to keep.
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"].startswith("private")
    # The ORGANIZER is the one the member's invitation names, as the organiser, sent by Cookout's mailbox.
    [letter] = [row for row in tribe.letters(invited) if row["recipient"] == member["email"]]
    invitation = vobject.readOne(next(
        p for p in compose(letter, container.settings).walk() if p.get_content_type() == "text/calendar"
    ).get_payload(decode=True).decode())
    [same] = [e for e in feed.vevent_list if e.uid.value == invitation.vevent.uid.value]
    assert same.organizer.value == invitation.vevent.organizer.value
    assert same.sequence.value == invitation.vevent.sequence.value
    assert same.organizer.params["CN"] == invitation.vevent.organizer.params["CN"] == [tribe.organiser["display_name"]]
    assert same.organizer.params["SENT-BY"] == invitation.vevent.organizer.params["SENT-BY"]


def test_the_cant_make_it_link_frees_the_seat_without_signing_in(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=2)
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, capacity="2")  # the host's seat and one more
    first, second = tribe.members
    for member in (first, second):
        sign_in(client, member)
        answer(client, meetup_id, "going")
    post_form(client, "/logout", {})
    link = cant_make_it_path(container, tribe, meetup_id, first)
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "I can't make it" in confirm.text
    assert post_form(client, link, {}).status_code == 303
    assert states(container, meetup_id) == {**hosting(tribe), first["handle"]: "not_going", second["handle"]: GOING}
    assert "You're down as not going" in client.get(link).text
    assert client.get(f"{link[:-2]}xx").status_code == 404


def test_check_in_by_organiser_and_by_code_makes_met_in_real_life_connections(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    first, second = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, title="Grill night", starts_at=local(timedelta(minutes=30)),
                         ends_at=local(timedelta(hours=3)))
    for member in (first, second):
        sign_in(client, member)
        answer(client, meetup_id, "going")
    sign_in(client, tribe.organiser)
    code = container.view(Meetups).meetup(meetup_id)["check_in_code"]
    assert code in client.get(f"/m/{meetup_id}").text
    assert post_form(client, f"/m/{meetup_id}/check-in", {"member_id": str(first["id"])}).status_code == 303
    sign_in(client, second)
    wrong = post_form(client, f"/m/{meetup_id}/check-in/code", {"code": "WRONG1"})
    assert wrong.status_code == 422
    assert post_form(client, f"/m/{meetup_id}/check-in/code", {"code": code.lower()}).status_code == 303
    settle(container)
    profile = client.get(f"/members/{first['handle']}")
    assert "Met in real life" in profile.text
    assert second["display_name"] in profile.text.split("Met in real life")[1]
    assert "Grill night" in profile.text


def test_an_organiser_cannot_check_in_an_outsider_or_a_member_who_never_answered_and_no_profile_shows_it(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=2)
    coming, silent = tribe.members
    outsider = join(container, "Passer By")
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, title="Grill night", starts_at=local(timedelta(minutes=30)),
                         ends_at=local(timedelta(hours=3)))
    sign_in(client, coming)
    answer(client, meetup_id, "going")
    sign_in(client, tribe.organiser)
    assert post_form(client, f"/m/{meetup_id}/check-in", {"member_id": str(coming["id"])}).status_code == 303
    before = container.log_position()

    refused_outsider = post_form(client, f"/m/{meetup_id}/check-in", {"member_id": str(outsider["id"])})
    refused_silent = post_form(client, f"/m/{meetup_id}/check-in", {"member_id": str(silent["id"])},
                               headers={"HX-Request": "true"})

    assert refused_outsider.status_code == 409
    assert "Only members of this tribe can be checked in." in refused_outsider.text
    assert "answered going or maybe, or are on the waitlist" in refused_silent.text
    assert container.log_position() == before
    settle(container)
    for person in (outsider, silent):
        profile = client.get(f"/members/{person['handle']}").text
        assert "Grill night" not in profile
        assert "Nobody yet." in profile


def test_guessing_the_check_in_code_is_stopped_after_a_few_tries(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    [guesser] = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug, starts_at=local(timedelta(minutes=30)),
                         ends_at=local(timedelta(hours=3)))
    code = container.view(Meetups).meetup(meetup_id)["check_in_code"]
    sign_in(client, guesser)
    answer(client, meetup_id, "going")
    guesses = [post_form(client, f"/m/{meetup_id}/check-in/code", {"code": f"WRONG{n}"}) for n in range(5)]
    assert [g.status_code for g in guesses] == [422] * 5

    stopped = post_form(client, f"/m/{meetup_id}/check-in/code", {"code": code})
    stopped_htmx = post_form(client, f"/m/{meetup_id}/check-in/code", {"code": code}, headers={"HX-Request": "true"})

    assert stopped.status_code == 429
    assert "Too many tries at the check-in code" in stopped.text
    assert "Too many tries at the check-in code" in stopped_htmx.text
    settle(container)
    assert not any(a["checked_in"] for a in container.view(Meetups).attendance(meetup_id))


def test_a_cant_make_it_link_hides_the_ids_works_once_and_a_tampered_one_is_a_clear_404(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    [member] = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, member)
    answer(client, meetup_id, "going")
    post_form(client, "/logout", {})
    link = cant_make_it_path(container, tribe, meetup_id, member)
    decoded = readable_parts(link.removeprefix("/rsvp/"))
    for secret in (UUID(str(meetup_id)), UUID(str(member["id"]))):
        assert str(secret) not in link and secret.hex not in link
        assert not any(str(secret).encode() in raw or secret.bytes in raw for raw in decoded)

    assert post_form(client, link, {}).status_code == 303
    assert states(container, meetup_id) == {**hosting(tribe), member["handle"]: "not_going"}
    sign_in(client, member)
    answer(client, meetup_id, "maybe")
    post_form(client, "/logout", {})
    before = container.log_position()
    again = post_form(client, link, {})
    middle = len(link) // 2
    tampered = link[:middle] + ("A" if link[middle] != "A" else "B") + link[middle + 1:]
    forged = post_form(client, tampered, {})

    assert again.status_code == 409
    assert "This link was already used or is out of date; open the meetup to change your answer." in again.text
    assert forged.status_code == 404
    assert "That link is not one we sent, or it was mistyped." in forged.text
    assert container.log_position() == before
    assert states(container, meetup_id) == {**hosting(tribe), member["handle"]: "maybe"}


def test_a_cant_make_it_link_from_before_the_member_answered_going_again_does_not_withdraw_them(
    client: TestClient[Any], container: Container
) -> None:
    tribe = Tribe(container, members=1)
    [member] = tribe.members
    sign_in(client, tribe.organiser)
    meetup_id = schedule(client, container, tribe.slug)
    sign_in(client, member)
    answer(client, meetup_id, "going")
    old_link = cant_make_it_path(container, tribe, meetup_id, member)
    answer(client, meetup_id, "not_going")
    answer(client, meetup_id, "going")
    new_link = cant_make_it_path(container, tribe, meetup_id, member)
    post_form(client, "/logout", {})
    before = container.log_position()

    stale = post_form(client, old_link, {})

    assert stale.status_code == 409
    assert "out of date" in stale.text and f'href="/m/{meetup_id}"' in stale.text
    assert container.log_position() == before
    assert states(container, meetup_id) == {**hosting(tribe), member["handle"]: GOING}
    assert post_form(client, new_link, {}).status_code == 303
    assert states(container, meetup_id) == {**hosting(tribe), member["handle"]: "not_going"}


def test_a_cant_make_it_link_is_refused_once_the_meetup_is_over(client: TestClient[Any], container: Container) -> None:
    tribe = Tribe(container, members=1)
    [member] = tribe.members
    last_week = datetime.now(UTC) - timedelta(days=7)
    meetings = container.service(Meetings)
    token = acting(tribe.organiser["id"])
    try:
        meetup_id = meetings.schedule(tribe.id, title="Last week's picnic", description="",
                                      starts_at=local(timedelta(days=-6)), ends_at=local(timedelta(days=-6, hours=3)),
                                      timezone="Europe/Berlin", venue="Volkspark", address="Berlin", now=last_week)
    finally:
        current_actor.reset(token)
    token = acting(member["id"])
    try:
        meetings.answer(meetup_id, "going", now=last_week)
    finally:
        current_actor.reset(token)
    link = cant_make_it_path(container, tribe, meetup_id, member)
    before = container.log_position()

    shown, used = client.get(link), post_form(client, link, {})

    for response in (shown, used):
        assert response.status_code == 410
        assert "This meetup is over, so this link no longer changes anything." in response.text
        assert "I can't make it" not in response.text
    assert container.log_position() == before
    assert states(container, meetup_id) == {**hosting(tribe), member["handle"]: GOING}
