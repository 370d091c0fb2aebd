"""Postgres restarts under a running site (each part its own process, as in production): nothing exits,
/readyz says the database is away while it is, and the site catches up once it is back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pgserver
import pytest

from cookout.platform.container import bootstrap
from cookout.platform.settings import load_settings
from tests.conftest import FAST_HASHER
from tests.conversation_helpers import comment, new_member, new_post, new_tribe
from tests.e2e.test_serve import free_port

T = TypeVar("T")
PARTS = ("web", "projections", "worker", "beat", "inbound")


@pytest.fixture
def throwaway_postgres() -> Iterator[Any]:
    """A Postgres of this test's own, which it may stop and start: not the suite's shared server. Outside
    pytest's tmp folder, which each new pytest session closes to other users (Postgres runs as one)."""
    home = Path(tempfile.mkdtemp(prefix="cookout-restart-"))
    home.chmod(0o755)
    server = pgserver.get_server(home / "pg", cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


def pg_ctl(server: Any, *args: str) -> None:
    # `restart` starts a stopped server with the options it last ran with (its socket directory).
    pgserver.pg_ctl(["-w", "-m", "fast", *args], pgdata=server.pgdata, user=server.system_user, timeout=60)


def eventually(look: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = look()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def readiness(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)
    except OSError as error:
        return {"status": "no answer", "problems": [str(error)]}


def page(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.read().decode()
    except OSError:
        return None


def test_every_process_rides_out_a_postgres_restart_and_the_views_and_mail_catch_up(
    tmp_path: Path, throwaway_postgres: Any,
) -> None:
    url = throwaway_postgres.get_uri("postgres")
    data = tmp_path / "var"
    port, inbound_port = free_port(), free_port()
    settings = load_settings(database_url=url, data_dir=data, smtp_url="off")
    site = bootstrap(settings, hasher=FAST_HASHER)
    try:
        author = new_member(site, "Post Author")
        tribe_id, _ = new_tribe(site, author)
        post_id = new_post(site, author, tribe_id)
        commenter = new_member(site, "Late Commenter")
    finally:
        site.close()

    env = {key: value for key, value in os.environ.items() if not key.startswith("COOKOUT_")}
    env.update(COOKOUT_DATABASE_URL=url, COOKOUT_SMTP_URL="off", COOKOUT_DATA_DIR=str(data),
               COOKOUT_SECRET_KEY="restart-test-secret", COOKOUT_INBOUND_URL=f"smtp://127.0.0.1:{inbound_port}")
    me = [sys.executable, "-m", "cookout.platform.cli"]
    commands = {"web": ["web", "--port", str(port)], "projections": ["projections", "run"],
                "worker": ["worker", "--concurrency", "2"], "beat": ["beat"], "inbound": ["inbound"]}
    logs = {name: tmp_path / f"{name}.log" for name in PARTS}
    parts = {}
    for name in PARTS:
        with logs[name].open("w") as log:
            parts[name] = subprocess.Popen([*me, *commands[name]], cwd=tmp_path, env=env, stdout=log,
                                           stderr=subprocess.STDOUT)

    def exited() -> dict[str, str]:
        return {name: logs[name].read_text()[-3000:] for name, part in parts.items() if part.poll() is not None}

    try:
        eventually(lambda: readiness(port)["status"] == "ready", "the site becoming ready")

        pg_ctl(throwaway_postgres, "stop")
        away = eventually(lambda: (ready := readiness(port))["status"] == "not ready" and ready, "/readyz saying so")
        assert away["problems"][0].startswith("database unreachable"), away
        eventually(lambda: "lost the database" in logs["projections"].read_text(), "the runner noticing")
        assert exited() == {}

        pg_ctl(throwaway_postgres, "restart")
        eventually(lambda: readiness(port)["status"] == "ready", "the site becoming ready again")
        after = bootstrap(settings, hasher=FAST_HASHER)
        try:
            comment_id = comment(after, commenter, post_id, "Written after the restart")
        finally:
            after.close()
        eventually(lambda: "Written after the restart" in (page(port, f"/p/{post_id}") or ""),
                   "the comment reaching the thread page")
        eventually(lambda: list((data / "outbox").glob(f"conversation_{comment_id}_*.eml")),
                   "the reply mail to the post's author going out")
        assert exited() == {}
    finally:
        for part in parts.values():
            part.terminate()
        for part in parts.values():
            try:
                part.wait(timeout=60)
            except subprocess.TimeoutExpired:
                part.kill()
