"""A registration rush over HTTP: 1,000 members answer "going" to a meetup of 100 seats from 64 clients,
against the same clients posting one comment per member in the same tribe. Target: every answer recorded
(no 409), exactly 100 going, the waitlist in the order the answers were recorded, and at least 0.5 of
the comment rate.

The members are made by `big_tribe.grow_tribe` and sign in over HTTP before the clock starts. Each client
holds one keep-alive connection and posts as a browser without JavaScript for its share of the members;
an RSVP answers once the meetup view shows it (read-your-writes), a comment once it is saved; the clock
stops when every view has caught up. `cookout web` runs in its own process, the projections in another.
Rush and comments alternate over a few rounds (a new meetup and post each), with the medians reported.

    python bench/rsvp_throughput.py   (BENCH_MEMBERS=1000 BENCH_ROUNDS=2 BENCH_WORKERS=1;
                                       COOKOUT_BENCH_DATABASE_URL optional)
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import acting_as, bench_container, machine  # noqa: E402
from big_tribe import PASSWORD, grow_tribe  # noqa: E402

from cookout.domain.meetups import Meetup  # noqa: E402
from cookout.platform.container import Container  # noqa: E402
from cookout.projections.meetups import Meetups  # noqa: E402

CLIENTS = 64
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
CAPACITY = 100
UNLIMITED = "1000000/minute"


def serve(container: Container, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = container.settings
    env = {**os.environ, "COOKOUT_DATABASE_URL": container.url, "COOKOUT_SECRET_KEY": settings.secret,
           "COOKOUT_DATA_DIR": str(settings.data_path), "COOKOUT_COMMENT_RATE_LIMIT": UNLIMITED,
           "COOKOUT_LOGIN_RATE_LIMIT_IP": UNLIMITED, "COOKOUT_LOGIN_RATE_LIMIT_ACCOUNT": UNLIMITED,
           "COOKOUT_READ_YOUR_WRITES_TIMEOUT": "30", "COOKOUT_SMTP_URL": "off"}
    server = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", "web", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a loaded machine takes its time to start a web process
    while True:
        try:
            httpx.get(f"{base_url}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server, base_url


@retry(retry=retry_if_exception_type(httpx.TransportError), stop=stop_after_attempt(5), wait=wait_fixed(1))
def sign_in(base_url: str, handle: str) -> tuple[str, str]:
    """The member's Cookie header and CSRF token, after signing in as a browser does (again when a loaded
    machine drops the connection)."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        client.get("/login")
        response = client.post("/login", data={"login": handle, "password": PASSWORD,
                                               "_csrf_token": client.cookies["csrftoken"]})
        assert response.status_code == 303, (handle, response.status_code)
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies.jar)
        return cookies, client.cookies["csrftoken"]


def rush(base_url: str, path: str, sessions: list[tuple[str, str]], fields: dict[str, str]) -> Counter[int]:
    """Every session POSTs `fields` to `path` once, from CLIENTS keep-alive connections; the statuses."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(share: list[tuple[str, str]]) -> None:
        connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=120)
        for cookies, token in share:
            connection.request("POST", path, body=urlencode({**fields, "_csrf_token": token}), headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies})
            response = connection.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(sessions[n::CLIENTS],)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def timed(container: Container, action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    assert container.wait_for(container.log_position(), timeout=600)
    return time.perf_counter() - started, result


def checks(container: Container, meetup_id: UUID, host: UUID, members: list[UUID],
           statuses: Counter[int]) -> dict[str, bool]:
    """What the rush must end with, as the meetup's own stream and the meetups view say. The organiser who
    scheduled the meetup holds one of its seats from the start."""
    meetup = container.meetings.get(meetup_id)
    recorded = container.meetings.repository.event_store.get(meetup_id)
    waitlisted_in_log = [event.member_id for event in recorded if isinstance(event, Meetup.MemberWaitlisted)]
    view = container.view(Meetups)
    in_view = sorted((a for a in view.attendance(meetup_id) if a["state"] == "waitlisted"), key=lambda a: a["position"])
    return {
        "no 409 or other failure": set(statuses) == {303},
        "every answer recorded": set(meetup.attendance) == {host, *members},
        f"exactly {CAPACITY} going": len(meetup.going) == CAPACITY and host in meetup.going,
        "waitlist in the order recorded": meetup.waitlist == waitlisted_in_log == [a["member_id"] for a in in_view]
        and len(meetup.waitlist) == len(members) - (CAPACITY - 1),
    }



def main() -> None:
    with bench_container(separate_projections=True) as container:
        tribe_id, people = grow_tribe(container, MEMBERS + 1, "rush")
        organiser, members = people[0], people[1:]
        container.wait_for(container.log_position(), timeout=900)
        server, base_url = serve(container, WORKERS)
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                sessions = list(pool.map(lambda n: sign_in(base_url, f"rush_{n}"), range(1, MEMBERS + 1)))
            container.wait_for(container.log_position(), timeout=120)
            starts = datetime.now(UTC) + timedelta(days=7)
            rounds: list[dict[str, float]] = []
            for n in range(ROUNDS):
                with acting_as(organiser):
                    meetup_id = container.meetings.schedule(
                        tribe_id, title=f"Rush {n}", description="", timezone="UTC", venue="Hall", address="Main St",
                        starts_at=starts.strftime("%Y-%m-%dT%H:%M"), capacity=CAPACITY,
                        ends_at=(starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
                    post_id = container.threads.publish_post(tribe_id, f"Round {n}", "Talk to me.")
                container.wait_for(container.log_position(), timeout=120)
                rsvp_seconds, statuses = timed(container, lambda: rush(
                    base_url, f"/m/{meetup_id}/rsvp", sessions, {"answer": "going"}))
                outcome = checks(container, meetup_id, organiser, members, statuses)
                comment_seconds, comment_statuses = timed(container, lambda: rush(
                    base_url, f"/p/{post_id}/comments", sessions, {"body": "Count me in", "parent_id": ""}))
                rounds.append({"rsvp": MEMBERS / rsvp_seconds, "comment": MEMBERS / comment_seconds})
                print(f"round {n}: RSVPs {MEMBERS / rsvp_seconds:.1f}/s (statuses {dict(statuses)}), comments "
                      f"{MEMBERS / comment_seconds:.1f}/s (statuses {dict(comment_statuses)}); "
                      f"ratio {rounds[-1]['rsvp'] / rounds[-1]['comment']:.2f}; "
                      + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in outcome.items()), flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)

    print(f"machine: {machine()}")
    print(f"{MEMBERS:,} 'going' for {CAPACITY} seats and {MEMBERS:,} comments from {CLIENTS} clients, "
          f"{WORKERS} web worker(s), {ROUNDS} rounds")
    ratios = [r["rsvp"] / r["comment"] for r in rounds]
    rsvps, comments = (", ".join(f"{r[kind]:.1f}" for r in rounds) for kind in ("rsvp", "comment"))
    print(f"  RSVPs/s {rsvps}; comments/s {comments}; ratio {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"median {statistics.median(ratios):.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
