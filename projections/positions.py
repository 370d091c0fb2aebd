"""How far each view has read the log, watched for everyone in a process at once.

Requests that ran a command wait until the views their next page reads have applied it. Rather
than each request polling each tracking table, one thread polls all of them in a single query
while anybody is waiting, and wakes the waiters whose positions have been reached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier, Literal

from cookout.projections.base import APPLICATION_NAME

POLL_SECONDS = 0.003


class PositionWatcher:
    def __init__(self, datastore: PostgresDatastore):
        self.datastore = datastore
        self.known: dict[str, int] = {}
        self.tables: set[str] = set()
        self.waiting = 0
        self.changed = threading.Condition()
        self.poller: threading.Thread | None = None
        self.error: Exception | None = None

    def wait(self, tables: Sequence[str], position: int, timeout: float) -> bool:
        """Block until every tracking table has reached `position`, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self.changed:
            self.tables.update(tables)
            if self.reached(tables, position):
                return True
            self.waiting += 1
            try:
                if self.poller is None or not self.poller.is_alive():
                    self.poller = threading.Thread(target=self.poll, name="positions", daemon=True)
                    self.poller.start()
                while not self.reached(tables, position):
                    if self.error is not None:
                        raise self.error
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.changed.wait(remaining)
                return True
            finally:
                self.waiting -= 1

    def reached(self, tables: Sequence[str], position: int) -> bool:
        return all(self.known.get(table, 0) >= position for table in tables)

    def poll(self) -> None:
        try:
            while True:
                with self.changed:
                    if not self.waiting:
                        self.poller = None
                        return
                    tables = sorted(self.tables)
                positions = self.read(tables)
                with self.changed:
                    self.known.update(positions)
                    self.error = None
                    self.changed.notify_all()
                time.sleep(POLL_SECONDS)
        except Exception as error:  # the waiters re-raise it
            with self.changed:
                self.error = error
                self.poller = None
                self.changed.notify_all()

    def read(self, tables: Sequence[str]) -> dict[str, int]:
        query = SQL(" UNION ALL ").join(
            SQL("SELECT {0} AS name, notification_id FROM {1} WHERE application_name = {2}").format(
                Literal(table), Identifier(table), Literal(APPLICATION_NAME)
            )
            for table in tables
        )
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(query)
            return {row["name"]: int(row["notification_id"]) for row in cursor.fetchall()}
