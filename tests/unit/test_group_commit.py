"""Group commit: commands queued behind a busy aggregate are saved together, in arrival order, each on its own."""

from contextvars import copy_context
from threading import Thread
from uuid import uuid4

import pytest
from eventsourcing.domain import event
from tenacity import Retrying, stop_after_delay, wait_fixed

from cookout.domain.base import CookoutAggregate, CookoutApplication, acting_as, last_position
from cookout.domain.errors import InvalidInput
from cookout.domain.groupcommit import GroupCommit
from cookout.domain.service import ThreadTurnstile


class Tally(CookoutAggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.marks: list[str] = []

    def mark(self, name: str) -> None:
        if not name:
            raise InvalidInput("A mark needs a name.")
        self._mark(name=name)

    @event("Marked")
    def _mark(self, name: str) -> None:
        self.marks.append(name)

    def mark_twice_unless(self, name: str, refused: str) -> None:
        """Marks once, then refuses: a command that fails after it changed the aggregate."""
        self._mark(name=name)
        if name == refused:
            raise InvalidInput("Not twice.")
        self._mark(name=name)


@pytest.fixture
def app():
    app = CookoutApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    saves = []
    insert_events = app.recorder.insert_events

    def insert_and_count(*args, **kwargs):
        saves.append(1)
        return insert_events(*args, **kwargs)

    app.recorder.insert_events = insert_and_count
    app.saves = saves
    return app


def queued_behind_a_busy_tally(app, changes):
    """Each change is run by a thread of its own, one thread queuing after another while the tally is held
    in its turnstile (as by an organiser's command); then the tally is let go. What each thread got."""
    tally = Tally()
    app.save(tally)
    app.saves.clear()
    turnstile = ThreadTurnstile()
    commits = GroupCommit(turnstile, app.repository.get, app.save)
    outcomes = {}

    def run(n, actor, change):
        with acting_as(actor):
            try:
                outcomes[n] = commits.run(tally.id, change), last_position.get()
            except InvalidInput as error:
                outcomes[n] = error

    threads = []
    with turnstile.one_at_a_time(tally.id):
        for n, (actor, change) in enumerate(changes):
            threads.append(Thread(target=copy_context().run, args=(run, n, actor, change)))
            threads[-1].start()
            for attempt in Retrying(stop=stop_after_delay(10), wait=wait_fixed(0.001), reraise=True):
                with attempt:
                    assert len(commits.waiting[tally.id]) == n + 1  # it queued: the next may come
    for thread in threads:
        thread.join()
    return app.repository.get(tally.id), outcomes


def marking(name):
    def change(tally):
        tally.mark(name)
        return len(tally.marks)

    return change


def test_commands_queued_behind_a_busy_aggregate_are_saved_in_one_save_in_arrival_order(app):
    actors = [uuid4() for _ in range(20)]

    tally, outcomes = queued_behind_a_busy_tally(app, [(a, marking(f"m{n}")) for n, a in enumerate(actors)])

    assert tally.marks == [f"m{n}" for n in range(20)]
    assert app.saves == [1]
    assert [outcomes[n][0] for n in range(20)] == list(range(1, 21))
    marked = [e for e in app.repository.event_store.get(tally.id) if isinstance(e, Tally.Marked)]
    assert [e.actor for e in marked] == [str(a) for a in actors]
    # Every command learns the position of the save that recorded it, for read-your-writes.
    assert {position for _, position in outcomes.values()} == {app.recorder.max_notification_id()}


def test_a_command_that_fails_fails_alone_and_the_rest_of_its_batch_is_saved(app):
    changes = [(uuid4(), marking(name)) for name in ("first", "", "third")]

    tally, outcomes = queued_behind_a_busy_tally(app, changes)

    assert tally.marks == ["first", "third"]
    assert isinstance(outcomes[1], InvalidInput)
    assert outcomes[0][0] == 1 and outcomes[2][0] == 2


def test_a_command_that_fails_after_changing_the_aggregate_leaves_nothing_of_it_in_the_batch(app):
    def twice(name):
        def change(tally):
            tally.mark_twice_unless(name, refused="second")
            return len(tally.marks)

        return change

    tally, outcomes = queued_behind_a_busy_tally(app, [(uuid4(), twice(n)) for n in ("first", "second", "third")])

    assert tally.marks == ["first", "first", "third", "third"]
    assert isinstance(outcomes[1], InvalidInput)
    assert app.saves == [1]
