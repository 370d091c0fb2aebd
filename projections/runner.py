"""Runs many projections on one subscription to the log, applying events in batches.

One process follows the log with one LISTEN connection, however many views there are. Whatever
events have arrived together are applied, in log order, to every projection that has not applied
them yet, in ONE transaction that also records each view's new position: a busy log costs one
commit per batch rather than one per projection per event. Side effects a projection asks for
(waking a mail worker) run only after that commit.

The same transaction NOTIFYs the positions it reached, so a web request waiting to read its own
write (read-your-writes) wakes the moment the views have it, without polling.

A batch that fails is applied again one event at a time, each (projection, event) in a savepoint: an
event one projection cannot apply is parked for that projection (projections/parked.py) and every
other projection applies it. A lost connection is not a poison event: the runner reconnects, with
backoff, and goes on from the positions its views recorded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError, Tracking
from eventsourcing.utils import get_topic, resolve_topic
from psycopg.sql import SQL, Identifier, Literal
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from cookout.domain.base import request_id_of, serving_request
from cookout.projections import parked
from cookout.projections.base import APPLICATION_NAME, Batch, CookoutProjection, batch_on

log = logging.getLogger(__name__)

# Enough to catch up quickly after a restart, small enough that a batch's transaction stays short.
# (Batches of 2,000 took about 15% more CPU on both sides than batches of 500 in bench/rebuild.py.)
BATCH_LIMIT = 500
POSITIONS_CHANNEL = "cookout_views"
WAKE_SECONDS = 0.1  # how soon the threads notice a stop
STANDBY_SECONDS = 0.5  # how often a standby runner tries to take over
RECONNECT_SECONDS = (0.5, 10.0)  # the first and the longest wait between tries to reach a lost database
# The database is gone or unusable, not the event: parking would skip events that are fine.
UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, OperationalError, InterfaceError)

ADVANCE = """
INSERT INTO {table} (application_name, notification_id) VALUES ({name}, %s)
ON CONFLICT (application_name)
DO UPDATE SET notification_id = GREATEST({table}.notification_id, EXCLUDED.notification_id)
"""


@functools.cache
def advance_statement(tables: tuple[str, ...]) -> bytes:
    """One statement that moves every given view's position and announces them all (prepared once)."""
    moves = SQL(", ").join(
        SQL("{0} AS ({1})").format(Identifier(f"t{n}"), SQL(ADVANCE).format(
            table=Identifier(table), name=Literal(APPLICATION_NAME)))
        for n, table in enumerate(tables)
    )
    return SQL("WITH {0} SELECT pg_notify({1}, %s)").format(moves, Literal(POSITIONS_CHANNEL)).as_bytes(None)


class ProjectionBusy(RuntimeError):
    """A projection is already being applied by another process."""


def unreachable(error: BaseException) -> bool:
    """Whether the database, not an event, is at fault. The datastore wraps psycopg's errors; a pipeline
    that an earlier statement's error aborted says nothing about the connection."""
    cause = error.__cause__ if isinstance(error, (OperationalError, InterfaceError)) else error
    if cause is None:
        cause = error
    return isinstance(cause, UNREACHABLE) and not isinstance(cause, psycopg.errors.PipelineAborted)


def first_line(error: BaseException | None) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def lock_key(name: str) -> int:
    """The advisory lock key of a projection: a stable 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"cookout projection {name}".encode()).digest()[:8], "big", signed=True)


def running(cursor: Any, names: Sequence[str]) -> set[str]:
    """Which of the named projections some process is applying now: the ones whose advisory lock is held
    (a bigint key is kept in pg_locks as its high and low 32 bits)."""
    cursor.execute(
        "SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks WHERE locktype = 'advisory' "
        "AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    held = {row["key"] for row in cursor.fetchall()}
    return {name for name in names if lock_key(name) in held}


def process(projection: CookoutProjection, event: Any, tracking: Tracking) -> None:
    """Apply the event if the projection reads it; its position moves past the event either way. What it
    does (the letters it posts, what it logs) belongs to the request that recorded the event."""
    read = reads(type(projection))
    if read is None or type(event) in read:
        with serving_request(request_id_of(event)):
            projection.process_event(event, tracking)


@functools.cache
def reads(projection: type[CookoutProjection]) -> frozenset[type] | None:
    """The event classes a projection's `topics` name, or None if it names none and so reads every
    event (as the library's subscriptions do): a set to look each event up in."""
    return frozenset(resolve_topic(topic) for topic in projection.topics) if projection.topics else None


class Upgrades(Protocol):
    """What a runner is told of its views' rebuilt versions (projections/shadow.py)."""

    channel: str

    def claimed(self, runner: ProjectionsRunner) -> None: ...

    def switch(self, runner: ProjectionsRunner, name: str) -> None: ...


class ProjectionsRunner:
    def __init__(self, app: Application[Any], projections: Sequence[CookoutProjection], rebuild: bool = False,
                 standby: bool = False, upgrades: Upgrades | None = None, batch_limit: int = BATCH_LIMIT):
        self.app = app
        self.batch_limit = batch_limit  # 1 applies each event in a transaction of its own
        self.rebuild = rebuild  # empty the views first (once they are ours), and replay the whole log
        self.standby = standby  # wait for another runner's projections instead of refusing to start
        self.upgrades = upgrades
        self.recorder: Any = app.recorder
        self.projections = list(projections)
        self.positions = {id(p): p.view.max_tracking_id(APPLICATION_NAME) or 0 for p in self.projections}
        self.datastore = self.projections[0].view.datastore if self.projections else None
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.listening = threading.Event()
        self.committed: queue.Queue[Any] = queue.Queue()
        # One thread follows the log and applies it; another carries out what the committed batches
        # asked for (waking mail workers), off the path of the next batch.
        self.thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self.waker = threading.Thread(target=self._wake, name="projections-wake", daemon=True)
        self.thread.start()
        self.waker.start()
        if not standby:
            self.listening.wait(10)

    def _follow(self) -> None:
        # A lost database (a restart, a failover) is waited for, with jittered exponential backoff and no
        # end, starting afresh at each outage; so is a projection another process took over while we were
        # away. Anything else stops the runner.
        try:
            while not self.stopped.is_set():
                for attempt in Retrying(retry=retry_if_exception(self._passing), wait=wait_exponential_jitter(
                        multiplier=RECONNECT_SECONDS[0], max=RECONNECT_SECONDS[1]), stop=lambda _: self.stopped.is_set(), sleep=self.stopped.wait,
                        before_sleep=self._unreachable, reraise=True):
                    with attempt:
                        self._follow_once()
        except BaseException as error:  # noqa: BLE001 -- kept and re-raised in the caller's thread
            if not self.stopped.is_set():
                self.error = error
        finally:
            self.listening.set()
            self.stopped.set()

    def _passing(self, error: BaseException) -> bool:
        return unreachable(error) or (isinstance(error, ProjectionBusy) and self.listening.is_set())

    @staticmethod
    def _unreachable(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("Projections cannot reach the database (%s); trying again in %.1f s.", first_line(error),
                    state.upcoming_sleep)

    def _follow_once(self) -> None:
        """Follow the log until stopped, or until the database is lost after following began: the caller
        then reconnects, with a backoff that starts afresh. An error before that is the caller's to retry."""
        following = False
        try:
            # Rather than eventsourcing's ApplicationSubscription (three threads, one event at a time), one
            # thread: LISTEN for the log's NOTIFY, then read everything recorded since, as one batch.
            with self.recorder.datastore.get_connection() as connection:
                self._claim(connection)
                if self.rebuild:
                    for projection in self.projections:
                        projection.view.reset()
                    self.rebuild = False
                # Where each view is, as recorded: after a lost connection, a batch may have committed unseen.
                self.positions = {id(p): p.view.max_tracking_id(APPLICATION_NAME) or 0 for p in self.projections}
                connection.execute(SQL("LISTEN {0}").format(Identifier(self.recorder.channel_name)))
                if self.upgrades is not None:
                    connection.execute(SQL("LISTEN {0}").format(Identifier(self.upgrades.channel)))
                    self.upgrades.claimed(self)
                if self.listening.is_set():
                    log.warning("Projections reached the database again; following the log.")
                self.listening.set()
                following = True
                last = min(self.positions.values(), default=0)
                while not self.stopped.is_set():
                    notifications = self.recorder.select_notifications(
                        start=last, limit=self.batch_limit, inclusive_of_start=False
                    )
                    if notifications:
                        # A full batch: the runner is behind the log (a rebuild, a restart after a while).
                        behind = len(notifications) == self.batch_limit > 1
                        self.apply([
                            (self.app.mapper.to_domain_event(notification), Tracking(self.app.name, notification.id))
                            for notification in notifications
                        ], catching_up=behind)
                        last = notifications[-1].id
                        continue
                    for notify in connection.notifies(timeout=WAKE_SECONDS, stop_after=1):
                        # something was recorded (or a stop is due): look again
                        if self.upgrades is not None and notify.channel == self.upgrades.channel:
                            self.upgrades.switch(self, notify.payload)  # between two batches
                connection.execute("SELECT pg_advisory_unlock_all()")
        except Exception as error:
            if not (following and unreachable(error)):
                raise
            log.warning("Projections lost the database (%s); reconnecting.", first_line(error))
            self.stopped.wait(RECONNECT_SECONDS[0])  # never a busy loop, should it be lost again at once

    def _claim(self, connection: Any) -> None:
        """Hold each projection's advisory lock for as long as this runner lives: two processes applying
        the same projection (two `projections run`, or a retry beside one) would write its rows twice. A
        standby waits, holding none, until it can take them all: as soon as the active runner's session ends
        (it stopped, or died), it goes on from the positions that runner committed."""
        standing_by = False
        while (busy := self._try_claim(connection)) is not None:
            if not self.standby:
                raise ProjectionBusy(
                    f"Another process is running the {busy} projection. Run `cookout projections run`"
                    " in one process only, and stop it before `cookout projections retry`."
                )
            if not standing_by:
                log.info("Another runner applies the projections; standing by to take over.")
                standing_by = True
            if self.stopped.wait(STANDBY_SECONDS):
                raise ProjectionBusy("stopped while standing by")
        if standing_by:
            for projection in self.projections:  # from where the runner before stopped
                self.positions[id(projection)] = projection.view.position()
            log.info("Took over the projections from the runner that stopped.")

    def _try_claim(self, connection: Any) -> str | None:
        """Take every projection's lock, or none: the name of one held elsewhere, or None."""
        for projection in self.projections:
            held = connection.execute("SELECT pg_try_advisory_lock(%s) AS held", (lock_key(projection.name),))
            if not held.fetchone()["held"]:
                connection.execute("SELECT pg_advisory_unlock_all()")
                return projection.name
        return None

    def apply(self, events: list[tuple[Any, Tracking]], catching_up: bool = False) -> None:
        """Apply the events to every projection that hasn't yet, with their positions, in one transaction."""
        try:
            batch = self._apply_together(events, catching_up)
        except Exception as error:  # noqa: BLE001 -- which event, and which projection, is found one by one
            if unreachable(error):
                raise
            log.warning("A batch of %d events failed (%s); applying them one at a time.", len(events),
                        parked.describe(error), exc_info=error)
            batch = self._apply_one_by_one(events)
        for projection in self.projections:
            self.positions[id(projection)] = max(self.positions[id(projection)], events[-1][1].notification_id)
        for action in batch.actions():
            self.committed.put(action)

    def _apply_together(self, events: list[tuple[Any, Tracking]], catching_up: bool = False) -> Batch:
        assert self.datastore is not None
        # Pipeline mode: the views' writes go to Postgres without waiting for each answer; only a
        # projection reading its own state, and the commit, wait for one.
        with (self.datastore.get_connection() as connection, connection.pipeline(), connection.transaction(),
              batch_on(connection.cursor(), gathers=True) as batch):
            if catching_up:
                # Replaying what the log already holds, the commit need not wait for its WAL to reach the
                # disk: a crash can lose only whole batches, rows and positions together, and the runner
                # applies them again from the log, which is what is durable. Live batches keep the default.
                batch.cursor.execute("SET LOCAL synchronous_commit = off")
            for domain_event, tracking in events:
                for projection in self._behind(tracking):
                    process(projection, domain_event, tracking)
                    batch.reached[projection.view] = tracking.notification_id
            batch.catch_up()
            self._advance(batch)
        return batch

    def _apply_one_by_one(self, events: list[tuple[Any, Tracking]]) -> Batch:
        """The failed batch again, without the pipeline so each error surfaces at its own statement, and
        each (projection, event) in a savepoint: what fails is parked in the same transaction."""
        assert self.datastore is not None
        with (self.datastore.get_connection() as connection, connection.transaction(),
              batch_on(connection.cursor()) as batch):
            for domain_event, tracking in events:
                for projection in self._behind(tracking):
                    mark = batch.mark()
                    try:
                        with connection.transaction():  # a savepoint
                            process(projection, domain_event, tracking)
                    except UNREACHABLE:
                        raise
                    except Exception as error:  # noqa: BLE001 -- parked, logged, and shown in status
                        batch.rewind(mark)
                        parked.park(batch.cursor, projection.name, tracking.notification_id,
                                    get_topic(type(domain_event)), error)
                        log.error("Projection %s parked the event at position %d (%s): %s", projection.name,
                                  tracking.notification_id, get_topic(type(domain_event)), parked.describe(error),
                                  exc_info=error)
                    batch.reached[projection.view] = tracking.notification_id
            self._advance(batch)
        return batch

    def _behind(self, tracking: Tracking) -> list[CookoutProjection]:
        return [p for p in self.projections if tracking.notification_id > self.positions[id(p)]]

    @staticmethod
    def _advance(batch: Batch) -> None:
        reached = {view.tracking_table_name: position for view, position in batch.reached.items()}
        if reached:
            batch.cursor.execute(advance_statement(tuple(reached)), [
                *reached.values(), json.dumps(reached),
            ], prepare=True)

    def _wake(self) -> None:
        # Runs until the applier has stopped and everything it committed has been acted on.
        while not (self.stopped.is_set() and not self.thread.is_alive() and self.committed.empty()):
            try:
                action = self.committed.get(timeout=WAKE_SECONDS)
            except queue.Empty:
                continue
            action()  # actions handle their own failures: the outbox sweep is the safety net

    def check(self) -> None:
        """Re-raise, in the caller's thread, whatever stopped a projection."""
        if self.error is not None:
            raise self.error

    def wait(self, timeout: float) -> None:
        """Block until stopped or `timeout`, then re-raise any error."""
        self.stopped.wait(timeout)
        self.check()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        self.waker.join(timeout=10)
        self.app.close()


def retry_parked(app: Application[Any], projection: CookoutProjection) -> tuple[int, int]:
    """Apply a projection's parked events again, in log order, and forget those that now apply; returns
    (applied, still parked). Refused while a runner holds the projection, whose position is past them."""
    datastore = projection.view.datastore
    applied = failed = 0
    actions = []
    with datastore.get_connection() as connection:
        held = connection.execute("SELECT pg_try_advisory_lock(%s) AS held", (lock_key(projection.name),))
        if not held.fetchone()["held"]:
            raise ProjectionBusy(
                f"Another process is running the {projection.name} projection. Stop `cookout projections run`"
                " before retrying its parked events."
            )
        try:
            for row in parked.ParkedEvents(datastore).of(projection.name):
                notification, = app.recorder.select_notifications(start=row["notification_id"], limit=1)
                event = app.mapper.to_domain_event(notification)
                tracking = Tracking(app.name, notification.id)
                with connection.transaction(), batch_on(connection.cursor()) as batch:
                    try:
                        with connection.transaction():  # a savepoint, so the new error can be recorded
                            process(projection, event, tracking)
                    except UNREACHABLE:
                        raise
                    except Exception as error:  # noqa: BLE001 -- stays parked, with the error of this try
                        parked.park(batch.cursor, projection.name, notification.id, row["topic"], error)
                        log.error("Projection %s still cannot apply the event at position %d: %s",
                                  projection.name, notification.id, parked.describe(error))
                        failed += 1
                        continue
                    # The view's position is already past this event: only the rows are new.
                    parked.release(batch.cursor, projection.name, notification.id)
                    applied += 1
                actions.extend(batch.actions())
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (lock_key(projection.name),))
    for action in actions:
        action()
    return applied, failed
