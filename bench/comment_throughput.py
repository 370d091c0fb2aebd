"""Comment throughput: comments per second through POST /p/{id}/comments with 8 concurrent clients,
and the ratio to saving the same comments straight through the Threads application in one process
(the store's own ceiling). Target ratio: at least 0.5.

Each client is a signed-in member on a keep-alive connection to `cookout web` (its own process, one or
two uvicorn workers), posting as a browser without JavaScript does; the clock stops only when every
view shows every comment. The projections run in a process of their own, as in production; they are paused
while the Application alone is measured, so the direct figure has the machine to itself. The three
measurements are interleaved over a few rounds and the medians reported, as this machine is shared.
Run: python bench/comment_throughput.py
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
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import acting_as, bench_container, machine, projections_paused  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.domain.threads import Threads  # noqa: E402
from cookout.platform.container import Container  # noqa: E402
from cookout.platform.settings import Settings  # noqa: E402

CLIENTS = 8
PER_CLIENT = 100
ROUNDS = 3
PASSWORD = "bench password 1"


def serve(settings: Settings, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`cookout web` in a process of its own, as in production, so the clients here don't share its GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "COOKOUT_DATABASE_URL": settings.database_url or "", "COOKOUT_SECRET_KEY": settings.secret,
           "COOKOUT_DATA_DIR": str(settings.data_path), "COOKOUT_COMMENT_RATE_LIMIT": settings.comment_rate_limit,
           "COOKOUT_SMTP_URL": "off"}
    server = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", "web", "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine starts uvicorn slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"cookout web exited with {server.returncode}")
        try:
            httpx.get(f"{base_url}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base_url


def form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    if "csrftoken" not in client.cookies:
        client.get("/")
    return client.post(path, data={**data, "_csrf_token": client.cookies["csrftoken"]})


def through_http(container: Container, workers: int, post_id: object, tag: str = "") -> float:
    """Seconds for CLIENTS new signed-in members to post PER_CLIENT comments each through the web."""
    server, base_url = serve(container.settings, workers)
    clients = []
    for n in range(CLIENTS):
        client = httpx.Client(base_url=base_url, timeout=30)
        handle = f"client_{tag}{workers}_{n}"
        response = form(client, "/signup", {"handle": handle, "display_name": f"Client {n}",
                                            "email": f"{handle}@example.org", "password": PASSWORD})
        assert response.status_code == 303, response.status_code
        clients.append(client)
    container.wait_for(container.log_position(), timeout=60)
    failures: list[int] = []

    def talk(client: httpx.Client, n: int) -> None:
        # A plain keep-alive connection, as a browser without JavaScript would hold, whose cookie header
        # and CSRF token are worked out again only when the server sets a cookie: the clients share the
        # machine's two cores with the server, so they should spend as little of them as they can.
        jar, url = client.cookies.jar, f"{base_url}/p/{post_id}/comments"
        connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)

        def cookies() -> tuple[urllib.request.Request, dict[str, str], str]:
            request = urllib.request.Request(url, method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            jar.add_cookie_header(request)
            return request, dict(request.header_items()), next(c.value for c in jar if c.name == "csrftoken")

        request, headers, token = cookies()
        for i in range(PER_CLIENT):
            body = urlencode({"body": f"Client {n} says {i}", "parent_id": "", "_csrf_token": token})
            connection.request("POST", urlsplit(url).path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.headers.get_all("Set-Cookie"):
                jar.extract_cookies(response, request)  # type: ignore[arg-type]
                request, headers, token = cookies()
            if response.status != 303:
                failures.append(response.status)
        connection.close()

    threads = [threading.Thread(target=talk, args=(c, n)) for n, c in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Done when every view shows every comment: a member's POST answers once the command is saved, and
    # the page the browser is sent to waits for the views; here the clock runs until they have caught up.
    assert container.wait_for(container.log_position(), timeout=120)
    seconds = time.perf_counter() - started
    server.send_signal(signal.SIGINT)
    server.wait(timeout=30)
    assert not failures, failures[:5]
    return seconds


def direct(threads: Threads, members: list[Any], post_id: object) -> float:
    """Seconds to save the same comments straight through the Application, one after another."""
    started = time.perf_counter()
    for i in range(PER_CLIENT):
        for n, member in enumerate(members):
            with acting_as(member):
                threads.post_comment(post_id, f"Client {n} says {i}")
    return time.perf_counter() - started


def main() -> None:
    with bench_container(separate_projections=True, comment_rate_limit="100000/minute") as container:
        tribes = container.service(Tribes)
        threads = container.service(Threads)
        author = container.accounts.sign_up("bench_author", "Bench Author", "author@example.org", PASSWORD)
        with acting_as(author):
            tribe_id = tribes.found_tribe("Benchers", "benchers", "", "benchers")
        # Rounds interleave the three measurements, so a slow spell of this shared machine falls on all of them.
        rounds: list[dict[str, float]] = []
        for round_number in range(ROUNDS):
            with acting_as(author):
                posts = [threads.publish_post(tribe_id, f"Round {round_number}, {n}", "Talk to me.") for n in range(3)]
            seconds = {f"http{workers}": through_http(container, workers, posts[workers], f"r{round_number}_")
                       for workers in (1, 2)}
            members = [container.accounts.member_id_for_handle(f"client_r{round_number}_1_{n}") for n in range(CLIENTS)]
            container.wait_for(container.log_position(), timeout=120)
            with projections_paused():  # the store's own ceiling: nothing else running
                seconds["direct"] = direct(threads, members, posts[0])
            container.wait_for(container.log_position(), timeout=120)  # caught up before the next round
            rounds.append({name: CLIENTS * PER_CLIENT / value for name, value in seconds.items()})

    print(f"machine: {machine()}")
    print(f"{CLIENTS * PER_CLIENT} comments per measurement, {ROUNDS} rounds; comments/s per round, then the median")
    labels = {"direct": "straight through the Application, one process (projections paused)",
              "http1": f"HTTP, {CLIENTS} concurrent clients, 1 web worker",
              "http2": f"HTTP, {CLIENTS} concurrent clients, 2 web workers"}
    for name, label in labels.items():
        rates = [r[name] for r in rounds]
        print(f"  {label}: {', '.join(f'{rate:.0f}' for rate in rates)}; median {statistics.median(rates):.0f}")
    for name in ("http1", "http2"):
        ratios = [r[name] / r["direct"] for r in rounds]
        print(f"  ratio {labels[name]} / direct: {', '.join(f'{ratio:.2f}' for ratio in ratios)}; "
              f"median {statistics.median(ratios):.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
