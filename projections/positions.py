"""How far each view has read the log, watched for everyone in a process at once.

Requests that ran a command wait until the views their next page reads have applied it. The
projections runner NOTIFYs the positions each batch reached, in the batch's own transaction; one
thread per process LISTENs and wakes the waiters. While anybody waits it also reads the tracking
tables now and then, for positions written by something that does not notify.

Other channels can be followed on the same connection (`subscribe`), for in-memory copies of view rows
that must be dropped when the rows change: such a copy is only good while `listening_now()`, since a
notification sent while nobody listened is lost.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier, Literal

from cookout.projections.base import APPLICATION_NAME

CHANNEL = "cookout_views"
# Re-read the tables this often while somebody waits, in case a notification was missed.
FALLBACK_SECONDS = 0.05


class PositionWatcher:
    def __init__(self, datastore: PostgresDatastore, url: str):
        self.datastore = datastore
        self.url = url
        self.known: dict[str, int] = {}
        self.tables: set[str] = set()
        self.waiting = 0
        self.changed = threading.Condition()
        self.listener: threading.Thread | None = None
        self.listening = threading.Event()
        self.closed = threading.Event()
        self.error: Exception | None = None
        self.subscribers: dict[str, list[Callable[[str], None]]] = {}
        self.resets: list[Callable[[], None]] = []

    def subscribe(self, channel: str, changed: Callable[[str], None], reset: Callable[[], None]) -> None:
        """Call `changed` with each notification's payload on `channel`, and `reset` whenever listening
        starts or stops (what was kept may have changed unseen). Subscribe before the listener starts."""
        self.subscribers.setdefault(channel, []).append(changed)
        self.resets.append(reset)

    def listening_now(self) -> bool:
        listener = self.listener
        return (listener is not None and listener.is_alive() and self.listening.is_set()
                and self.error is None and not self.closed.is_set())

    def wait(self, tables: Sequence[str], position: int, timeout: float) -> bool:
        """Block until every tracking table has reached `position`, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self.changed:
            self.tables.update(tables)
            if self.reached(tables, position):
                return True
            self.waiting += 1
        try:
            if not self.listen():
                # The batch may have committed before we listened: look once, then rely on notifications.
                self.learn(self.read(tables))
            with self.changed:
                while not self.reached(tables, position):
                    if self.error is not None:
                        raise self.error
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.changed.wait(remaining)
                return True
        finally:
            with self.changed:
                self.waiting -= 1

    def reached(self, tables: Sequence[str], position: int) -> bool:
        return all(self.known.get(table, 0) >= position for table in tables)

    def learn(self, positions: dict[str, int]) -> None:
        with self.changed:
            self.known.update(positions)
            self.changed.notify_all()

    def listen(self) -> bool:
        """Start the listening thread unless it runs; True if it was already listening."""
        if self.start_listening():
            return True
        self.listening.wait(5)
        return False

    def start_listening(self) -> bool:
        """Start the listening thread unless it runs, without waiting for it; True if it is listening."""
        with self.changed:
            if self.listener is not None and self.listener.is_alive() and self.listening.is_set():
                return True
            if (self.listener is None or not self.listener.is_alive()) and not self.closed.is_set():
                self.listening.clear()
                self.error = None
                self.listener = threading.Thread(target=self._listen, name="positions", daemon=True)
                self.listener.start()
        return False

    def _listen(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as connection:
                for channel in (CHANNEL, *self.subscribers):
                    connection.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                self._reset()
                self.listening.set()
                while not self.closed.is_set():
                    for notification in connection.notifies(timeout=FALLBACK_SECONDS):
                        if notification.channel == CHANNEL:
                            self.learn({table: int(position)
                                        for table, position in json.loads(notification.payload).items()})
                        for changed in self.subscribers.get(notification.channel, ()):
                            changed(notification.payload)
                    with self.changed:
                        tables = sorted(self.tables) if self.waiting else []
                    if tables:
                        self.learn(self.read(tables))
        except Exception as error:  # the waiters re-raise it; the next wait starts a new listener
            with self.changed:
                self.error = error
                self.changed.notify_all()
        finally:
            self._reset()
            self.listening.set()

    def _reset(self) -> None:
        for reset in self.resets:
            reset()

    def read(self, tables: Sequence[str]) -> dict[str, int]:
        if not tables:
            return {}
        query = SQL(" UNION ALL ").join(
            SQL("SELECT {0} AS name, notification_id FROM {1} WHERE application_name = {2}").format(
                Literal(table), Identifier(table), Literal(APPLICATION_NAME)
            )
            for table in tables
        )
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(query)
            return {row["name"]: int(row["notification_id"]) for row in cursor.fetchall()}

    def close(self) -> None:
        self.closed.set()
        if self.listener is not None:
            self.listener.join(timeout=2)
