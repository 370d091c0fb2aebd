"""Parked events: the dead letters of the projections runner.

An event that one projection cannot apply (a value its columns cannot hold, a bug in its handler) is
parked for that projection only: a row here, written in the batch's own transaction, and the
projection's position moves past it so the view keeps following the log. Every other projection
applies the event as usual. `cookout projections retry NAME` applies a projection's parked events
again once the cause is fixed, and removes those that now apply.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore

TABLE = "cookout_parked_events"

DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    projection text NOT NULL,
    notification_id bigint NOT NULL,
    topic text NOT NULL,
    error text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, notification_id)
)
"""

PARK = f"""
INSERT INTO {TABLE} (projection, notification_id, topic, error) VALUES (%s, %s, %s, %s)
ON CONFLICT (projection, notification_id) DO UPDATE SET error = EXCLUDED.error, parked_at = now()
"""

RELEASE = f"DELETE FROM {TABLE} WHERE projection = %s AND notification_id = %s"


def describe(error: BaseException) -> str:
    """The error as one line an operator can act on."""
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def park(cursor: Any, projection: str, notification_id: int, topic: str, error: BaseException) -> None:
    cursor.execute(PARK, (projection, notification_id, topic, describe(error)))


def release(cursor: Any, projection: str, notification_id: int) -> None:
    cursor.execute(RELEASE, (projection, notification_id))


class ParkedEvents:
    """Reading the parked events, for the CLI, /healthz and the retry."""

    def __init__(self, datastore: PostgresDatastore):
        self.datastore = datastore

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(DDL)

    def counts(self) -> dict[str, int]:
        """How many events each projection has parked (projections with none are left out)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT projection, count(*) AS parked FROM {TABLE} GROUP BY projection")
            return {row["projection"]: int(row["parked"]) for row in cursor.fetchall()}

    def of(self, projection: str) -> list[dict[str, Any]]:
        """A projection's parked events, in log order."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT * FROM {TABLE} WHERE projection = %s ORDER BY notification_id", (projection,)
            )
            return list(cursor.fetchall())
