"""The composition root: `bootstrap` builds, once and eagerly, everything a process works with.

The web app, the Celery worker, the CLI's commands, the tests and the benchmarks all call `bootstrap`;
nothing else constructs a service, a view or a piece of infrastructure. Collaborators with a real
alternative are its arguments: how letters reach the workers (`enqueue`), the password hasher and the
clock. Tests pass fakes there instead of patching module globals.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import psycopg.conninfo
from argon2 import PasswordHasher
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore, PostgresRecorder
from eventsourcing.utils import Environment
from limits import storage
from limits.strategies import MovingWindowRateLimiter

from cookout.domain.accounts import Accounts
from cookout.domain.base import CookoutApplication
from cookout.domain.community import Tribes
from cookout.domain.meetings import Meetings
from cookout.domain.moderating import Moderation
from cookout.domain.reacting import Reactions
from cookout.domain.service import Turnstile
from cookout.domain.threads import Threads
from cookout.domain.members import Passwords
from cookout.platform.database import AdvisoryTurnstile, database_url, eventsourcing_env, wait_until_reachable
from cookout.platform.keys import DDL as KEYS_DDL
from cookout.platform.keys import PostgresKeys
from cookout.platform.settings import Settings
from cookout.projections import shadow
from cookout.projections.base import CookoutProjection
from cookout.projections.members import MemberDirectory
from cookout.projections.outbox import Dispatcher, Enqueue, OutboxView, Welcomes
from cookout.projections.parked import DDL as PARKED_DDL
from cookout.projections.parked import ParkedEvents
from cookout.projections.positions import PositionWatcher
from cookout.projections.registry import PROJECTIONS
from cookout.projections.runner import ProjectionsRunner, retry_parked
from cookout.projections.viewers import Viewers

A = TypeVar("A", bound=CookoutApplication)
Clock = Callable[[], datetime]

SCHEMA_LOCK = 2_026_112_501  # pg_advisory_lock key: one process creates tables at a time
# The log's readers opened after bootstrap: their tables were made under the lock, and a CREATE TABLE IF
# NOT EXISTS beside another process's DDL fails with "tuple concurrently updated".
MADE_TABLES = {"CREATE_TABLE": "n"}


def new_limiter(settings: Settings, url: str, scope: str = "") -> MovingWindowRateLimiter:
    """The limiter every rate limit of a process counts in: shared through Redis when the broker is Redis
    (every web process sees the same counts), in this process's memory otherwise. In Redis the counts
    are kept under the database's name, so instances that share one Redis don't count each other."""
    broker = settings.broker_url or ""
    if not broker.startswith(("redis://", "rediss://")):
        return MovingWindowRateLimiter(storage.storage_from_string("memory://"))
    database = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or "postgres"
    prefix = f"cookout:{database}{':' + scope if scope else ''}"
    return MovingWindowRateLimiter(storage.storage_from_string(broker, key_prefix=prefix))


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """Every Application service. They share the name `cookout`, so one log and one position."""

    accounts: Accounts
    tribes: Tribes
    threads: Threads
    moderation: Moderation
    reactions: Reactions
    meetings: Meetings

    @classmethod
    def build(cls, env: dict[str, str], passwords: Passwords, keys: PostgresKeys,
              turnstile: Turnstile | None = None) -> Services:
        accounts = Accounts(passwords, env=env, keys=keys)
        # The services write one log, so they share one recorder and its connection pool, and the keys.
        shared = {"env": env, "recorder": accounts.recorder, "keys": keys}
        return cls(accounts=accounts, tribes=Tribes(**shared), threads=Threads(**shared),
                   moderation=Moderation(**shared), reactions=Reactions(**shared),
                   meetings=Meetings(**shared, turnstile=turnstile))

    def recorders(self) -> list[PostgresRecorder]:
        """The log's recorder and each service's snapshot recorder, whose tables the services share."""
        found = [self.accounts.recorder]
        for service in self.all():
            if service.snapshots is not None and service.snapshots.recorder not in found:
                found.append(service.snapshots.recorder)
        return found  # type: ignore[return-value]

    def named(self) -> dict[str, CookoutApplication]:
        return {part.name: getattr(self, part.name) for part in dataclasses.fields(self)}

    def all(self) -> tuple[CookoutApplication, ...]:
        return tuple(self.named().values())


@dataclass
class Container:
    """One process's handle on Cookout: its settings, services, views and infrastructure."""

    settings: Settings
    url: str
    env: dict[str, str]
    datastore: PostgresDatastore  # the views' connections
    services: Services
    projections: dict[type[CookoutProjection], CookoutProjection]  # one per registered projection
    parked: ParkedEvents  # events a projection could not apply and moved past
    keys: PostgresKeys  # each person's key for their data in the log
    positions: PositionWatcher  # how far each view has read the log, for read-your-writes
    viewers: Viewers  # signed-in members' session epochs, zones and confirmation, kept while they hold
    limiter: MovingWindowRateLimiter
    passwords: Passwords
    clock: Clock
    enqueue: Enqueue | None
    holders: list[object] = field(default_factory=list)  # keeps the embedded server alive while we need it
    runners: list[ProjectionsRunner] = field(default_factory=list)  # projections running in this process

    @property
    def accounts(self) -> Accounts:
        return self.services.accounts

    @property
    def tribes(self) -> Tribes:
        return self.services.tribes

    @property
    def threads(self) -> Threads:
        return self.services.threads

    @property
    def moderation(self) -> Moderation:
        return self.services.moderation

    @property
    def reactions(self) -> Reactions:
        return self.services.reactions

    @property
    def meetings(self) -> Meetings:
        return self.services.meetings

    def service(self, kind: type[A]) -> A:
        for service in self.services.all():
            if type(service) is kind:
                return service  # type: ignore[return-value]
        raise KeyError(f"No service {kind.__name__}")

    def view(self, projection: type[CookoutProjection]) -> Any:
        return self.projections[projection].view

    @property
    def outbox(self) -> OutboxView:
        """The outbox table, which every dispatcher writes to."""
        return self.view(Welcomes)

    def with_settings(self, settings: Settings) -> Container:
        """The same data and services under other settings (an app with limits of its own, say), with a
        limiter of their own so those limits count nowhere else."""
        return dataclasses.replace(self, settings=settings,
                                   limiter=new_limiter(settings, self.url, scope=secrets.token_hex(4)))

    def log_position(self) -> int:
        return self.accounts.recorder.max_notification_id() or 0

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

    def start_projections(self, projections: tuple[type[CookoutProjection], ...] = PROJECTIONS,
                          rebuild: bool = False, standby: bool = False) -> None:
        """Run projections in this process: one thread following the log through LISTEN/NOTIFY. With
        `rebuild`, their views are emptied first and the whole log replayed into them. With `standby`, a
        runner that finds them applied elsewhere waits to take over instead of stopping. Views an older
        release built are rebuilt beside the live ones and switched to (projections/shadow.py)."""
        upgrades = None if rebuild else shadow.Upgrades(self.log_reader)
        self.runners.append(ProjectionsRunner(self.log_reader(), [self.projections[p] for p in projections],
                                              rebuild=rebuild, standby=standby, upgrades=upgrades))

    def log_reader(self, **env: str) -> CookoutApplication:
        """An application of its own to follow the log with (one connection, some headroom), opening each
        person's data with the same keys."""
        return CookoutApplication(env={**self.env, **MADE_TABLES, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2",
                                       **env}, keys=self.keys)

    def rebuild_beside(self, projection: type[CookoutProjection], timeout: float = 600) -> int:
        """Build a view's next version from the log beside the live one, which pages go on reading, then
        switch to it; returns the log position it was built to."""
        return shadow.rebuild(self.log_reader, self.projections[projection], timeout)

    def raise_projection_errors(self) -> None:
        """A projection that failed in this process stops; say why rather than wait for it."""
        for runner in self.runners:
            runner.check()

    def run_projections_forever(self) -> None:
        while self.runners:
            for runner in list(self.runners):
                runner.wait(timeout=0.5)
                if runner.stopped.is_set() and runner in self.runners:
                    return

    def stop_projections(self) -> None:
        runners = list(self.runners)
        self.runners.clear()
        for runner in runners:
            runner.stop()

    def retry_parked(self, projection: type[CookoutProjection]) -> tuple[int, int]:
        """Apply one projection's parked events again; (applied, still parked)."""
        log = self.log_reader(POSTGRES_POOL_SIZE="1")
        try:
            return retry_parked(log, self.projections[projection])
        finally:
            log.close()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.stop_projections()
        self.positions.close()
        for service in self.services.all():
            service.close()
        self.datastore.close()
        self.holders.clear()


def bootstrap(settings: Settings, *, url: str | None = None, enqueue: Enqueue | None = None,
              hasher: PasswordHasher | None = None, clock: Clock = utc_now) -> Container:
    """Open the database (starting the embedded server unless `url` or the settings name one), create
    every table, and build the services, the views, the outbox and the limiter.

    `enqueue` hands letters' keys to the workers once a dispatcher's batch has committed; without it
    (the web, a rebuild) letters wait for the periodic outbox sweep. `hasher` defaults to argon2id with
    the library's recommended parameters."""
    holders: list[object] = []
    url = url or database_url(settings, holders)
    wait_until_reachable(url)
    env = eventsourcing_env(url)
    datastore: Any = InfrastructureFactory.construct(Environment("views", env)).datastore
    passwords = Passwords(hasher or PasswordHasher())
    keys = PostgresKeys(datastore)
    services = Services.build({**env, **MADE_TABLES}, passwords, keys, AdvisoryTurnstile(datastore))
    projections = {projection: build_projection(projection, datastore, enqueue) for projection in PROJECTIONS}
    parked = ParkedEvents(datastore)
    make_tables(url, services, projections, parked, keys)
    positions = PositionWatcher(datastore, url)
    return Container(
        settings=settings, url=url, env=env, datastore=datastore, services=services, projections=projections,
        parked=parked, keys=keys, positions=positions, viewers=Viewers(projections[MemberDirectory].view, positions),
        limiter=new_limiter(settings, url),
        passwords=passwords, clock=clock, enqueue=enqueue, holders=holders,
    )


def make_tables(url: str, services: Services, projections: dict[type[CookoutProjection], CookoutProjection],
                parked: ParkedEvents, keys: PostgresKeys) -> None:
    """Create the tables, once per schema: a process whose DDL already ran (its fingerprint is recorded)
    runs none, because even a no-op ALTER TABLE takes an exclusive lock that deadlocks with the running
    tree's writes. Processes starting together (`cookout serve`'s children) take turns under a lock."""
    views = [projection.view for projection in projections.values()]
    recorders = services.recorders()
    with psycopg.connect(url, autocommit=True) as connection:
        statements = [statement.as_string(connection) for recorder in [*recorders, *views]
                      for statement in recorder.sql_create_statements] + [PARKED_DDL, shadow.VERSIONS_DDL, KEYS_DDL]
        fingerprint = hashlib.sha256("\n".join(statements).encode()).hexdigest()
        if not schema_is(connection, fingerprint):
            make_tables_under_lock(connection, fingerprint, [*recorders, *views], parked, keys)
    # The log's composite type may have been made by another process after this one's pool opened.
    services.accounts.recorder.datastore.register_type_adapters()


def make_tables_under_lock(connection: psycopg.Connection[Any], fingerprint: str,
                           recorders: list[PostgresRecorder], parked: ParkedEvents, keys: PostgresKeys) -> None:
    connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
    try:
        if schema_is(connection, fingerprint):  # another process made them while we waited
            return
        for recorder in recorders:
            recorder.create_table()
        parked.create_table()
        connection.execute(shadow.VERSIONS_DDL)
        keys.create_table()
        connection.execute(
            "CREATE TABLE IF NOT EXISTS cookout_schema (id boolean PRIMARY KEY DEFAULT true, fingerprint text)")
        connection.execute(
            "INSERT INTO cookout_schema (fingerprint) VALUES (%s) ON CONFLICT (id) DO UPDATE SET fingerprint = %s",
            (fingerprint, fingerprint))
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def schema_is(connection: psycopg.Connection[Any], fingerprint: str) -> bool:
    if connection.execute("SELECT to_regclass('cookout_schema')").fetchone() == (None,):
        return False
    return connection.execute("SELECT fingerprint FROM cookout_schema").fetchone() == (fingerprint,)


def build_projection(kind: type[CookoutProjection], datastore: PostgresDatastore,
                     enqueue: Enqueue | None) -> CookoutProjection:
    view = kind.view_class(datastore=datastore, tracking_table_name=f"{kind.name}_tracking")
    if issubclass(kind, Dispatcher):
        return kind(view=view, enqueue=enqueue)
    return kind(view=view)
