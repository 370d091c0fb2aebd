"""`cookout serve` on the embedded defaults: starts everything, answers, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg

from cookout.platform import demo


def ignore_sigint() -> None:
    """As a CI script's background job starts it: SIGINT ignored, which Ctrl-C must still override."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_runs_the_whole_tree_on_embedded_defaults_and_stops_on_ctrl_c(tree_dir: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOKOUT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cookout.platform.cli", "serve", "--demo", "--port", str(port)],
        cwd=tree_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=ignore_sigint,
    )
    try:
        health = None
        deadline = time.monotonic() + 180  # the demo's argon2 sign-ups are slow on a loaded machine
        while time.monotonic() < deadline and health is None:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.load(response)
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert health is not None and health["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/members/amara", timeout=5) as response:
            assert "Amara Okafor" in response.read().decode()
        assert (tree_dir / "var" / "pgdata").is_dir()
        # The welcome letters reach the outbox through the projections process and the worker.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list((tree_dir / "var" / "outbox").glob("welcome_*.eml"))) < 5:
            time.sleep(0.5)
        welcomes = list((tree_dir / "var" / "outbox").glob("welcome_*.eml"))
        assert len(welcomes) == 5
        # Links point where this server listens, not at the default port 8000.
        assert f"http://127.0.0.1:{port}/members/" in welcomes[0].read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/t/{demo.TRIBE_SLUG}/calendar.ics", timeout=5) as response:
            assert f"http://127.0.0.1:{port}/m/" in response.read().decode().replace("\r\n ", "")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert f"Cookout is running on http://127.0.0.1:{port}" in output
    assert f"http://127.0.0.1:{port}/dev/outbox" in output
    assert "Cookout stopped." in output
    assert left_running_in(tree_dir) == []


def start_serve(directory: Path, port: int, output: Path) -> subprocess.Popen[str]:
    """Its output to a file: a pipe nobody reads while it runs fills up and blocks the tree (and the
    children of a killed one would hold it open)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOKOUT_")}
    with output.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cookout.platform.cli", "serve", "--port", str(port)],
            cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, preexec_fn=ignore_sigint,
        )


def wait_until_ready(process: subprocess.Popen[str], port: int, output: Path, timeout: float = 120) -> dict[str, object]:
    """/readyz from loopback: the database answers and every projection is run by the tree (it holds
    the projection's advisory lock)."""
    deadline = time.monotonic() + timeout
    ready: dict[str, object] = {}
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            ready = json.load(error)
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not ready in {timeout} s: {ready}\n{output.read_text()}")


def test_a_killed_serve_takes_its_children_along_and_the_next_serve_clears_what_it_left(
    tree_dir: Path, tmp_path: Path,
) -> None:
    port = free_port()
    logs = tmp_path  # pytest's folder: the tree's own is shared with Postgres's user
    first = start_serve(tree_dir, port, logs / "first.log")
    try:
        wait_until_ready(first, port, logs / "first.log")
        children = psutil.Process(first.pid).children(recursive=True)
        assert len(children) >= 4  # web, projections, worker, beat
        first.kill()  # SIGKILL: no handler runs, nothing is stopped in order
        first.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=30)
        assert [" ".join(child.cmdline()) for child in alive] == []
    finally:
        if first.poll() is None:
            first.kill()
    second = start_serve(tree_dir, port, logs / "second.log")
    try:
        assert wait_until_ready(second, port, logs / "second.log")["status"] == "ready"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=120)
    output = (logs / "second.log").read_text()
    assert second.returncode == 0, output
    assert "Cookout stopped." in output
    assert left_running_in(tree_dir) == []  # the embedded Postgres too


def left_running_in(directory: Path) -> list[str]:
    """Processes of the tree (children, grandchildren, the database) still running in its directory."""
    left = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        if process.info["cwd"] and Path(process.info["cwd"]).is_relative_to(directory):
            left.append(" ".join(process.info["cmdline"] or []))
    return left


AT_REST = 12  # Postgres connections the whole embedded tree may hold while nobody uses it


def test_the_embedded_tree_holds_at_most_a_dozen_database_connections_at_rest(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOKOUT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cookout.platform.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                    if json.load(response)["status"] == "ready":
                        break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
        # Every part has started and done its first work (the welcome letters are sent); then it rests.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((tmp_path / "var" / "outbox").glob("welcome_*.eml"))) < 5:
            time.sleep(0.5)
        # Connections a pool opened while busy close after half a minute idle; then the tree is at rest.
        deadline = time.monotonic() + 180
        while client_connections(tmp_path / "var" / "pgdata") > AT_REST and time.monotonic() < deadline:
            time.sleep(1)
        assert client_connections(tmp_path / "var" / "pgdata") <= AT_REST, by_part(tmp_path / "var" / "pgdata")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)


def client_connections(pgdata: Path) -> int:
    """Client connections to the embedded server other than this one."""
    with psycopg.connect(host=str(pgdata), dbname="postgres", user="postgres") as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(found[0])


def by_part(pgdata: Path) -> dict[str, int]:
    """Client connections by the part of the tree holding them (each names itself in application_name)."""
    with psycopg.connect(host=str(pgdata), dbname="postgres", user="postgres") as connection:
        found = connection.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid <> pg_backend_pid() GROUP BY application_name ORDER BY application_name"
        ).fetchall()
    return {name: int(count) for name, count in found}
