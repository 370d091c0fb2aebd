"""Every POST route of the app, fed hostile input as a guest, a member and an organiser.

The routes come from the app's own route table, and each route's fields from the forms the pages
render, so a new route or field is fuzzed without touching this file. Each field gets each payload
in turn (the others keep valid values, so the payload reaches the command), plain and through htmx.
Cookout must answer every request without a 5xx, record nothing for what it refused, and its views
must still be at the log's head at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.domain.community import Tribes
from cookout.domain.errors import NotFound
from cookout.domain.meetings import Meetings
from cookout.platform.web.app import create_app
from cookout.platform.links import cant_make_it_token
from cookout.platform.container import Container
from cookout.platform.links import confirm_url, unsubscribe_token
from cookout.projections.registry import PROJECTIONS
from tests.conversation_helpers import comment, new_post, settle
from tests.helpers import PASSWORD, csrf_token, unique
from tests.meetup_helpers import ZONE, local

PAYLOADS = ["hello\x00world", "line\u2028break", "x" * 10_000, "2147483648", "99999999999999999999", "-1"]
ROLES = ("guest", "member", "organiser")
# Routes whose success changes what later routes act on (a retracted post, a member who left):
# fuzzed last, so the others still meet the world as it was built.
# The password change goes very last but one (a payload can become the new password), and deleting the
# account last of all.
DESTRUCTIVE = ("retract", "leave", "cancel", "remove", "/rsvp/", "unsubscribe", "spam", "logout", "password",
               "delete")
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
STARTS, ENDS = timedelta(days=10), timedelta(days=10, hours=3)


class Forms(HTMLParser):
    """The POST targets a page offers (`action` and `hx-post`), each with its fields' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and (attributes.get("method", "").lower() == "post" or "hx-post" in attributes):
            self.current = {}
            for target in {attributes.get("action", ""), attributes.get("hx-post", "")} - {""}:
                self.found.setdefault(target.split("#")[0], {})
                self.current = self.found[target.split("#")[0]]
        elif tag in ("input", "textarea", "select") and self.current is not None and attributes.get("name"):
            name = attributes["name"]
            if name != "_csrf_token":
                self.current.setdefault(name, attributes.get("value", "on" if attributes.get("type") == "checkbox" else ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


class World:
    """A demo-like tribe built through the commands: an organiser, a member who answered going, a post
    with a comment, a meetup with a session, and a signed-in client per role."""

    def __init__(self, app: Litestar, container: Container):
        self.app, self.container = app, container
        # "signer" is only ever named on the sign-in form, whose failures may lock it out for a while.
        self.handles = {"member": unique("fm"), "organiser": unique("fo"), "signer": unique("fs")}
        self.ids = {role: container.accounts.sign_up(handle, f"Fuzz {role}", f"{handle}@example.org", PASSWORD)
                    for role, handle in self.handles.items()}
        tribes, meetings = container.service(Tribes), container.service(Meetings)
        self.slug = unique("fuzz-")
        with acting_as(self.ids["organiser"]):
            self.tribe_id = tribes.found_tribe("Fuzz Club", self.slug, "We try things.", "fuzzers")
        with acting_as(self.ids["member"]):
            tribes.join_tribe(self.tribe_id)
        self.post_id = new_post(container, self.ids["member"], self.tribe_id)
        self.comment_id = comment(container, self.ids["member"], self.post_id)
        with acting_as(self.ids["organiser"]):
            self.meetup_id = meetings.schedule(
                self.tribe_id, title="Fuzz picnic", description="Bring a blanket.",
                starts_at=local(STARTS), ends_at=local(ENDS), timezone=ZONE, venue="Volkspark", address="Berlin",
            )
            self.session_id = meetings.add_session(
                self.meetup_id, title="Opening", starts_at=local(STARTS),
                ends_at=local(STARTS + timedelta(minutes=30)),
            )
        with acting_as(self.ids["member"]):
            meetings.answer(self.meetup_id, "going")
        settle(container)
        settings = container.settings
        self.values: dict[str, Callable[[str], str]] = {
            "slug": lambda _: self.slug,
            "post_id": lambda _: str(self.post_id),
            "comment_id": lambda _: str(self.comment_id),
            "target_id": lambda _: str(self.post_id),
            "meetup_id": lambda _: str(self.meetup_id),
            "session_id": lambda _: str(self.session_id),
            "handle": lambda _: self.handles["member"],
            "ref": lambda path: f"{self.session_id}.ics" if "/sessions/" in path else str(self.meetup_id),
            "token": lambda path: self.token(path),
        }
        self.valid: dict[str, Callable[[], str]] = {
            "title": lambda: "Fuzzed title", "body": lambda: "Fuzzed words", "name": lambda: "Fuzz Guest",
            "email": lambda: f"{unique('guest')}@example.org", "website": lambda: "https://example.org",
            "description": lambda: "About it", "nickname": lambda: "fuzzers", "visibility": lambda: "public",
            "slug": lambda: unique("fz-"), "handle": lambda: self.handles["member"],
            "display_name": lambda: "Fuzz Person", "password": lambda: PASSWORD, "login": lambda: self.handles["signer"],
            "current_password": lambda: PASSWORD, "new_password": lambda: PASSWORD, "reason": lambda: "Because",
            "message": lambda: "Sorry, rain.", "starts_at": lambda: local(STARTS + timedelta(minutes=30)),
            "ends_at": lambda: local(STARTS + timedelta(minutes=90)), "timezone": lambda: ZONE,
            "venue": lambda: "Volkspark", "address": lambda: "Berlin", "online_url": lambda: "", "capacity": lambda: "20",
            "rsvp_deadline": lambda: "", "room": lambda: "Hall", "speaker": lambda: "Ada", "code": lambda: "ABCDEF",
            "members": lambda: self.handles["member"], "member_id": lambda: str(self.ids["member"]),
            "role": lambda: "moderator", "answer": lambda: "going", "parent_id": lambda: "", "notify": lambda: "",
        }
        self.forms = self.harvest()

    def token(self, path: str) -> str:
        """A real token for the route's kind of link, so the payloads reach its form."""
        settings, email = self.container.settings, f"{self.handles['member']}@example.org"
        if path.startswith("/unsubscribe"):
            return unsubscribe_token(settings, self.post_id, email)
        if path.startswith("/subscriptions/confirm"):
            return confirm_url(settings, self.post_id, email).rsplit("/", 1)[1]
        since = self.container.service(Meetings).get(self.meetup_id).version
        return cant_make_it_token(settings, self.meetup_id, self.ids["member"], since)

    def restore_passwords(self) -> None:
        """Fuzzing the password change can make a payload someone's password: the next route signs in with ours."""
        for role, member_id in self.ids.items():
            try:
                with acting_as(member_id):
                    self.container.accounts.change_password(PASSWORD)
            except NotFound:  # this member left Cookout (the last route fuzzed)
                continue

    def path(self, route: str) -> str:
        return PARAMETER.sub(lambda found: self.values[found.group(1)](route), route)

    def client(self, role: str) -> TestClient[Litestar]:
        client = TestClient(app=self.app, base_url="http://testserver.local")
        client.__enter__()
        if role != "guest":
            signed = client.post("/login", data={"login": self.handles[role], "password": PASSWORD,
                                                 "_csrf_token": csrf_token(client)}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
        return client

    def harvest(self) -> dict[str, dict[str, str]]:
        """The forms on every page each role can open (guests see the guest fields of the comment form)."""
        forms = Forms()
        for role in ROLES:
            client = self.client(role)
            try:
                for route in routes(self.app, "GET"):
                    response = client.get(self.path(route), follow_redirects=False)
                    if response.headers.get("content-type", "").startswith("text/html"):
                        forms.feed(response.text)
            finally:
                client.__exit__(None, None, None)
        return forms.found

    def cases(self, path: str) -> Iterator[tuple[str, dict[str, str]]]:
        """What to post: each payload in each of the route's fields, the others valid; a route no page
        shows a form for (its button hidden in this state) gets each payload in every field we know."""
        form = self.forms.get(path)
        for payload in PAYLOADS:
            if form is None:
                yield f"every field={payload[:24]!r}", dict.fromkeys(self.valid, payload)
                continue
            valid = {name: self.valid[name]() if name in self.valid else default for name, default in form.items()}
            for field in valid or {"": ""}:
                yield f"{field}={payload[:24]!r}", {**valid, **({field: payload} if field else {})}


def routes(app: Litestar, method: str) -> list[str]:
    return sorted({route.path for route in app.routes if method in getattr(route, "methods", set())
                   and not route.path.startswith("/static")})


def post_routes(app: Litestar) -> list[str]:
    found = routes(app, "POST")
    return sorted(found, key=lambda path: (any(word in path for word in DESTRUCTIVE), "/settings/delete" in path,
                                           "password" in path))


@pytest.fixture(scope="module")
def fuzz_app(container: Container) -> Litestar:
    # Generous limits, so payloads reach the command instead of the rate limiter.
    return create_app(container.settings.model_copy(update={
        "comment_rate_limit": "100000/minute", "login_rate_limit_account": "100000/minute",
        "guest_comment_rate_limit_ip": "100000/minute", "guest_comment_rate_limit_post": "100000/minute",
    }), container)


@pytest.fixture(scope="module")
def world(fuzz_app: Litestar, container: Container) -> Iterator[World]:
    yield World(fuzz_app, container)
    # Whatever was accepted, every view has applied it: no event stopped a projection.
    head = container.log_position()
    assert container.wait_for(head, PROJECTIONS, timeout=30)
    assert {p.name: container.view(p).position() for p in PROJECTIONS} == {p.name: head for p in PROJECTIONS}
    assert container.parked.counts() == {}, "an accepted input was parked by a view that could not hold it"
    with TestClient(app=fuzz_app, base_url="http://testserver.local") as client:
        assert client.get("/healthz").status_code == 200


def route_ids() -> list[str]:
    return post_routes(create_app())


def test_every_post_route_is_fuzzed_and_the_pages_show_forms_for_most(world: World) -> None:
    routes_with_forms = [route for route in post_routes(world.app) if world.path(route) in world.forms]
    assert len(routes_with_forms) >= len(post_routes(world.app)) * 2 // 3
    assert world.forms[f"/p/{world.post_id}/comments"].keys() >= {"body", "name", "email", "website"}
    assert world.forms[f"/m/{world.meetup_id}/edit"].keys() >= {"title", "capacity", "venue", "online_url"}


def test_a_guest_comment_with_a_nul_byte_is_refused_with_a_message_and_the_text_kept(world: World) -> None:
    client = world.client("guest")
    try:
        response = client.post(f"/p/{world.post_id}/comments", follow_redirects=False, data={
            "body": "hello\x00world", "name": "Nul Guest", "email": "nul@example.org", "_csrf_token": csrf_token(client)})
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 422
    assert "invisible control characters" in response.text
    assert "Nul Guest" in response.text


def test_a_capacity_beyond_what_the_database_holds_is_refused_on_the_form(world: World, container: Container) -> None:
    client = world.client("organiser")
    before = container.log_position()
    try:
        fields = dict(next(world.cases(f"/m/{world.meetup_id}/edit"))[1], title="Fuzz picnic")
        response = client.post(f"/m/{world.meetup_id}/edit", follow_redirects=False,
                               data={**fields, "capacity": "2147483648", "_csrf_token": csrf_token(client)})
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 422
    assert "The capacity must be a whole number of at least 1 and at most 2,147,483,647." in response.text
    assert 'value="2147483648"' in response.text
    assert container.log_position() == before


def test_a_feed_page_cursor_out_of_range_is_a_400_not_a_500(world: World) -> None:
    client = world.client("guest")
    try:
        answers = [client.get(f"/t/{world.slug}?before={value}")
                   for value in ("99999999999999999999", "-1", "soon")]
        fine = client.get(f"/t/{world.slug}?before=5").status_code
    finally:
        client.__exit__(None, None, None)
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert all("Check the link" in answer.text and "Validation failed" not in answer.text for answer in answers)
    assert fine == 200


def test_a_slug_handle_or_feed_token_postgres_cannot_hold_is_not_found(world: World) -> None:
    client = world.client("guest")
    try:
        answers = {path: client.get(path).status_code for path in (
            "/t/ab%00cd", "/t/ab%00cd/meetups", "/t/ab%00cd/calendar.ics", "/members/ab%00cd", "/feeds/ab%00cd.ics")}
        signed = client.post("/login", follow_redirects=False, data={
            "login": "ab\x00cd", "password": PASSWORD, "_csrf_token": csrf_token(client)})
    finally:
        client.__exit__(None, None, None)
    assert answers == dict.fromkeys(answers, 404)
    assert signed.status_code == 401
    assert "do not match an account" in signed.text


@pytest.mark.parametrize("route", route_ids())
def test_hostile_input_to_every_post_route_gets_no_5xx_and_refused_input_records_nothing(
    route: str, world: World, container: Container
) -> None:
    path = world.path(route)
    failures = []
    for role in ROLES:
        client = world.client(role)
        try:
            for case, data in world.cases(path):
                for htmx in (False, True):
                    before = container.log_position()
                    response = client.post(path, data={**data, "_csrf_token": csrf_token(client)},
                                           headers={"HX-Request": "true"} if htmx else {}, follow_redirects=False)
                    what = f"{role} {'htmx' if htmx else 'plain'} {case}"
                    if response.status_code >= 500:
                        failures.append(f"{what}: {response.status_code}")
                    elif response.status_code >= 400 and container.log_position() != before:
                        failures.append(f"{what}: refused with {response.status_code} but recorded events")
        finally:
            client.__exit__(None, None, None)
    if "password" in route:
        world.restore_passwords()
    assert not failures, "\n".join(failures)
    assert container.wait_for(container.log_position(), PROJECTIONS, timeout=10)
