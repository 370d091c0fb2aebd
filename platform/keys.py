"""Each person's key for their data in the log, kept in Postgres beside it but outside it.

The event log seals a person's handle, name and addresses with their own key (domain/personal.py);
deleting the row here is what erases them. A process keeps the keys it used for a minute, so reading
a busy log asks the table once per person, and a key deleted elsewhere is forgotten within that time.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore

TABLE = "cookout_personal_keys"
KEEP_SECONDS = 60.0

DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    subject uuid PRIMARY KEY,
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


class PostgresKeys:
    def __init__(self, datastore: PostgresDatastore, keep_seconds: float = KEEP_SECONDS):
        self.datastore = datastore
        self.keep_seconds = keep_seconds
        self.known: dict[UUID, tuple[bytes | None, float]] = {}
        self.lock = threading.Lock()

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(DDL)

    def key_of(self, subject: UUID, create: bool = False) -> bytes | None:
        with self.lock:
            known = self.known.get(subject)
        if known is not None and time.monotonic() - known[1] < self.keep_seconds and (known[0] or not create):
            return known[0]
        key = self._made(subject) if create else self._stored(subject)
        with self.lock:
            self.known[subject] = (key, time.monotonic())
        return key

    def shred(self, subject: UUID) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE subject = %s", (subject,))
        with self.lock:
            self.known[subject] = (None, time.monotonic())

    def _stored(self, subject: UUID) -> bytes | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT key FROM {TABLE} WHERE subject = %s", (subject,))
            row: Any = cursor.fetchone()
        return bytes(row["key"]) if row else None

    def _made(self, subject: UUID) -> bytes:
        """The subject's key, made now if they have none; two processes making one at once agree on the first."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (subject, key) VALUES (%s, %s) ON CONFLICT (subject) DO NOTHING",
                (subject, AESGCM.generate_key(bit_length=256)),
            )
            cursor.execute(f"SELECT key FROM {TABLE} WHERE subject = %s", (subject,))
            row: Any = cursor.fetchone()
        return bytes(row["key"])
