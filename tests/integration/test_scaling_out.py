"""Scaling out on real engines: two web processes, two projection runners and two workers, started through
the CLI against one Postgres and one Redis. Mid-traffic the active runner and one worker are killed
(SIGKILL); the standby runner takes over, every view reaches the head of the log, and every letter is
sent exactly once. Runs where the suite runs on Redis (COOKOUT_TEST_BROKER_URL=redis://…), else skips."""

from __future__ import annotations

import email
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest

from cookout.platform import demo
from cookout.platform.container import bootstrap
from cookout.platform.settings import Settings
from cookout.projections.registry import PROJECTIONS
from cookout.projections.runner import lock_key
from tests.conftest import FAST_HASHER

BROKER = os.environ.get("COOKOUT_TEST_BROKER_URL", "")
pytestmark = [pytest.mark.processes, pytest.mark.skipif(
    not BROKER.startswith("redis://"), reason="needs Redis: set COOKOUT_TEST_BROKER_URL=redis://…")]

HOLDER = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND ((l.classid::bigint << 32) | l.objid::bigint) = %s AND l.database = (
    SELECT oid FROM pg_database WHERE datname = current_database())
"""
SIGN_UPS = 12


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def own_broker(url: str) -> str:
    """A Redis database of our own, so no other test's worker (on the default queue) takes our tasks."""
    parts = urlsplit(url)
    current = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(current + 1 + uuid.uuid4().int % 14) % 16}"))


@dataclass
class Tree:
    url: str
    root: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str, data_dir: str | None = None) -> None:
        env = {**self.env, "PGAPPNAME": name, "COOKOUT_DATA_DIR": str(self.root / (data_dir or name))}
        log = (self.root / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", *args], env=env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, *args: str) -> str:
        env = {**self.env, "COOKOUT_DATA_DIR": str(self.root / "cli")}
        done = subprocess.run([sys.executable, "-m", "cookout.platform.cli", *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.root.glob("*.log")))

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()


@contextmanager
def tree(server_url: str, settings: Settings, tmp_path: Path) -> Iterator[Tree]:
    """A fresh database with the demo tribe in it (made here, with a fast password hash, so the processes
    find their tables made), and the processes started on it, all killed at the end."""
    name = f"cookout_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    seeding = bootstrap(settings.model_copy(update={"database_url": url}), hasher=FAST_HASHER)
    demo.seed(seeding)
    seeding.close()
    env = {
        **os.environ, "COOKOUT_DATABASE_URL": url, "COOKOUT_BROKER_URL": own_broker(BROKER),
        "COOKOUT_SMTP_URL": "off", "COOKOUT_SECRET_KEY": "scale-out-test-secret-key",
        "COOKOUT_SIGNUP_RATE_LIMIT_IP": "100000/minute", "COOKOUT_COMMENT_RATE_LIMIT": "100000/minute",
    }
    running = Tree(url, tmp_path, env)
    try:
        yield running
    finally:
        for process in running.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(check, seconds: float, what: str, running: Tree) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s\n{running.logs()}")
        time.sleep(0.1)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def runner_holding(running: Tree) -> str | None:
    rows = running.query(HOLDER, lock_key(PROJECTIONS[0].name))
    return str(rows[0][0]) if rows else None


def behind(running: Tree) -> list[str]:
    head = running.query("SELECT coalesce(max(notification_id), 0) FROM cookout_events")[0][0]
    return [p.name for p in PROJECTIONS
            if running.query(f"SELECT coalesce(max(notification_id), 0) FROM {p.name}_tracking")[0][0] != head]


class Visitor:
    """Someone using the site through one of the web processes, as a browser without JavaScript does."""

    def __init__(self, base: str):
        self.client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.client.get("/")

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(path, data={**data, "_csrf_token": self.client.cookies["csrftoken"]})


def test_two_of_everything_survive_the_active_runner_and_a_worker_being_killed(
    server_url: str, settings: Settings, tmp_path: Path
) -> None:
    with tree(server_url, settings, tmp_path) as running:
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports, 1):
            running.start(f"web-{n}", "web", "--port", str(port))
        running.start("runner-1", "projections", "run")
        wait_until(lambda: runner_holding(running) == "runner-1", 30, "the first runner took the projections",
                   running)
        running.start("runner-2", "projections", "run")
        for n in (1, 2):  # the workers write their .eml files each in their own folder
            running.start(f"worker-{n}", "worker", "--concurrency", "2")
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        wait_until(lambda: all(answers(base) for base in bases), 40, "both web processes answered", running)

        tribe = Visitor(bases[0]).client.get("/t/crazies").text
        post_id = re.search(r'href="/p/([0-9a-f-]{36})"', tribe).group(1)  # type: ignore[union-attr]
        meetups = Visitor(bases[0]).client.get("/t/crazies/meetups").text
        meetup_id = re.search(r'href="/m/([0-9a-f-]{36})"', meetups).group(1)  # type: ignore[union-attr]

        for n in range(SIGN_UPS):
            if n == SIGN_UPS // 2:
                running.kill("runner-1")
                running.kill("worker-1")
            visitor = Visitor(bases[n % 2])
            handle = f"scale{n}{uuid.uuid4().hex[:6]}"
            assert visitor.post("/signup", handle=handle, display_name=f"Visitor {n}", email=f"{handle}@example.org",
                                password="correct horse battery").status_code == 303
            assert visitor.post("/t/crazies/join").status_code == 303
            assert visitor.post(f"/p/{post_id}/comments", body=f"Comment number {n}").status_code == 303
            assert visitor.post(f"/m/{meetup_id}/rsvp", answer="going").status_code in (200, 303)

        wait_until(lambda: runner_holding(running) == "runner-2", 15, "the standby runner took over", running)
        wait_until(lambda: behind(running) == [], 30, "every view reached the head of the log", running)
        # What the killed worker had taken goes back to Redis after the visibility timeout; an operator
        # (or the sweep) hands it over at once.
        running.run("outbox", "retry")

        def all_sent() -> bool:
            return running.query("SELECT count(*) FROM outbox WHERE status <> 'sent'")[0][0] == 0

        wait_until(all_sent, 30, "every letter was sent", running)
        letters = {row[0] for row in running.query("SELECT message_id FROM outbox")}
        sent = Counter(email.message_from_bytes(path.read_bytes())["Message-ID"]
                       for path in tmp_path.glob("worker-*/outbox/*.eml"))
        assert len(letters) > SIGN_UPS * 2
        assert set(sent) == letters
        assert [key for key, times in sent.items() if times > 1] == []
        assert running.processes["runner-2"].poll() is None and running.processes["worker-2"].poll() is None
