"""How fast 1,000 invitations leave: from the organiser's click (the invite POST) until a local SMTP
sink has accepted the last message, with one and with two worker processes, against a bare loop that
builds the same messages and sends them with smtplib.

    python bench/invitations.py   (COOKOUT_BENCH_DATABASE_URL and COOKOUT_BENCH_BROKER_URL optional)
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BENCH_HASHER, bench_database, machine  # noqa: E402

INVITEES = int(os.environ.get("BENCH_INVITEES", "1000"))
THREADS_PER_WORKER = 4


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def main() -> None:
    from aiosmtpd.controller import Controller

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with bench_database() as (url, folder):
        os.environ.update({
            "COOKOUT_DATABASE_URL": url, "COOKOUT_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "COOKOUT_DATA_DIR": str(folder / "data"), "COOKOUT_SECRET_KEY": "bench-secret",
        })
        if os.environ.get("COOKOUT_BENCH_BROKER_URL"):
            os.environ["COOKOUT_BROKER_URL"] = os.environ["COOKOUT_BENCH_BROKER_URL"]
        run(url, sink, port)
    controller.stop()


def run(url: str, sink: Sink, port: int) -> None:
    from litestar.testing import TestClient

    from cookout.domain.base import current_actor
    from cookout.domain.community import Tribes
    from cookout.platform.web.app import create_app
    from cookout.platform.container import bootstrap
    from cookout.platform.settings import load_settings
    from cookout.projections.invitations import Invitations
    from cookout.workers.app import CookoutCelery
    from cookout.platform.letters import compose

    settings = load_settings()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    tasks = CookoutCelery(settings, queue=queue)
    # Password hashing is not what this measures.
    container = bootstrap(settings, enqueue=tasks.enqueue, hasher=BENCH_HASHER)
    container.start_projections()

    organiser = container.accounts.sign_up("organiser", "Olga", "olga@example.org", "correct horse battery")
    token = current_actor.set(str(organiser))
    tribe_id = container.service(Tribes).found_tribe("Bench", "bench-tribe")
    current_actor.reset(token)
    for n in range(INVITEES):
        member = container.accounts.sign_up(f"p{n:05d}", f"Person {n}", f"p{n:05d}@example.org", "correct horse battery")
        token = current_actor.set(str(member))
        container.service(Tribes).join_tribe(tribe_id)
        current_actor.reset(token)
    container.wait_for(container.log_position(), timeout=600)
    # The welcome letters are not part of this measurement.
    container.outbox.rows("UPDATE outbox SET status = 'sent' WHERE kind = 'welcome' RETURNING key")

    app = create_app(settings, container)
    results: dict[int, float] = {}
    with TestClient(app=app, base_url="http://bench.local") as client:
        client.get("/")
        client.post("/login", data={"login": "organiser", "password": "correct horse battery",
                                    "_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False)
        for workers in (1, 2):
            before = sink.count
            response = client.post("/t/bench-tribe/meetups", follow_redirects=False, data={
                "title": f"Bench {workers}", "description": "", "timezone": "UTC",
                "starts_at": time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 86400)),
                "ends_at": time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 86400 + 7200)),
                "venue": "Hall", "address": "Main St", "online_url": "", "capacity": "", "rsvp_deadline": "",
                "_csrf_token": client.cookies["csrftoken"]})
            meetup = response.headers["location"]
            processes = [subprocess.Popen(
                [sys.executable, "-m", "cookout.platform.cli", "worker", f"--concurrency={THREADS_PER_WORKER}",
                 "--queue", queue],
                env=os.environ.copy(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for n in range(workers)]
            time.sleep(3)  # let the workers connect before the clock starts
            clicked = time.monotonic()
            invited = client.post(f"{meetup}/invite", data={"everyone": "on", "_csrf_token": client.cookies["csrftoken"]},
                                  follow_redirects=False)
            answered = time.monotonic() - clicked
            assert invited.status_code == 303, invited.text
            assert wait_until(lambda: sink.count - before >= INVITEES, 900), "not every invitation arrived"
            results[workers] = time.monotonic() - clicked
            print(f"{workers} worker(s): invite POST answered in {answered * 1000:.0f} ms; "
                  f"{INVITEES} invitations accepted by SMTP in {results[workers]:.2f} s "
                  f"({INVITEES / results[workers]:.0f}/s)", flush=True)
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)

    letters = container.view(Invitations).rows(
        "SELECT * FROM outbox WHERE kind = 'meetup_invitation' ORDER BY key LIMIT %(n)s", {"n": INVITEES})
    started = time.monotonic()
    for letter in letters:
        message = compose(letter, settings)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client_smtp:
            client_smtp.send_message(message)
    bare = time.monotonic() - started
    print(f"bare loop (build + smtplib, one process): {INVITEES} in {bare:.2f} s ({INVITEES / bare:.0f}/s)")
    for workers, elapsed in results.items():
        per_worker = (INVITEES / elapsed) / workers / (INVITEES / bare)
        print(f"{workers} worker(s): {per_worker:.2f} of the bare loop's rate per worker")
    print(f"machine: {machine()}")
    container.close()


if __name__ == "__main__":
    main()
