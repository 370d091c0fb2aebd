"""Where Cookout's data lives: a Postgres URL, and the embedded server behind it when none is configured;
and the turnstile that queues commands on one meetup across every process."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import fasteners
import psutil
import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import Environment
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from psycopg.conninfo import conninfo_to_dict
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from cookout.domain.service import ThreadTurnstile
from cookout.platform.settings import ConfigurationError, Settings

with warnings.catch_warnings():
    # pgserver asks for a user runtime dir at import; servers and CI rarely have one, and it copes.
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver.postgres_server import PostgresServer

EMBEDDED_DBNAME = "cookout"
POOL_IDLE_SECONDS = 30.0


class ThriftyPools(PostgresFactory):
    """eventsourcing's Postgres persistence, with pools that close a connection beyond their one at rest
    once it has been idle for half a minute, rather than ten (psycopg_pool's default): a pool grows while a
    process is busy, and a process at rest holds one connection per pool. The sizes are in `eventsourcing_env`."""

    def __init__(self, env: Environment):
        super().__init__(env)
        self.datastore.pool.max_idle = POOL_IDLE_SECONDS  # before the pool opens, as if given to its constructor
HANDLES = ".handle_pids.json"  # pgserver's list of the processes using the server; the last one out stops it


def embedded_server(data_path: Path, cleanup_mode: str = "stop"):
    """Start (or join) the embedded PostgreSQL under data_path/pgdata, listening on a Unix socket only.

    The server stops when the last process holding it exits. A process killed before it could let go
    (`kill -9` of `cookout serve`) stays on pgserver's list and would keep every later one from
    stopping the server: the dead are taken off the list first.
    """
    data_path.mkdir(parents=True, exist_ok=True)
    forget_dead_holders(data_path / "pgdata")
    return pgserver.get_server(data_path / "pgdata", cleanup_mode=cleanup_mode)


def forget_dead_holders(pgdata: Path) -> list[int]:
    """Take the processes that no longer run off the embedded server's list of holders; returns them."""
    handles = pgdata / HANDLES
    if not handles.exists():
        return []
    # pgserver's own lock (a file lock), so a process joining the server meanwhile is not lost.
    with fasteners.InterProcessLock(PostgresServer.lock_path):
        holders = json.loads(handles.read_text() or "[]")
        dead = [pid for pid in holders if not psutil.pid_exists(pid)]
        if dead:
            handles.write_text(json.dumps([pid for pid in holders if pid not in dead]))
    return dead


def embedded_url(server) -> str:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DBNAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DBNAME};")
    return server.get_uri(EMBEDDED_DBNAME)


def database_url(settings: Settings, holders: list[object] | None = None) -> str:
    """The URL to use; in embedded mode starts the server and appends its handle to `holders`
    so the caller keeps it alive for as long as it needs the database."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings.data_path)
    if holders is not None:
        holders.append(server)
    return embedded_url(server)


def wait_until_reachable(url: str, attempts: int = 6, delay: float = 0.5) -> None:
    """Bounded retry, so a database that is still starting is waited for, and a wrong URL is not."""
    try:
        for attempt in Retrying(retry=retry_if_exception_type(psycopg.Error), stop=stop_after_attempt(attempts),
                                wait=wait_fixed(delay)):
            with attempt, psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
    except RetryError as error:
        last = error.last_attempt.exception()
        reason = str(last).strip().splitlines()[0] if last else "no answer"
        raise ConfigurationError(f"COOKOUT_DATABASE_URL cannot be reached after {attempts} tries: {reason}") from None


class DatabaseAway(psycopg.OperationalError):
    """Postgres does not answer: it is restarting, or unreachable. Raised at once, not retried in place
    (eventsourcing's recorders retry their own OperationalError ten times, each waiting seconds for the
    pool, which kept a POST hanging for most of a minute): a page answers 503, a long-running process
    backs off and reconnects."""


AWAY_SECONDS = 2.0  # after Postgres did not answer, how long calls only probe instead of waiting for the pool
PROBE_TIMEOUT = 1  # seconds a fresh connection gets to prove the database is there


class FailFastDatastore(PostgresDatastore):
    """eventsourcing's datastore, which tells a lost database from a lost connection. When a connection
    fails, a fresh one is tried (a single, quick probe): if it connects, only the old connection was
    stale, and the library retries as usual; if not, the database is away, and for AWAY_SECONDS every
    call asks only that probe (no wait for the pool) and fails at once with DatabaseAway unless it is back."""

    away_until = 0.0

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        if time.monotonic() < self.away_until:
            if not self.answers():
                raise DatabaseAway("the database is unreachable")
            self.away_until = 0.0  # back: to the pool again
        try:
            with super().get_connection() as connection:
                yield connection
        except (persistence.OperationalError, persistence.InterfaceError) as error:
            if self.answers():
                # Back, or never gone: this connection was stale, and its idle siblings may be too.
                self.pool.check()
                raise
            self.away_until = time.monotonic() + AWAY_SECONDS
            raise DatabaseAway(str(error)) from error

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.pool.conninfo, **{**(self.pool.kwargs or {}), "connect_timeout": PROBE_TIMEOUT}):
                return True
        except psycopg.Error:
            return False


class CookoutPostgres(ThriftyPools):
    """The eventsourcing library's Postgres persistence, with thrifty pools, on the fail-fast datastore."""

    def __init__(self, env: Any):
        super().__init__(env)
        # The library builds its datastore itself; this one differs only in get_connection.
        self.datastore.__class__ = FailFastDatastore


def eventsourcing_env(url: str) -> dict[str, str]:
    """The eventsourcing library's settings for the Postgres behind `url`."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise ConfigurationError(f"COOKOUT_DATABASE_URL cannot be parsed: {error}") from None
    return {
        "PERSISTENCE_MODULE": "cookout.platform.database:CookoutPostgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or params.get("user") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # No ping before every query (a round trip each): a connection that went stale is retried instead.
        "POSTGRES_PRE_PING": "n",
        "CREATE_TABLE": "y",
        # Each pool keeps one connection while idle and opens more only while busy (up to ten): a whole
        # `cookout serve` tree rests on about a dozen connections.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "9",
    }


TURNSTILE_LOCKS = 2_026_120_201  # the first key of the advisory locks the turnstile takes, one per meetup


class AdvisoryTurnstile:
    """One command at a time per key in every process on the database: the threads of this process queue
    on a lock of their own (holding no connection while they wait), the one at the front then takes a
    Postgres advisory lock on the key, so one command per process waits for the others'."""

    def __init__(self, datastore: Any):
        self.datastore = datastore
        self.threads = ThreadTurnstile()

    @contextmanager
    def one_at_a_time(self, key: UUID) -> Iterator[None]:
        lock = (TURNSTILE_LOCKS, (key.int & 0xFFFFFFFF) - 2**31)  # the second key is an int4
        with self.threads.one_at_a_time(key), self.datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s, %s)", lock)
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s, %s)", lock)
