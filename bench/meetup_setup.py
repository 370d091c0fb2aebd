"""What the meetup benchmarks share: a fresh database (COOKOUT_BENCH_DATABASE_URL's server, or an
embedded one in a temp dir), cheap password hashing for the many members they create, and the machine."""

from __future__ import annotations

import os
import platform
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from argon2 import PasswordHasher

from cookout.domain import members
from cookout.platform.database import embedded_server

# Members are created by the thousand; their password hashing is not what is measured.
members._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@contextmanager
def bench_database() -> Iterator[tuple[str, Path]]:
    """A database URL of our own and a temp folder, both gone afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cookout-meetup-bench-"))
    configured = os.environ.get("COOKOUT_BENCH_DATABASE_URL")
    server = None if configured else embedded_server(folder / "pg")
    server_url = configured or server.get_uri("postgres")
    name = f"cookout_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")), folder
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, {date.today()}"
