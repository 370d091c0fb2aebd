"""Runs many projections on one subscription to the log, applying events in batches.

One process follows the log with one LISTEN connection, however many views there are. Whatever
events have arrived together are applied, in log order, to every projection that has not applied
them yet, in ONE transaction that also records each view's new position: a busy log costs one
commit per batch rather than one per projection per event. Side effects a projection asks for
(waking a mail worker) run only after that commit.

The same transaction NOTIFYs the positions it reached, so a web request waiting to read its own
write (read-your-writes) wakes the moment the views have it, without polling.
"""

from __future__ import annotations

import functools
import json
import queue
import threading
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.projection import ApplicationSubscription
from psycopg.sql import SQL, Identifier, Literal

from cookout.projections.base import APPLICATION_NAME, CookoutProjection, batch_on

# Enough to catch up quickly after a restart, small enough that a batch's transaction stays short.
BATCH_LIMIT = 500
POSITIONS_CHANNEL = "cookout_views"
WAKE_SECONDS = 0.1  # how soon the threads notice a stop

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


def handles(projection: CookoutProjection, event: Any) -> bool:
    """Whether the projection has a handler for this kind of event, not just the default."""
    return _handles(type(projection), type(event))


@functools.cache
def _handles(projection: type[CookoutProjection], event: type) -> bool:
    method = projection.__dict__.get("process_event")
    if not isinstance(method, singledispatchmethod):
        return True
    return method.dispatcher.dispatch(event) is not method.dispatcher.dispatch(object)


class ProjectionsRunner:
    def __init__(self, app: Application[Any], projections: Sequence[CookoutProjection]):
        self.app = app
        self.projections = list(projections)
        self.positions = {id(p): p.view.max_tracking_id(APPLICATION_NAME) or 0 for p in self.projections}
        self.datastore = self.projections[0].view.datastore if self.projections else None
        self.arrived: queue.Queue[Any] = queue.Queue(maxsize=10 * BATCH_LIMIT)
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.subscription = ApplicationSubscription(app=app, gt=min(self.positions.values(), default=0))
        self.subscription.__enter__()
        # One thread reads and decodes the log while the other applies what has arrived.
        self.reader = threading.Thread(target=self._read, name="projections-log", daemon=True)
        self.thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self.reader.start()
        self.thread.start()

    def _read(self) -> None:
        try:
            for item in self.subscription:
                while not self.stopped.is_set():
                    try:
                        self.arrived.put(item, timeout=WAKE_SECONDS)
                        break
                    except queue.Full:  # the applier is behind; hold on
                        continue
        except BaseException as error:  # noqa: BLE001 -- kept and re-raised in the caller's thread
            if not self.stopped.is_set():
                self.error = error
        finally:
            self.stopped.set()

    def _follow(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    batch = [self.arrived.get(timeout=WAKE_SECONDS)]
                except queue.Empty:
                    continue
                while len(batch) < BATCH_LIMIT:
                    try:
                        batch.append(self.arrived.get_nowait())
                    except queue.Empty:
                        break
                self.apply(batch)
        except BaseException as error:  # noqa: BLE001
            if not self.stopped.is_set():
                self.error = error
        finally:
            self.stopped.set()
            self.subscription.stop()

    def apply(self, events: list[tuple[Any, Tracking]]) -> None:
        """Apply the events to every projection that hasn't yet, with their positions, in one transaction."""
        assert self.datastore is not None
        # Pipeline mode: the views' writes go to Postgres without waiting for each answer; only a
        # projection reading its own state, and the commit, wait for one.
        with (self.datastore.get_connection() as connection, connection.pipeline(), connection.transaction(),
              batch_on(connection.cursor()) as batch):
            cursor = batch.cursor
            for domain_event, tracking in events:
                for projection in self.projections:
                    if tracking.notification_id <= self.positions[id(projection)]:
                        continue
                    if handles(projection, domain_event):
                        projection.process_event(domain_event, tracking)
                    batch.reached[projection.view] = tracking.notification_id
            reached = {view.tracking_table_name: position for view, position in batch.reached.items()}
            if reached:
                cursor.execute(advance_statement(tuple(reached)), [
                    *reached.values(), json.dumps(reached),
                ], prepare=True)
        for projection in self.projections:
            self.positions[id(projection)] = max(self.positions[id(projection)], events[-1][1].notification_id)
        for action in batch.after_commit:
            action()

    def check(self) -> None:
        """Re-raise, in the caller's thread, whatever stopped a projection."""
        if self.error is not None:
            raise self.error

    def wait(self, timeout: float) -> None:
        """Block until stopped or `timeout`, then re-raise any error."""
        self.stopped.wait(timeout)
        self.check()

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.stopped.set()
            self.subscription.stop()
        self.reader.join(timeout=10)
        self.thread.join(timeout=10)
        self.subscription.__exit__(None, None, None)
        self.app.close()
