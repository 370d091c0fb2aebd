"""Recovery times, with each part of Cookout its own process as in production:

1. Postgres restarts (`pg_ctl restart -m fast` of a server of our own): from the moment it accepts
   connections again until the first good page (a thread page, 200, with its post) and until /readyz
   is ready (every projection followed again).
2. The SMTP server refuses (451) for BENCH_OUTAGE_SECONDS while a mailing is written: from the end of
   the outage until the sink has accepted every letter, on the workers' own backoff.

    python bench/recovery.py   (BENCH_OUTAGE_SECONDS, default 60; BENCH_RESTARTS, default 3;
                                BENCH_MEMBERS, default 50: two letters each; BENCH_ONLY=restart or smtp)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pgserver

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BENCH_HASHER, acting_as, machine  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.domain.threads import Threads  # noqa: E402
from cookout.platform.container import bootstrap  # noqa: E402
from cookout.platform.settings import load_settings  # noqa: E402

OUTAGE_SECONDS = float(os.environ.get("BENCH_OUTAGE_SECONDS", "60"))
RESTARTS = int(os.environ.get("BENCH_RESTARTS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "")
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "50"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def own_postgres() -> Iterator[Any]:
    home = Path(tempfile.mkdtemp(prefix="cookout-bench-recovery-"))
    home.chmod(0o755)
    server = pgserver.get_server(home / "pg", cleanup_mode="delete")
    try:
        yield server, home
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def parts(home: Path, url: str, names: dict[str, list[str]], **env: str) -> Iterator[None]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("COOKOUT_")}
    environment.update(COOKOUT_DATABASE_URL=url, COOKOUT_DATA_DIR=str(home / "var"),
                       COOKOUT_SECRET_KEY="bench-secret", **env)
    started = []
    for name, command in names.items():
        with (home / f"{name}.log").open("w") as log:
            started.append(subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", *command],
                                            env=environment, stdout=log, stderr=subprocess.STDOUT))
    try:
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def until(look: Callable[[], bool], timeout: float = 600, every: float = 0.05) -> float:
    start = time.monotonic()
    while not look():
        if time.monotonic() - start > timeout:
            raise RuntimeError("gave up waiting")
        time.sleep(every)
    return time.monotonic() - start


def status(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def database_restart() -> list[tuple[float, float]]:
    with own_postgres() as (server, home):
        url = server.get_uri("postgres")
        settings = load_settings(database_url=url, data_dir=home / "var", smtp_url="off", secret_key="bench-secret")
        site = bootstrap(settings, hasher=BENCH_HASHER)
        try:
            author = site.accounts.sign_up("author", "Post Author", "author@example.org", "correct horse battery")
            with acting_as(author):
                tribe = site.service(Tribes).found_tribe("Bench", "bench", "A tribe.", "benchers", "public")
                post = site.service(Threads).publish_post(tribe, "Still here after a restart", "Body.")
        finally:
            site.close()
        port = free_port()
        timings = []
        with parts(home, url, {"web": ["web", "--port", str(port)], "projections": ["projections", "run"]},
                   COOKOUT_SMTP_URL="off"):
            until(lambda: status(port, "/readyz")[0] == 200)
            for _ in range(RESTARTS):
                pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user,
                                timeout=60)
                back = time.monotonic()
                until(lambda: (answer := status(port, f"/p/{post}"))[0] == 200
                      and "Still here after a restart" in answer[1])
                page = time.monotonic() - back
                until(lambda: status(port, "/readyz")[0] == 200)
                timings.append((page, time.monotonic() - back))
                time.sleep(5)
    return timings


class RefusingSink:
    """An SMTP sink that answers 451 to every recipient while `refusing`, and counts what it accepted."""

    def __init__(self) -> None:
        self.refusing = True
        self.accepted: set[str] = set()
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.refusing:
            with self.lock:
                self.refused += 1
            return "451 4.3.0 Mail server busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.lower().startswith("message-id:"):
                with self.lock:
                    self.accepted.add(line.split(":", 1)[1].strip())
                break
        return "250 OK"


def smtp_outage() -> tuple[int, float, int]:
    from aiosmtpd.controller import Controller

    sink = RefusingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with own_postgres() as (server, home):
            url = server.get_uri("postgres")
            smtp = f"smtp://127.0.0.1:{port}"
            settings = load_settings(database_url=url, data_dir=home / "var", smtp_url=smtp, secret_key="bench-secret")
            site = bootstrap(settings, hasher=BENCH_HASHER)
            with parts(home, url, {"projections": ["projections", "run"], "worker": ["worker", "--concurrency", "4"],
                                   "beat": ["beat"]}, COOKOUT_SMTP_URL=smtp):
                started = time.monotonic()
                for n in range(MEMBERS):  # each gets a welcome and a confirmation letter
                    site.accounts.sign_up(f"member{n}", f"Member {n}", f"member{n}@example.org", "correct horse battery")
                letters = 2 * MEMBERS
                time.sleep(max(OUTAGE_SECONDS - (time.monotonic() - started), 0))
                sink.refusing = False
                site.close()
                recovered = until(lambda: len(sink.accepted) >= letters, timeout=4 * 3600, every=0.5)
    finally:
        controller.stop()
    return letters, recovered, sink.refused


def main() -> None:
    print(machine())
    if ONLY != "smtp":
        print(f"Database restarts ({RESTARTS}), web and projections running:")
        for page, ready in database_restart():
            print(f"  back -> first good page {page:.2f} s, -> /readyz ready {ready:.2f} s")
    if ONLY == "restart":
        return
    letters, recovered, refused = smtp_outage()
    print(f"SMTP refusing (451) for {OUTAGE_SECONDS:.0f} s while {letters} letters were written: {refused} refusals;"
          f" all delivered {recovered:.1f} s after the outage ended")
    print(json.dumps({"outage_seconds": OUTAGE_SECONDS, "letters": letters, "recovered_seconds": round(recovered, 1)}))


if __name__ == "__main__":
    main()
