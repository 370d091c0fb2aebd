"""What both conversation benchmarks share: a database of their own, a runtime, and a thread to fill."""

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

from cookout.domain.base import current_actor
from cookout.platform.database import embedded_server
from cookout.platform.runtime import Runtime
from cookout.platform.settings import load_settings


@contextmanager
def bench_runtime(separate_projections: bool = False, **overrides: object) -> Iterator[Runtime]:
    """A runtime on a fresh database (COOKOUT_BENCH_DATABASE_URL's server, or an embedded one), dropped after.

    With `separate_projections` the projections run in their own process, as `cookout serve` and
    production run them, instead of as threads beside the web server."""
    folder = Path(tempfile.mkdtemp(prefix="cookout-bench-"))
    configured = os.environ.get("COOKOUT_BENCH_DATABASE_URL")
    server = None if configured else embedded_server(folder / "pg")
    server_url = configured or server.get_uri("postgres")
    name = f"cookout_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    settings = load_settings(database_url=url, data_dir=folder, secret_key="bench-secret", **overrides)
    runtime = Runtime(settings)
    follower = None
    try:
        runtime.prepare()
        if separate_projections:
            env = {**os.environ, "COOKOUT_DATABASE_URL": url, "COOKOUT_SECRET_KEY": "bench-secret",
                   "COOKOUT_DATA_DIR": str(folder)}
            follower = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", "projections", "run"],
                                        env=env, stdout=subprocess.DEVNULL)
        else:
            runtime.start_projections()
        yield runtime
    finally:
        if follower is not None:
            follower.send_signal(signal.SIGINT)
            follower.wait(timeout=30)
        runtime.close()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()


@contextmanager
def acting_as(member_id: object) -> Iterator[None]:
    token = current_actor.set(str(member_id))
    try:
        yield
    finally:
        current_actor.reset(token)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {date.today().isoformat()}"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
