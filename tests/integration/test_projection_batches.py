"""The runner applies whatever events arrived together in one transaction: all of a batch or none of it,
side effects only after the commit, and waiting requests woken by the batch's notification."""

from __future__ import annotations

import logging

import threading
import time
from functools import singledispatchmethod
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.members import Member
from cookout.platform.container import Container
from cookout.projections import positions
from cookout.projections.base import APPLICATION_NAME, CookoutProjection, View
from cookout.projections.members import MemberDirectory
from cookout.projections.outbox import LETTERS_PER_TASK, hand_over
from cookout.projections.positions import PositionWatcher
from cookout.projections.runner import ProjectionBusy, ProjectionsRunner
from tests.conftest import Workers
from tests.helpers import PASSWORD, unique


class JoinersView(View):
    unplugged = 0  # how many more times the connection is "lost" at the member called Unplugged

    ddl = ("CREATE TABLE IF NOT EXISTS test_joiners (position bigint PRIMARY KEY, display_name text NOT NULL)",)
    tables = ("test_joiners",)

    def recorded(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM test_joiners ORDER BY position")


class Joiners(CookoutProjection):
    """Remembers every member who joins; refuses, like a bug would, one called "Boom"."""

    name = "test_joiners"
    topics = (get_topic(Member.Joined),)
    view_class = JoinersView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.view.apply(tracking, (
            "INSERT INTO test_joiners (position, display_name) VALUES (%(p)s, %(n)s)",
            {"p": tracking.notification_id, "n": event.display_name},
        ))
        if event.display_name == "Boom":
            raise RuntimeError("a projection bug")
        if event.display_name == "Unplugged" and self.view.unplugged > 0:
            self.view.unplugged -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def joiners(container: Container) -> Any:
    view = JoinersView(datastore=container.datastore, tracking_table_name=f"{unique('joiners')}_tracking")
    view.create_table()
    view.reset()
    view.insert_tracking(Tracking(APPLICATION_NAME, container.log_position()))
    yield view
    with container.datastore.transaction(commit=True) as cursor:  # the next test's joiners start clean
        cursor.execute("DELETE FROM cookout_parked_events WHERE projection = %s", (Joiners.name,))


class Renames(Joiners):
    """Has Joiners' handlers but says it reads only renames."""

    name = "test_joiners"
    topics = (get_topic(Member.Renamed),)


def follow(container: Container, view: JoinersView, projection: type[Joiners] = Joiners) -> ProjectionsRunner:
    log = container.log_reader(POSTGRES_POOL_SIZE="1")
    return ProjectionsRunner(log, [projection(view=view)])


def join(container: Container, name: str) -> None:
    handle = unique()
    container.accounts.sign_up(handle, name, f"{handle}@example.org", PASSWORD)


def test_events_recorded_together_are_applied_and_tracked_together(container: Container, joiners: JoinersView) -> None:
    for name in ("Ada", "Grace", "Edsger"):
        join(container, name)
    head = container.log_position()
    runner = follow(container, joiners)
    try:
        deadline = time.monotonic() + 10
        while joiners.position() < head and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert joiners.position() >= head
    assert [row["display_name"] for row in joiners.recorded()] == ["Ada", "Grace", "Edsger"]


def test_a_projection_is_given_only_the_events_its_topics_name_and_moves_past_the_others(
    container: Container, joiners: JoinersView
) -> None:
    join(container, "Ada")
    join(container, "Grace")
    head = container.log_position()
    runner = follow(container, joiners, Renames)
    try:
        deadline = time.monotonic() + 10
        while joiners.position() < head and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert joiners.position() >= head
    assert joiners.recorded() == []


def test_an_event_the_projection_fails_on_is_parked_and_the_runner_goes_on(
    container: Container, joiners: JoinersView, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("Before", "Boom", "After"):
        before = container.log_position()
        join(container, name)
        if name == "Boom":
            boom = range(before + 1, container.log_position() + 1)
    head = container.log_position()
    runner = follow(container, joiners)
    try:
        deadline = time.monotonic() + 10
        while joiners.position() < head and time.monotonic() < deadline and not runner.stopped.is_set():
            time.sleep(0.02)
        runner.check()
    finally:
        runner.stop()
    assert joiners.position() >= head
    # The failed event left none of its rows; the events around it were applied.
    assert [row["display_name"] for row in joiners.recorded()] == ["Before", "After"]
    parked = container.parked.of(Joiners.name)
    assert len(parked) == 1 and parked[0]["error"] == "RuntimeError: a projection bug"
    assert parked[0]["notification_id"] in boom
    assert any(record.levelname == "ERROR" and f"Projection {Joiners.name} parked the event at position "
               f"{parked[0]['notification_id']}" in record.getMessage() for record in caplog.records)


def test_a_lost_connection_is_waited_out_and_the_event_applied_instead_of_parked(
    container: Container, joiners: JoinersView, caplog: pytest.LogCaptureFixture,
) -> None:
    # A Celery worker started earlier in this process may have set the root logger to errors only.
    caplog.set_level(logging.WARNING, logger="cookout.projections.runner")
    joiners.unplugged = 2
    join(container, "Unplugged")
    head = container.log_position()
    runner = follow(container, joiners)
    try:
        deadline = time.monotonic() + 30
        while joiners.position() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        runner.check()
        assert not runner.stopped.is_set()
    finally:
        runner.stop()
    assert [row["display_name"] for row in joiners.recorded()] == ["Unplugged"]
    assert container.parked.of(Joiners.name) == []
    assert any("Projections lost the database" in record.getMessage() for record in caplog.records)


def test_workers_are_woken_only_after_the_letter_is_committed(container: Container, workers: Workers) -> None:
    seen: list[bool] = []

    def enqueue(keys: list[str]) -> None:
        # Another connection: only committed rows are visible to a worker.
        seen.extend(container.outbox.letter(key) is not None for key in keys)

    with workers.listening(enqueue):
        join(container, "Woken Later")
        assert container.wait_for(container.log_position(), timeout=10)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen and all(seen)


def test_a_waiting_request_is_woken_by_the_batch_notification_not_by_polling(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "FALLBACK_SECONDS", 5.0)  # far longer than the wait below allows
    watcher = PositionWatcher(container.datastore, container.url)
    table = container.view(MemberDirectory).tracking_table_name
    try:
        assert watcher.wait([table], container.log_position(), timeout=5)  # starts listening
        join(container, "Notified")
        started = time.monotonic()
        released: list[bool] = []
        waiter = threading.Thread(target=lambda: released.append(watcher.wait([table], container.log_position(), 3)))
        waiter.start()
        waiter.join()
        assert released == [True]
        assert time.monotonic() - started < 2
    finally:
        watcher.close()


def test_letters_are_handed_to_the_workers_a_few_per_task() -> None:
    tasks: list[list[str]] = []
    keys = [f"welcome:{n}" for n in range(2 * LETTERS_PER_TASK + 5)]
    hand_over(tasks.append, keys)
    assert [len(task) for task in tasks] == [LETTERS_PER_TASK, LETTERS_PER_TASK, 5]
    assert [key for task in tasks for key in task] == keys


def test_a_projection_runs_in_one_process_at_a_time(container: Container, joiners: JoinersView) -> None:
    first = follow(container, joiners)
    try:
        second = follow(container, joiners)
        second.stopped.wait(5)
        second.stop()
        with pytest.raises(ProjectionBusy, match="test_joiners"):
            second.check()
        join(container, "Still Followed")
        deadline = time.monotonic() + 10
        while "Still Followed" not in [r["display_name"] for r in joiners.recorded()] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "Still Followed" in [r["display_name"] for r in joiners.recorded()]
    finally:
        first.stop()
    third = follow(container, joiners)  # the lock went with the first runner
    third.stop()
    third.check()
