"""What every read model shares: DDL beside its SQL, and rows written with tracking in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
import functools
from functools import singledispatchmethod
from typing import Any, ClassVar

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

# Every service shares this name, so there is one log and one position to wait for.
APPLICATION_NAME = "cookout"

Statement = tuple[str, dict[str, Any]]


@dataclass
class Batch:
    """Events the runner applies to every projection in one transaction: each view's rows and the
    position it reaches commit together, and side effects wait until they have."""

    cursor: Any
    # Whether reads a projection can put off are gathered until before the commit (see `put_off`): only
    # when the batch is applied together, never one event at a time, where each error must be its event's.
    gathers: bool = False
    reached: dict[View, int] = field(default_factory=dict)
    after_commit: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = field(default_factory=dict)
    deferred: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = field(default_factory=dict)

    def mark(self) -> tuple[dict[View, int], dict[str, int]]:
        """Where the batch is now, to go back to if one projection's event is rolled back."""
        return dict(self.reached), {name: len(items) for name, (_, items) in self.after_commit.items()}

    def rewind(self, mark: tuple[dict[View, int], dict[str, int]]) -> None:
        reached, counts = mark
        self.reached = dict(reached)
        for name in list(self.after_commit):
            if name not in counts:
                del self.after_commit[name]
            else:
                del self.after_commit[name][1][counts[name]:]

    def catch_up(self, name: str | None = None, concerning: Callable[[Any], bool] | None = None) -> None:
        """Do now what was put off under `name` (everything, without one), in the order it was put off;
        with `concerning`, only the items it picks, the others staying put off."""
        for key in [name] if name is not None else list(self.deferred):
            entry = self.deferred.pop(key, None)
            if entry is None:
                continue
            action, items = entry
            if concerning is not None:
                kept = [item for item in items if not concerning(item)]
                items = [item for item in items if concerning(item)]
                if kept:
                    self.deferred[key] = (action, kept)
            if items:
                action(items)

    def actions(self) -> list[Callable[[], None]]:
        """What to do now that the batch is committed."""
        return [functools.partial(action, items) for action, items in self.after_commit.values()]


_batch: ContextVar[Batch | None] = ContextVar("projection_batch", default=None)


@contextmanager
def batch_on(cursor: Any, gathers: bool = False) -> Iterator[Batch]:
    """Within this block (in this thread) views write on `cursor` and note their positions in the batch."""
    batch = Batch(cursor, gathers)
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)


def current_batch() -> Batch:
    """The runner's batch this thread is applying; projections write nowhere else."""
    batch = _batch.get()
    if batch is None:
        raise RuntimeError("projections write only inside a ProjectionsRunner batch")
    return batch


def after_commit(name: str, items: list[Any], action: Callable[[list[Any]], None]) -> None:
    """Call `action(items)` once the batch has committed; the batch gathers the items of every call with
    this `name` into one call (one message to the workers for a batch of events, not one per event)."""
    current_batch().after_commit.setdefault(name, (action, []))[1].extend(items)


def put_off(name: str, item: Any, action: Callable[[list[Any]], None]) -> None:
    """Call `action(items)` for the items put off under `name` later in the batch, before it commits, or
    at once when the batch applies one event at a time: a projection that must read to decide (one round
    trip per event, in a pipelined batch) decides for many events with one read. The projection calls
    `catch_up(name)` before an event that changes what those reads would find."""
    batch = current_batch()
    if not batch.gathers:
        action([item])
        return
    batch.deferred.setdefault(name, (action, []))[1].append(item)


def catch_up(name: str, concerning: Callable[[Any], bool] | None = None) -> None:
    """Do now what the batch put off under `name` (with `concerning`, only the items it picks: an event
    that changes what the reads would find for those alone)."""
    batch = _batch.get()
    if batch is not None:
        batch.catch_up(name, concerning)


class View(PostgresTrackingRecorder):
    """A read model's tables and SQL. Subclasses list their DDL and the tables a rebuild empties."""

    ddl: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[str, ...]] = ()
    # Raise it in a release that changes what the rows hold: the runner then rebuilds the view beside the
    # live one, from the log, and switches to it (projections/shadow.py).
    version: ClassVar[int] = 1

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(statement) for statement in self.ddl)  # type: ignore[arg-type]

    def apply(self, tracking: Tracking, *statements: Statement) -> None:
        """Run the statements in the runner's batch, whose commit records the tracking with them:
        applied once, never skipped."""
        batch = current_batch()
        for sql, params in statements:
            batch.cursor.execute(sql, params)
        batch.reached[self] = tracking.notification_id

    def execute(self, *statements: Statement) -> None:
        """Run statements in the runner's batch without moving the view's position (what was put off)."""
        batch = current_batch()
        for sql, params in statements:
            batch.cursor.execute(sql, params)

    def insert_tracking(self, tracking: Tracking) -> None:
        batch = _batch.get()
        if batch is not None:
            batch.reached[self] = tracking.notification_id
        else:
            super().insert_tracking(tracking)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        batch = _batch.get()
        if batch is not None:  # a projection reading its own state sees the batch's earlier events
            # On a cursor of its own: in pipeline mode, the batch's cursor can be handed the result of an
            # earlier write of the batch while this read is still on its way.
            with batch.cursor.connection.cursor() as cursor:
                cursor.execute(sql, params or {})
                return list(cursor.fetchall())
        return self._rows(sql, params)

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.05)
    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            try:
                cursor.execute(sql, params or {})  # type: ignore[arg-type]
            except psycopg.errors.FeatureNotSupported:
                # "cached plan must not change result type": a rebuilt version of the table, with other
                # columns, was switched in (projections/shadow.py) after this connection prepared the query.
                connection.execute("DEALLOCATE ALL")  # which psycopg also takes as a cue to forget its own
                cursor.execute(sql, params or {})  # type: ignore[arg-type]
            return list(cursor.fetchall())

    def row(self, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def position(self) -> int:
        return self.max_tracking_id(APPLICATION_NAME) or 0

    def reset(self) -> None:
        """Forget every row and the position, so the log can be replayed from the start."""
        with self.datastore.transaction(commit=True) as cursor:
            for table in self.tables:
                cursor.execute(SQL("TRUNCATE {0}").format(Identifier(table)))
            cursor.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(
                    Identifier(self.tracking_table_name)
                ),
                (APPLICATION_NAME,),
            )


class CookoutProjection(Projection[Any]):
    """Base of Cookout's projections. Each says what it reads in `topics` (the topics of the events it
    has a handler for, each handler named for its event); the runner gives it only those, and events it
    does not read still advance its position, so a page can wait for any position in the log."""

    view_class: ClassVar[type[View]]

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)
