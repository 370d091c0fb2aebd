"""Where Cookout's data lives: a Postgres URL, and the embedded server behind it when none is configured;
and the turnstile that queues commands on one meetup across every process."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Environment
from eventsourcing.postgres import PostgresFactory
from psycopg.conninfo import conninfo_to_dict

from cookout.domain.service import ThreadTurnstile
from cookout.platform.settings import ConfigurationError, Settings

with warnings.catch_warnings():
    # pgserver asks for a user runtime dir at import; servers and CI rarely have one, and it copes.
    warnings.simplefilter("ignore")
    import pgserver

EMBEDDED_DBNAME = "cookout"
POOL_IDLE_SECONDS = 30.0


class ThriftyPools(PostgresFactory):
    """eventsourcing's Postgres persistence, with pools that close a connection beyond their one at rest
    once it has been idle for half a minute, rather than ten (psycopg_pool's default): a pool grows while a
    process is busy, and a process at rest holds one connection per pool. The sizes are in `eventsourcing_env`."""

    def __init__(self, env: Environment):
        super().__init__(env)
        self.datastore.pool.max_idle = POOL_IDLE_SECONDS  # before the pool opens, as if given to its constructor


def embedded_server(data_path: Path, cleanup_mode: str = "stop"):
    """Start (or join) the embedded PostgreSQL under data_path/pgdata, listening on a Unix socket only.

    The server stops when the last process holding it exits.
    """
    data_path.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_path / "pgdata", cleanup_mode=cleanup_mode)


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
    last_error: Exception | None = None
    for _ in range(attempts):
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error as error:
            last_error = error
            time.sleep(delay)
    reason = str(last_error).strip().splitlines()[0] if last_error else "no answer"
    raise ConfigurationError(f"COOKOUT_DATABASE_URL cannot be reached after {attempts} tries: {reason}")


def eventsourcing_env(url: str) -> dict[str, str]:
    """The eventsourcing library's settings for the Postgres behind `url`."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise ConfigurationError(f"COOKOUT_DATABASE_URL cannot be parsed: {error}") from None
    return {
        "PERSISTENCE_MODULE": f"{__name__}:{ThriftyPools.__name__}",
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
