"""Celery beat that runs in one process at a time: a scheduler that sends nothing unless it holds a
Postgres advisory lock. A second beat (a `worker --beat` left behind by a killed parent, a standby on
another host) waits, and takes over within seconds once the holder's connection is gone."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from celery.beat import Scheduler

from cookout.platform.database import database_url

log = logging.getLogger(__name__)

BEAT_LOCK = 2_026_120_105  # pg_advisory_lock key of the one running scheduler
STANDBY_SECONDS = 5.0  # how often a waiting beat asks for the lock, and the holder checks it still holds it
CONNECT_TIMEOUT = 5


class OneBeat(Scheduler):
    """The schedule in memory (no shelve file two beats could both write): after a restart each entry
    waits one interval, which the idempotent sweeps don't mind."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock: psycopg.Connection[Any] | None = None
        self._holders: list[object] = []
        self._standing_by = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.holds_lock():
            return STANDBY_SECONDS
        return min(super().tick(*args, **kwargs), STANDBY_SECONDS)

    def holds_lock(self) -> bool:
        try:
            if self._lock is not None:
                self._lock.execute("SELECT 1")  # still connected, so still holding it
                return True
            url = database_url(self.app.settings, self._holders)
            connection = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            if connection.execute("SELECT pg_try_advisory_lock(%s)", (BEAT_LOCK,)).fetchone()[0]:
                self._lock, self._standing_by = connection, False
                log.info("beat: holding the scheduler lock; sending the periodic tasks")
                return True
            connection.close()
            if not self._standing_by:
                log.info("beat: another scheduler holds the lock; standing by")
                self._standing_by = True
        except psycopg.Error as error:  # the database is away: whoever holds the lock after it is back runs
            log.warning("beat: cannot reach the database for the scheduler lock (%s)", error)
            self.release()
        return False

    def release(self) -> None:
        if self._lock is not None:
            try:
                self._lock.close()
            except psycopg.Error:
                pass
            self._lock = None

    def close(self) -> None:
        self.release()
        super().close()
