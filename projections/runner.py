"""Runs many projections on one subscription to the log.

One thread and one LISTEN connection per process, however many views there are: each event is
applied, in log order, to every projection that has not applied it yet. Each projection still
records its own position with its rows, so they stay independent for rebuilds and status.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.projection import ApplicationSubscription

from cookout.projections.base import APPLICATION_NAME, CookoutProjection


class ProjectionsRunner:
    def __init__(self, app: Application[Any], projections: Sequence[CookoutProjection]):
        self.app = app
        self.projections = list(projections)
        self.positions = {id(p): p.view.max_tracking_id(APPLICATION_NAME) or 0 for p in self.projections}
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.subscription = ApplicationSubscription(app=app, gt=min(self.positions.values(), default=0))
        self.subscription.__enter__()
        self.thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        try:
            for domain_event, tracking in self.subscription:
                for projection in self.projections:
                    if tracking.notification_id > self.positions[id(projection)]:
                        projection.process_event(domain_event, tracking)
                        self.positions[id(projection)] = tracking.notification_id
        except BaseException as error:  # noqa: BLE001 -- kept and re-raised in the caller's thread
            if not self.stopped.is_set():
                self.error = error
        finally:
            self.stopped.set()

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
        self.subscription.__exit__(None, None, None)
        self.app.close()
