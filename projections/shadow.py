"""A view's next version, built beside the live one from the log and switched in atomically.

Pages never see a rebuild's empty view. The next version is built in a schema of its own
(`cookout_next_<name>`): the view's own DDL and SQL, whose table names are unqualified, reach it through
the connections' search_path, so a view's code knows nothing of it. It follows the log from the start
while pages go on reading the live tables. Once it has caught up, whoever applies the live view (a
`projections run`, told on the `cookout_switch` channel, or the rebuild itself when none runs) switches
between two of its batches, in ONE transaction: it brings the next version to the live one's position,
drops the live tables, moves the next version's into their place and records the view's version. A page
reads the old rows or the new ones, never none; the runner goes on from the position the switch reached.

A view whose `version` differs from the one recorded for it is rebuilt this way when a runner starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from cookout.projections import parked
from cookout.projections.base import APPLICATION_NAME, CookoutProjection, batch_on
from cookout.projections.runner import ProjectionBusy, ProjectionsRunner, lock_key, process, unreachable

log = logging.getLogger(__name__)

SWITCH_CHANNEL = "cookout_switch"
VERSIONS = "cookout_view_versions"
VERSIONS_DDL = f"CREATE TABLE IF NOT EXISTS {VERSIONS} (projection text PRIMARY KEY, version integer NOT NULL)"
CATCH_UP_LIMIT = 500


def schema_of(name: str) -> str:
    return f"cookout_next_{name}"


def next_name(name: str) -> str:
    """The name the next version runs (and parks events) under while it is built."""
    return f"{name}.next"


class NextDatastore(PostgresDatastore):
    """Connections on which the view's unqualified table names find the next version's tables first (the
    other views' tables, which a projection may read, stay visible after them)."""

    def __init__(self, live: PostgresDatastore, schema: str):
        params = live.pool.kwargs
        super().__init__(dbname=params["dbname"], host=params["host"], port=params["port"], user=params["user"],
                         password=params["password"], schema=schema, pool_size=1, max_overflow=2,
                         connect_timeout=5)

    def after_connect_func(self) -> Any:
        connected = super().after_connect_func()
        search_path = SQL("SET search_path TO {0}, public").format(Identifier(self.schema))

        def after_connect(connection: Any) -> None:
            connected(connection)
            connection.execute(search_path)

        return after_connect


def next_version(live: CookoutProjection, datastore: PostgresDatastore) -> CookoutProjection:
    """A projection of the live one's kind writing to the next version's tables; it sends no letters."""
    kind = type(live)
    view = type(live.view)(datastore=datastore, tracking_table_name=live.view.tracking_table_name)
    projection = kind(view=view)
    projection.name = next_name(kind.name)  # its own advisory lock, its own parked events
    return projection


def prepare(live: CookoutProjection) -> None:
    """An empty next version: a fresh schema with the view's tables (and its own tracking) in it."""
    schema = schema_of(live.name)
    datastore = NextDatastore(live.view.datastore, schema)
    try:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(schema)))
            cursor.execute(SQL("CREATE SCHEMA {0}").format(Identifier(schema)))
        next_version(live, datastore).view.create_table()
    finally:
        datastore.close()


def is_ready(cursor: Any, live: CookoutProjection) -> bool:
    """Whether a next version has been made (its tracking table is there)."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS ready",
                   (f"{schema_of(live.name)}.{live.view.tracking_table_name}",))
    return bool(cursor.fetchone()["ready"])


def stored_versions(datastore: PostgresDatastore) -> dict[str, int]:
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT projection, version FROM {VERSIONS}")
        return {row["projection"]: row["version"] for row in cursor.fetchall()}


def record_version(cursor: Any, projection: CookoutProjection) -> None:
    cursor.execute(
        f"INSERT INTO public.{VERSIONS} (projection, version) VALUES (%s, %s) "
        "ON CONFLICT (projection) DO UPDATE SET version = EXCLUDED.version",
        (projection.name, projection.view.version))


def outdated(projections: list[CookoutProjection]) -> list[CookoutProjection]:
    """The views built by an older release than this one (a different `version`) that need a rebuild.
    A view with no rows yet, or none recorded from before versions were, takes this release's version."""
    if not projections:
        return []
    datastore = projections[0].view.datastore
    stored = stored_versions(datastore)
    found = []
    with datastore.transaction(commit=True) as cursor:
        for projection in projections:
            version = stored.get(projection.name)
            if version is None or projection.view.position() == 0:
                if version != projection.view.version:
                    record_version(cursor, projection)
            elif version != projection.view.version:
                found.append(projection)
    return found


def switch(app: Application[Any], live: CookoutProjection, live_position: int) -> int | None:
    """Put the next version in the live one's place, if it is built and its builder has let go; returns the
    position the view has now (None if nothing was switched). The caller applies the live view, and does
    not while this runs."""
    name = live.name
    datastore = NextDatastore(live.view.datastore, schema_of(name))
    try:
        with datastore.get_connection() as connection:
            with connection.cursor() as cursor:
                if not is_ready(cursor, live):
                    return None
            held = connection.execute("SELECT pg_try_advisory_lock(%s) AS held", (lock_key(next_name(name)),))
            if not held.fetchone()["held"]:
                return None  # its builder is still applying it
            try:
                with connection.transaction(), batch_on(connection.cursor()) as batch:
                    position = catch_up(app, next_version(live, datastore), batch, live_position)
                    swap(batch.cursor, live)
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (lock_key(next_name(name)),))
    finally:
        datastore.close()
    log.info("Projection %s switched to its rebuilt version at position %d.", name, position)
    return position


def catch_up(app: Application[Any], projection: CookoutProjection, batch: Any, live_position: int) -> int:
    """Apply to the next version, in the switch's transaction, the events the live one has and it lacks."""
    position = projection.view.position()
    while position < live_position:
        notifications = app.recorder.select_notifications(
            start=position, limit=CATCH_UP_LIMIT, stop=live_position, inclusive_of_start=False)
        if not notifications:
            break
        for notification in notifications:
            process(projection, app.mapper.to_domain_event(notification), Tracking(app.name, notification.id))
        position = notifications[-1].id
        batch.cursor.execute(
            SQL("INSERT INTO {0} (application_name, notification_id) VALUES (%s, %s) ON CONFLICT (application_name)"
                " DO UPDATE SET notification_id = EXCLUDED.notification_id").format(
                Identifier(projection.view.tracking_table_name)), (APPLICATION_NAME, position))
    return position


def swap(cursor: Any, live: CookoutProjection) -> None:
    schema = Identifier(schema_of(live.name))
    for table in (*live.view.tables, live.view.tracking_table_name):
        cursor.execute(SQL("DROP TABLE IF EXISTS public.{0}").format(Identifier(table)))
        cursor.execute(SQL("ALTER TABLE {0}.{1} SET SCHEMA public").format(schema, Identifier(table)))
    cursor.execute(f"DELETE FROM public.{parked.TABLE} WHERE projection = %s", (live.name,))
    cursor.execute(f"UPDATE public.{parked.TABLE} SET projection = %s WHERE projection = %s",
                   (live.name, next_name(live.name)))
    record_version(cursor, live)
    cursor.execute(SQL("DROP SCHEMA {0} CASCADE").format(schema))  # what else it made for itself (an outbox)


def rebuild(new_app: Callable[[], Application[Any]], live: CookoutProjection, timeout: float) -> int:
    """Build the live view's next version from the whole log, then switch to it: through the runner that
    applies the live view, told on SWITCH_CHANNEL, or here when none does. Returns the position reached."""
    datastore = live.view.datastore
    with datastore.get_connection() as guard:
        held = guard.execute("SELECT pg_try_advisory_lock(%s) AS held", (lock_key(f"rebuild {live.name}"),))
        if not held.fetchone()["held"]:
            raise ProjectionBusy(f"Another rebuild of the {live.name} projection is under way.")
        try:
            return build_and_switch(new_app, live, time.monotonic() + timeout)
        finally:
            guard.execute("SELECT pg_advisory_unlock(%s)", (lock_key(f"rebuild {live.name}"),))


def build_and_switch(new_app: Callable[[], Application[Any]], live: CookoutProjection, deadline: float) -> int:
    prepare(live)
    build(new_app, live, deadline)
    app = new_app()
    try:
        return switch_over(app, live, deadline)
    finally:
        app.close()


def build(new_app: Callable[[], Application[Any]], live: CookoutProjection, deadline: float) -> None:
    """Apply the whole log, as it is now, to the (prepared) next version."""
    datastore = NextDatastore(live.view.datastore, schema_of(live.name))
    try:
        projection = next_version(live, datastore)
        builder = ProjectionsRunner(new_app(), [projection], rebuild=True)
        try:
            head = builder.recorder.max_notification_id() or 0
            while builder.positions[id(projection)] < head:
                builder.wait(0.05)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"rebuilding {live.name} did not reach position {head} in time")
        finally:
            builder.stop()
        builder.check()
    finally:
        datastore.close()


def switch_over(app: Application[Any], live: CookoutProjection, deadline: float) -> int:
    """Switch to the built next version: here, if no runner applies the live view, else by that runner,
    asked on SWITCH_CHANNEL. Returns the view's position once switched."""
    datastore = live.view.datastore
    while True:
        with datastore.get_connection() as connection:
            held = connection.execute("SELECT pg_try_advisory_lock(%s) AS held", (lock_key(live.name),))
            if held.fetchone()["held"]:  # nobody applies the live view: nothing is written to it meanwhile
                try:
                    reached = switch(app, live, live.view.position())
                finally:
                    connection.execute("SELECT pg_advisory_unlock(%s)", (lock_key(live.name),))
                if reached is not None:
                    return reached
        ask_for_switch(datastore, live.name)
        if wait_until_switched(datastore, live.name, 2):
            return live.view.position()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the runner of {live.name} did not switch to its rebuilt version in time")


def switched(datastore: PostgresDatastore, name: str) -> bool:
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT to_regnamespace(%s) IS NULL AS gone", (schema_of(name),))
        return bool(cursor.fetchone()["gone"])


def ask_for_switch(datastore: PostgresDatastore, name: str) -> None:
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", (SWITCH_CHANNEL, name))


def wait_until_switched(datastore: PostgresDatastore, name: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not switched(datastore, name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Upgrades:
    """What a runner does about rebuilt versions: once it holds its projections, it rebuilds beside them
    those an older release built (each in a thread of its own), and it switches a view to its next version
    when asked to on SWITCH_CHANNEL, between two of its batches."""

    channel = SWITCH_CHANNEL

    def __init__(self, new_app: Callable[[], Application[Any]], timeout: float = 3600):
        self.new_app = new_app
        self.timeout = timeout
        self.threads: list[threading.Thread] = []

    def claimed(self, runner: ProjectionsRunner) -> None:
        for projection in outdated(runner.projections):
            log.info("Projection %s was built by another release (version %d now): rebuilding it beside the "
                     "live one.", projection.name, projection.view.version)
            thread = threading.Thread(target=self._rebuild, args=(projection,), name=f"rebuild-{projection.name}",
                                      daemon=True)
            thread.start()
            self.threads.append(thread)

    def _rebuild(self, projection: CookoutProjection) -> None:
        try:
            rebuild(self.new_app, projection, self.timeout)
        except Exception:  # the live view goes on as it is; the next start tries again
            log.exception("Rebuilding %s beside the live view failed", projection.name)

    def switch(self, runner: ProjectionsRunner, name: str) -> None:
        for projection in runner.projections:
            if projection.name == name:
                try:
                    reached = switch(runner.app, projection, runner.positions[id(projection)])
                except Exception as error:
                    if unreachable(error):
                        raise
                    log.exception("Switching %s to its rebuilt version failed; the live view stays", name)
                    return
                if reached is not None:
                    runner.positions[id(projection)] = max(runner.positions[id(projection)], reached)
                    # Fresh connections: those there may have prepared queries on the tables just replaced.
                    projection.view.datastore.pool.drain()
