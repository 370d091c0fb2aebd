"""Runs many projections on one subscription to the log.

One thread and one LISTEN connection per process, however many views there are: each event is
applied, in log order, to every projection that has not applied it yet. Each projection still
records its own position with its rows, so they stay independent for rebuilds and status.

Most events matter to few projections. For the others only the position moves; those positions
are written in small batches by a second thread rather than one transaction per projection per
event. Losing a batch in a crash is harmless: the events are offered again and ignored again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.projection import ApplicationSubscription
from psycopg.sql import SQL, Identifier

from cookout.projections.base import APPLICATION_NAME, CookoutProjection

FLUSH_SECONDS = 0.02

ADVANCE = """
INSERT INTO {0} (application_name, notification_id) VALUES (%s, %s)
ON CONFLICT (application_name)
DO UPDATE SET notification_id = GREATEST({0}.notification_id, EXCLUDED.notification_id)
"""


def handles(projection: CookoutProjection, event: Any) -> bool:
    """Whether the projection has a handler for this kind of event, not just the default."""
    method = type(projection).__dict__.get("process_event")
    if not isinstance(method, singledispatchmethod):
        return True
    return method.dispatcher.dispatch(type(event)) is not method.dispatcher.dispatch(object)


class ProjectionsRunner:
    def __init__(self, app: Application[Any], projections: Sequence[CookoutProjection]):
        self.app = app
        self.projections = list(projections)
        self.positions = {id(p): p.view.max_tracking_id(APPLICATION_NAME) or 0 for p in self.projections}
        self.unrecorded: dict[int, Tracking] = {}
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.subscription = ApplicationSubscription(app=app, gt=min(self.positions.values(), default=0))
        self.subscription.__enter__()
        self.thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self.recorder = threading.Thread(target=self._record_positions, name="positions", daemon=True)
        self.thread.start()
        self.recorder.start()

    def _follow(self) -> None:
        try:
            for domain_event, tracking in self.subscription:
                for projection in self.projections:
                    key = id(projection)
                    if tracking.notification_id <= self.positions[key]:
                        continue
                    if handles(projection, domain_event):
                        projection.process_event(domain_event, tracking)
                        with self.lock:
                            self.unrecorded.pop(key, None)
                    else:
                        with self.lock:
                            self.unrecorded[key] = tracking
                    self.positions[key] = tracking.notification_id
        except BaseException as error:  # noqa: BLE001 -- kept and re-raised in the caller's thread
            if not self.stopped.is_set():
                self.error = error
        finally:
            self.stopped.set()

    def _record_positions(self) -> None:
        try:
            while not self.stopped.wait(FLUSH_SECONDS):
                self.flush()
            self.flush()
        except BaseException as error:  # noqa: BLE001
            self.error = self.error or error
            self.stopped.set()
            self.subscription.stop()

    def flush(self) -> None:
        """Write the positions of projections that only skipped events since their last write."""
        with self.lock:
            batch, self.unrecorded = self.unrecorded, {}
        if not batch:
            return
        by_key = {id(p): p for p in self.projections}
        datastore = self.projections[0].view.datastore
        with datastore.transaction(commit=True) as cursor:
            for key, tracking in batch.items():
                view = by_key[key].view
                cursor.execute(
                    SQL(ADVANCE).format(Identifier(view.tracking_table_name)),
                    (tracking.application_name, tracking.notification_id),
                )

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
        self.thread.join(timeout=10)
        self.recorder.join(timeout=10)
        self.subscription.__exit__(None, None, None)
        self.app.close()
