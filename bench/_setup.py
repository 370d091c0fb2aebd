"""What the benchmarks share: a database of their own, a container on it, and the machine's description."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from argon2 import PasswordHasher

from cookout.domain.base import acting_as
from cookout.platform.database import embedded_server
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import load_settings

# Benchmarks create members by the hundred; password hashing is not what they measure.
BENCH_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

__all__ = ["acting_as", "bench_container", "bench_database", "machine", "percentile", "projections_paused"]


@contextmanager
def bench_database() -> Iterator[tuple[str, Path]]:
    """A database of our own (on COOKOUT_BENCH_DATABASE_URL's server, or an embedded one) and a temp
    folder, both gone afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cookout-bench-"))
    configured = os.environ.get("COOKOUT_BENCH_DATABASE_URL")
    server = None if configured else embedded_server(folder / "pg", cleanup_mode="delete")
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


@contextmanager
def bench_container(separate_projections: bool = False, **overrides: object) -> Iterator[Container]:
    """A container on a fresh database. With `separate_projections` the projections run in their own
    process, as `cookout serve` and production run them, instead of as threads beside the web server."""
    with bench_database() as (url, folder):
        settings = load_settings(database_url=url, data_dir=folder, secret_key="bench-secret", **overrides)
        container = bootstrap(settings, hasher=BENCH_HASHER)
        follower = None
        try:
            if separate_projections:
                env = {**os.environ, "COOKOUT_DATABASE_URL": url, "COOKOUT_SECRET_KEY": "bench-secret",
                       "COOKOUT_DATA_DIR": str(folder)}
                follower = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", "projections", "run"],
                                            env=env, stdout=subprocess.DEVNULL)
                _followers.append(follower)
            else:
                container.start_projections()
            yield container
        finally:
            if follower is not None:
                _followers.remove(follower)
                follower.send_signal(signal.SIGINT)
                try:
                    follower.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # Not stopped yet (a loaded machine): it must not outlive the database, retrying forever.
                    follower.kill()
                    follower.wait()
            container.close()


_followers: list[subprocess.Popen[bytes]] = []


@contextmanager
def projections_paused() -> Iterator[None]:
    """Stop the projections process (SIGSTOP) for a while, so what runs meanwhile has the machine to itself."""
    for follower in _followers:
        follower.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for follower in _followers:
            follower.send_signal(signal.SIGCONT)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {date.today().isoformat()}")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
