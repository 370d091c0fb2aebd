"""One process's handle on Cookout's data: settings, the database, the services and the views."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment

from cookout.domain.accounts import Accounts
from cookout.domain.base import CookoutApplication
from cookout.domain.community import Tribes
from cookout.domain.meetings import Meetings
from cookout.domain.moderating import Moderation
from cookout.domain.reacting import Reactions
from cookout.domain.threads import Threads
from cookout.platform.database import database_url, eventsourcing_env, wait_until_reachable
from cookout.platform.settings import Settings
from cookout.projections.base import CookoutProjection, View
from cookout.projections.outbox import OutboxView, Welcomes
from cookout.projections.parked import ParkedEvents
from cookout.projections.positions import PositionWatcher
from cookout.projections.registry import PROJECTIONS
from cookout.projections.runner import ProjectionsRunner, retry_parked

V = TypeVar("V", bound=View)
A = TypeVar("A", bound=CookoutApplication)

SERVICES: tuple[type[CookoutApplication], ...] = (Accounts, Tribes, Threads, Moderation, Reactions, Meetings)
SCHEMA_LOCK = 2_026_112_501  # pg_advisory_lock key: one process creates tables at a time


class Runtime:
    def __init__(self, settings: Settings, url: str | None = None):
        self.settings = settings
        self._holders: list[object] = []  # keeps the embedded server alive while we need it
        self.url = url or database_url(settings, self._holders)
        wait_until_reachable(self.url)
        self.env = eventsourcing_env(self.url)
        self._services: dict[type, CookoutApplication] = {}
        self._views: dict[type, View] = {}
        self._runners: list[ProjectionsRunner] = []
        self._opening = threading.RLock()
        self._positions: PositionWatcher | None = None

    @cached_property
    def datastore(self) -> PostgresDatastore:
        factory: Any = InfrastructureFactory.construct(
            Environment("views", {**self.env, "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "6"})
        )
        return factory.datastore

    def prepare(self) -> None:
        """Create every table, holding a lock so processes starting together do not race."""
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                for kind in SERVICES:
                    self.service(kind)
                for projection in PROJECTIONS:
                    self.view(projection)
                self.parked.create_table()
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def service(self, kind: type[A]) -> A:
        with self._opening:  # the first requests of a process may arrive together
            if kind not in self._services:
                # The services write one log, so they share one recorder and its connection pool.
                first = next(iter(self._services.values()), None)
                self._services[kind] = kind(env=self.env, recorder=first.recorder if first else None)
            return self._services[kind]  # type: ignore[return-value]

    @property
    def accounts(self) -> Accounts:
        return self.service(Accounts)

    def view(self, projection: type[CookoutProjection]) -> Any:
        with self._opening:
            if projection not in self._views:
                view = projection.view_class(
                    datastore=self.datastore, tracking_table_name=f"{projection.name}_tracking"
                )
                view.create_table()
                self._views[projection] = view
            return self._views[projection]

    @property
    def outbox(self) -> OutboxView:
        """The outbox table, which every dispatcher writes to."""
        return self.view(Welcomes)

    @cached_property
    def parked(self) -> ParkedEvents:
        """Events a projection could not apply and moved past."""
        return ParkedEvents(self.datastore)

    def retry_parked(self, projection: type[CookoutProjection]) -> tuple[int, int]:
        """Apply one projection's parked events again; (applied, still parked)."""
        log = CookoutApplication(env={**self.env, "POSTGRES_POOL_SIZE": "1"})
        try:
            return retry_parked(log, projection(view=self.view(projection)))
        finally:
            log.close()

    def log_position(self) -> int:
        return self.service(CookoutApplication).recorder.max_notification_id() or 0

    def wait_for(self, position: int | None, projections: tuple[type[CookoutProjection], ...] = PROJECTIONS,
                 timeout: float | None = None) -> bool:
        """Read-your-writes: wait, bounded, until the projections have applied `position`."""
        if not position:
            return True
        self.raise_projection_errors()
        tables = [self.view(projection).tracking_table_name for projection in projections]
        reached = self.positions.wait(
            tables, position, self.settings.read_your_writes_timeout if timeout is None else timeout
        )
        self.raise_projection_errors()
        return reached

    def has_reached(self, position: int, projections: tuple[type[CookoutProjection], ...] = PROJECTIONS) -> bool:
        """Whether the views are known, in this process and without asking Postgres, to have `position`."""
        return self.positions.reached([self.view(projection).tracking_table_name for projection in projections],
                                      position)

    @property
    def positions(self) -> PositionWatcher:
        with self._opening:
            if self._positions is None:
                self._positions = PositionWatcher(self.datastore, self.url)
            return self._positions

    def start_projections(self, projections: tuple[type[CookoutProjection], ...] = PROJECTIONS,
                          rebuild: bool = False) -> None:
        """Run projections in this process: one thread following the log through LISTEN/NOTIFY. With
        `rebuild`, their views are emptied first and the whole log replayed into them."""
        # The subscription reads the log one notification at a time: one connection, some headroom.
        log = CookoutApplication(env={**self.env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"})
        instances = [projection(view=self.view(projection)) for projection in projections]
        self._runners.append(ProjectionsRunner(log, instances, rebuild=rebuild))

    def raise_projection_errors(self) -> None:
        """A projection that failed in this process stops; say why rather than wait for it."""
        for runner in self._runners:
            runner.check()

    def run_projections_forever(self) -> None:
        while self._runners:
            for runner in list(self._runners):
                runner.wait(timeout=0.5)
                if runner.stopped.is_set() and runner in self._runners:
                    return

    def stop_projections(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            runner.stop()

    def close(self) -> None:
        self.stop_projections()
        if self._positions is not None:
            self._positions.close()
        for service in self._services.values():
            service.close()
        if "datastore" in self.__dict__:
            self.datastore.close()
        self._holders.clear()
