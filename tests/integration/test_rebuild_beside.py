"""Rebuilds without downtime: a view's next version is built from the log beside the live one, which
pages go on reading (and the runner goes on applying), then switched in atomically; a view whose version
changed is rebuilt this way when a runner starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import singledispatchmethod
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from litestar import Litestar
from litestar.testing import TestClient

from cookout.domain.base import CookoutApplication
from cookout.domain.members import Member
from cookout.platform import cli
from cookout.platform.container import Container, bootstrap
from cookout.projections import shadow
from cookout.projections.base import CookoutProjection, View
from cookout.projections.members import MemberDirectory
from cookout.projections.runner import ProjectionsRunner
from tests.conftest import FAST_HASHER
from tests.helpers import PASSWORD, unique

DEADLINE_SECONDS = 120


def join(container: Container, name: str) -> str:
    handle = unique()
    container.accounts.sign_up(handle, name, f"{handle}@example.org", PASSWORD, confirmed=True)
    assert container.wait_for(container.log_position(), timeout=30)
    return handle


@pytest.fixture
def as_the_cli(container: Container) -> Iterator[Container]:
    """What `cookout projections rebuild` opens, beside the suite's running projections."""
    other = bootstrap(container.settings, url=container.url, hasher=FAST_HASHER)
    yield other
    other.close()


def next_rows(container: Container, table: str) -> list[dict[str, Any]]:
    return container.view(MemberDirectory).rows(f"SELECT * FROM {shadow.schema_of('member_directory')}.{table}")


def test_pages_read_the_live_directory_while_its_next_version_is_built_then_it_switches_and_follows(
    container: Container, as_the_cli: Container, client: TestClient[Litestar]
) -> None:
    before = join(container, "Joined Before The Rebuild")
    live = as_the_cli.projections[MemberDirectory]
    deadline = time.monotonic() + DEADLINE_SECONDS

    shadow.prepare(live)
    assert next_rows(container, "members") == []
    assert "Joined Before The Rebuild" in client.get(f"/members/{before}").text

    shadow.build(as_the_cli.log_reader, live, deadline)
    assert len(next_rows(container, "members")) == len(container.view(MemberDirectory).snapshot())
    during = join(container, "Joined During The Rebuild")  # the live view still follows the log
    assert "Joined During The Rebuild" in client.get(f"/members/{during}").text
    assert not shadow.switched(container.datastore, "member_directory")
    live_rows = container.view(MemberDirectory).snapshot()

    log = as_the_cli.log_reader()
    try:
        position = shadow.switch_over(log, live, deadline)  # done by the suite's runner, between batches
    finally:
        log.close()
    assert shadow.switched(container.datastore, "member_directory")
    assert position == container.log_position()  # the switched view is at the head
    assert container.view(MemberDirectory).snapshot() == live_rows
    assert "Joined During The Rebuild" in client.get(f"/members/{during}").text
    after = join(container, "Joined After The Switch")  # and it goes on following
    assert "Joined After The Switch" in client.get(f"/members/{after}").text


def test_a_rebuild_runs_beside_the_running_projections_and_pages_never_miss_a_member(
    container: Container, client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle = join(container, "Always There")
    answers: list[int] = []
    monkeypatch.setenv("COOKOUT_DATABASE_URL", container.settings.database_url or "")
    monkeypatch.setenv("COOKOUT_SMTP_URL", "off")

    done = threading.Event()
    outcome: list[int] = []
    rebuilding = threading.Thread(target=lambda: (outcome.append(cli.main(["projections", "rebuild",
                                                                             "member_directory"])), done.set()))
    rebuilding.start()
    while not done.is_set():
        page = client.get(f"/members/{handle}")
        answers.append(page.status_code if "Always There" in page.text else -page.status_code)
    rebuilding.join()
    assert outcome == [0]
    assert set(answers) == {200}
    assert shadow.switched(container.datastore, "member_directory")
    assert "Always There" in client.get(f"/members/{handle}").text


class NamesView(View):
    ddl = ("CREATE TABLE IF NOT EXISTS test_names (position bigint PRIMARY KEY, name text NOT NULL)",)
    tables = ("test_names",)

    def names(self) -> list[str]:
        return [row["name"] for row in self.rows("SELECT name FROM test_names ORDER BY position")]


class NamesViewTwo(NamesView):
    version = 2


class Names(CookoutProjection):
    name = "test_names"
    topics = (get_topic(Member.Joined),)
    view_class = NamesView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.view.apply(tracking, ("INSERT INTO test_names (position, name) VALUES (%(p)s, %(n)s)",
                                   {"p": tracking.notification_id, "n": event.display_name}))


def run(container: Container, projection: CookoutProjection) -> ProjectionsRunner:
    def new_app() -> CookoutApplication:
        return container.log_reader(POSTGRES_POOL_SIZE="1")

    return ProjectionsRunner(new_app(), [projection], upgrades=shadow.Upgrades(new_app))


def test_a_view_whose_version_changed_is_rebuilt_beside_the_live_one_when_its_runner_starts(
    container: Container,
) -> None:
    first = NamesView(datastore=container.datastore, tracking_table_name="test_names_tracking")
    first.create_table()
    runner = run(container, Names(view=first))
    try:
        join(container, "Kept In The Log")
        while runner.positions[id(runner.projections[0])] < container.log_position():
            runner.wait(0.05)
    finally:
        runner.stop()
    with container.datastore.transaction(commit=True) as cursor:  # as the old release's SQL left them
        cursor.execute("UPDATE test_names SET name = upper(name)")
    assert shadow.stored_versions(container.datastore)["test_names"] == 1
    old_rows = first.names()

    second = NamesViewTwo(datastore=container.datastore, tracking_table_name="test_names_tracking")
    runner = run(container, Names(view=second))
    try:
        seen = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            rows = second.names()  # read before the check, so a read the switch overtook is not counted
            if shadow.switched(container.datastore, "test_names") and \
                    shadow.stored_versions(container.datastore)["test_names"] == 2:
                break
            seen.append(rows)
            assert time.monotonic() < deadline
            runner.check()
            time.sleep(0.05)
        assert all(rows == old_rows for rows in seen)  # pages read the old rows until the switch
        assert "Kept In The Log" in second.names() and "KEPT IN THE LOG" not in second.names()
        join(container, "Joined After The Upgrade")
        deadline = time.monotonic() + 30
        while "Joined After The Upgrade" not in second.names():
            assert time.monotonic() < deadline
            runner.check()
            time.sleep(0.05)
        assert second.position() == container.log_position()
    finally:
        runner.stop()
        with container.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {shadow.VERSIONS} WHERE projection = 'test_names'")
            cursor.execute("DROP TABLE IF EXISTS test_names, test_names_tracking")


def test_a_fresh_view_takes_this_releases_version_without_a_rebuild(container: Container) -> None:
    versions = shadow.stored_versions(container.datastore)
    assert versions["member_directory"] == MemberDirectory.view_class.version


class WiderNamesView(NamesView):
    ddl = ("CREATE TABLE IF NOT EXISTS test_names (position bigint PRIMARY KEY, name text NOT NULL, "
           "initial text)",)
    version = 2


def test_pages_read_a_switched_view_whose_columns_changed_on_connections_that_had_prepared_its_queries(
    container: Container,
) -> None:
    first = NamesView(datastore=container.datastore, tracking_table_name="test_names_tracking")
    first.create_table()
    runner = run(container, Names(view=first))
    try:
        join(container, "Asked Often")
        while runner.positions[id(runner.projections[0])] < container.log_position():
            runner.wait(0.05)
    finally:
        runner.stop()
    web = bootstrap(container.settings, url=container.url, hasher=FAST_HASHER)  # a web process's connections
    page = NamesView(datastore=web.datastore, tracking_table_name="test_names_tracking")
    try:
        for _ in range(12):  # psycopg prepares a query on a connection that has run it five times
            assert "Asked Often" in [row["name"] for row in page.rows("SELECT * FROM test_names")]

        def new_app() -> CookoutApplication:
            return container.log_reader(POSTGRES_POOL_SIZE="1")

        wider = WiderNamesView(datastore=container.datastore, tracking_table_name="test_names_tracking")
        shadow.rebuild(new_app, Names(view=wider), DEADLINE_SECONDS)
        for _ in range(3):
            assert all("initial" in row for row in page.rows("SELECT * FROM test_names"))
        assert "Asked Often" in page.names()
    finally:
        web.close()
        with container.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {shadow.VERSIONS} WHERE projection = 'test_names'")
            cursor.execute("DROP TABLE IF EXISTS test_names, test_names_tracking")
