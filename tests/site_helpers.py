"""A demo site of its own for the tests that look at every page: a fresh database holding the demo
tribe (platform/demo.py) and a little more of what a lived-in Cookout has (a moderator, a conference
with an agenda, a cancelled meetup, a comment held for moderation and one flagged, a members-only
tribe of one), all made through the same commands people run; the app over it, in-process and over
real HTTP; and the pages a visitor of each role reaches from `/` by following links."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.domain.community import Tribes
from cookout.domain.moderating import Moderation
from cookout.domain.threads import Threads
from cookout.domain.meetings import Meetings
from cookout.domain.schedule import LOCAL_FORMAT
from cookout.platform import demo
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import Settings
from cookout.platform.web.app import create_app
from cookout.projections.registry import PROJECTIONS
from cookout.projections.tribes import TribeDirectory
from tests.conftest import FAST_HASHER
from tests.helpers import post_form

ROLES = {"visitor": None, "member": "melanie", "moderator": "amara", "organiser": "gini"}
# Links a crawler must not follow: they end the visit, or are files rather than pages.
NOT_PAGES = ("/static/", "/logout")
MAX_PAGES = 120


@dataclass
class Site:
    container: Container
    app: Litestar
    ids: dict[str, UUID] = field(default_factory=dict)
    base_url: str = ""


def local_time(delta: timedelta, zone: str) -> str:
    on_the_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (on_the_hour + delta).astimezone(ZoneInfo(zone)).strftime(LOCAL_FORMAT)


def furnish(container: Container) -> dict[str, UUID]:
    """The demo tribe, then what the demo lacks; returns the ids the tests and screenshots name."""
    demo.seed(container)
    ids = {handle: container.accounts.member_id_for_handle(handle) for handle, _, _ in demo.PEOPLE}
    tribes, threads, meetings = container.service(Tribes), container.service(Threads), container.service(Meetings)
    tribe_id = container.view(TribeDirectory).by_slug(demo.TRIBE_SLUG)["id"]
    zone = "America/Chicago"
    with acting_as(ids["gini"]):
        tribes.grant_role(tribe_id, ids["amara"], "moderator")
        post_id = threads.publish_post(tribe_id, "Who's coming to CrazyConf?",
                                    "Tell us which talks you want to see. **Bring questions.**")
        conference = meetings.schedule(
            tribe_id, title="CrazyConf 2027",
            description="Two days of talks about community, with a picnic in between.",
            starts_at=local_time(timedelta(days=40), zone), ends_at=local_time(timedelta(days=41, hours=8), zone),
            timezone=zone, venue="Chicago Cultural Center", address="78 E Washington St, Chicago, IL", capacity=3,
        )
        sessions = []
        for hours, title, room, speaker in ((1, "Opening: why we meet", "Preston Bradley Hall", "Gini Marsh"),
                                            (3, "Writing for a tribe", "Claudia Cassidy Theater", "Melanie Brooks"),
                                            (25, "Measuring relationships", "Preston Bradley Hall", "Teo Lindqvist")):
            sessions.append(meetings.add_session(conference, title=title, room=room, speaker=speaker,
                                 starts_at=local_time(timedelta(days=40, hours=hours), zone),
                                 ends_at=local_time(timedelta(days=40, hours=hours + 1), zone)))
        rained_off = meetings.schedule(
            tribe_id, title="Lakefront picnic", description="Blankets and lemonade.",
            starts_at=local_time(timedelta(days=12), zone), ends_at=local_time(timedelta(days=12, hours=3), zone),
            timezone=zone, venue="Lakefront Trail", address="Montrose Beach, Chicago, IL",
        )
        meetings.invite(rained_off, [ids["priya"], ids["teo"]])
        meetings.cancel(rained_off, message="Storms all weekend. We'll pick a new date.")
        meetings.invite(conference, [ids["priya"], ids["teo"]])
        owls = tribes.found_tribe("Night Owls", "night-owls", "We talk after dark.", "owls", "members")
    for handle in ("gini", "amara", "melanie", "priya"):
        with acting_as(ids[handle]):
            meetings.answer(conference, "going")
    for handle in ("melanie", "priya"):
        with acting_as(ids[handle]):
            meetings.choose_session(conference, sessions[0])
    with acting_as(ids["melanie"]):
        first = threads.post_comment(post_id, "The measuring talk, please. And a long lunch.")
    with acting_as(None):
        threads.post_comment(post_id, "Can guests come too?", name="Sam Visitor", email="sam@example.org")
    with acting_as(ids["teo"]):
        doubtful = threads.post_comment(post_id, "Buy my course on measuring relationships!", first)
    with acting_as(ids["priya"]):
        container.service(Moderation).flag_comment(doubtful, "Advertising")
    assert container.wait_for(container.log_position(), PROJECTIONS, timeout=20)
    from cookout.projections.feed import TribeFeed

    [demo_post] = [p["id"] for p in container.view(TribeFeed).page(tribe_id) if p["title"].startswith("Online relationships")]
    return {**ids, "tribe": tribe_id, "owls": owls, "post": post_id, "demo_post": demo_post, "conference": conference,
            "session": sessions[0], "cancelled": rained_off, "chicago": meetup_of(container, tribe_id, "Cookout in Chicago")}


def meetup_of(container: Container, tribe_id: UUID, title: str) -> UUID:
    from cookout.projections.meetups import Meetups

    found = [m for m in container.view(Meetups).of_tribe(tribe_id, datetime.now(UTC), upcoming=True)
             if m["title"] == title]
    return found[0]["id"]


@contextmanager
def demo_site(server_url: str, settings: Settings) -> Iterator[Site]:
    """A fresh database with the furnished demo in it, and the app over it."""
    name = f"cookout_site_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    container = bootstrap(settings.model_copy(update={"database_url": url}), hasher=FAST_HASHER)
    try:
        container.start_projections()
        yield Site(container, create_app(container.settings, container), furnish(container))
    finally:
        container.close()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """The app over real HTTP on a free local port, for a browser."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the site's web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def signed_in_client(app: Litestar, handle: str | None) -> TestClient[Any]:
    client = TestClient(app=app, base_url="http://testserver.local")
    client.__enter__()
    if handle:
        response = post_form(client, "/login", {"login": handle, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 303, response.text
    return client


class Page(HTMLParser):
    """What a crawler needs from a page: where its links and GET forms go, and its fields' values."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.fields: list[tuple[str, str | None]] = []  # (name or id, value), textareas' text included
        self.forms = 0
        self._textarea: list[str] | None = None
        self._textarea_name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "form":
            self.forms += 1
            if (attributes.get("method") or "get").lower() == "get" and attributes.get("action"):
                self.links.append(attributes["action"] or "")
        elif tag == "input":
            self.fields.append((attributes.get("name") or attributes.get("id") or "?", attributes.get("value")))
        elif tag == "textarea":
            self._textarea, self._textarea_name = [], attributes.get("name") or "?"

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea_name, "".join(self._textarea).strip()))
            self._textarea = None


@dataclass
class Visit:
    pages: dict[str, int] = field(default_factory=dict)  # path → status
    with_forms: set[str] = field(default_factory=set)
    html_pages: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def crawl(client: TestClient[Any], start: str = "/", limit: int = MAX_PAGES) -> Visit:
    """Follow every internal link from `start`, breadth first, up to `limit` pages; note what's wrong."""
    visit, queue, seen = Visit(), [(start, "the start")], {start}
    while queue and len(visit.pages) < limit:
        path, found_on = queue.pop(0)
        response = client.get(path, follow_redirects=True)
        visit.pages[path] = response.status_code
        if response.status_code >= 500:
            visit.problems.append(f"{path} (linked from {found_on}) answered {response.status_code}")
        elif response.status_code == 404:
            visit.problems.append(f"{path}, linked from {found_on}, is not found")
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        visit.html_pages.add(path)
        parsed = Page()
        parsed.feed(response.text)
        if parsed.forms:
            visit.with_forms.add(path)
        for name, value in parsed.fields:
            if value is not None and value.strip() == "None":
                visit.problems.append(f"{path}: the field {name} shows “None”")
        for href in parsed.links:
            target = internal_path(path, href)
            if target and target not in seen:
                seen.add(target)
                queue.append((target, path))
    return visit


def internal_path(here: str, href: str) -> str | None:
    """The path and query `href` leads to on this site, or None for another site or a non-page."""
    absolute = urlsplit(urljoin(f"http://testserver.local{here}", href))
    if absolute.scheme not in ("http", "https") or absolute.netloc != "testserver.local":
        return None
    target = absolute.path + (f"?{absolute.query}" if absolute.query else "")
    return None if absolute.path.startswith(NOT_PAGES) else target
