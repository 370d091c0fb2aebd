"""Comment throughput: comments per second through POST /p/{id}/comments with 8 concurrent clients
(each a signed-in member, over real HTTP to `cookout web` in its own process, each request waiting for the thread projection
as a browser's next page would), and the ratio to saving the same comments straight through the
Conversation application in one process. The projections run in a process of their own, as in
production. Target ratio: at least 0.5.
Run: python bench/comment_throughput.py
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
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

from _setup import acting_as, bench_runtime, machine, projections_paused  # noqa: E402

from cookout.domain.conversation import Conversation  # noqa: E402
from cookout.platform.runtime import Runtime  # noqa: E402
from cookout.platform.settings import Settings  # noqa: E402

CLIENTS = 8
PER_CLIENT = 125
PASSWORD = "bench password 1"


def serve(settings: Settings, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`cookout web` in a process of its own, as in production, so the clients here don't share its GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "COOKOUT_DATABASE_URL": settings.database_url or "", "COOKOUT_SECRET_KEY": settings.secret,
           "COOKOUT_DATA_DIR": str(settings.data_path), "COOKOUT_COMMENT_RATE_LIMIT": settings.comment_rate_limit}
    server = subprocess.Popen([sys.executable, "-m", "cookout.platform.cli", "web", "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(200):
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


def through_http(runtime: Runtime, workers: int, post_id: object) -> float:
    """Seconds for CLIENTS signed-in members to post PER_CLIENT comments each through the web."""
    server, base_url = serve(runtime.settings, workers)
    clients = []
    for n in range(CLIENTS):
        client = httpx.Client(base_url=base_url, timeout=30)
        response = form(client, "/signup", {"handle": f"client_{workers}_{n}", "display_name": f"Client {n}",
                                            "email": f"client{workers}_{n}@example.org", "password": PASSWORD})
        assert response.status_code == 303, response.status_code
        clients.append(client)
    runtime.wait_for(runtime.log_position(), timeout=60)
    failures: list[int] = []

    def talk(client: httpx.Client, n: int) -> None:
        # A plain keep-alive connection, as a browser without JavaScript would hold, so that the clients,
        # which share the machine's two cores with the server, spend as little of them as they can.
        jar, url = client.cookies.jar, f"{base_url}/p/{post_id}/comments"
        connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
        for i in range(PER_CLIENT):
            token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
            request = urllib.request.Request(url, method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            jar.add_cookie_header(request)
            body = urlencode({"body": f"Client {n} says {i}", "parent_id": "", "_csrf_token": token})
            connection.request("POST", urlsplit(url).path, body=body, headers=dict(request.header_items()))
            response = connection.getresponse()
            response.read()
            jar.extract_cookies(response, request)  # type: ignore[arg-type]
            if response.status != 303:
                failures.append(response.status)
        connection.close()

    threads = [threading.Thread(target=talk, args=(c, n)) for n, c in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    server.send_signal(signal.SIGINT)
    server.wait(timeout=30)
    assert not failures, failures[:5]
    return seconds


def direct(conversation: Conversation, members: list[Any], post_id: object) -> float:
    """Seconds to save the same comments straight through the Application, one after another."""
    started = time.perf_counter()
    for i in range(PER_CLIENT):
        for n, member in enumerate(members):
            with acting_as(member):
                conversation.post_comment(post_id, f"Client {n} says {i}")
    return time.perf_counter() - started


def main() -> None:
    with bench_runtime(separate_projections=True, comment_rate_limit="100000/minute") as runtime:
        conversation = runtime.service(Conversation)
        author = runtime.accounts.sign_up("bench_author", "Bench Author", "author@example.org", PASSWORD)
        with acting_as(author):
            tribe_id = conversation.found_tribe("Benchers", "benchers", "", "benchers")
            posts = [conversation.publish_post(tribe_id, f"Post {n}", "Talk to me.") for n in range(4)]
        http_seconds = {workers: through_http(runtime, workers, posts[workers - 1]) for workers in (1, 2)}

        members = [runtime.accounts.member_id_for_handle(f"client_1_{n}") for n in range(CLIENTS)]
        with projections_paused():  # the store's own ceiling: nothing else on the machine
            alone_seconds = direct(conversation, members, posts[2])
        runtime.wait_for(runtime.log_position(), timeout=120)
        following_seconds = direct(conversation, members, posts[3])

    total = CLIENTS * PER_CLIENT
    direct_rate = total / alone_seconds
    print(f"machine: {machine()}")
    print(f"{total} comments per run")
    print(f"  straight through the Application, one process, projections paused: {direct_rate:.0f} comments/s "
          f"({alone_seconds:.2f} s)")
    print(f"  the same while the projections follow in their process: {total / following_seconds:.0f} comments/s "
          f"({following_seconds:.2f} s)")
    for workers, seconds in http_seconds.items():
        rate = total / seconds
        print(f"  HTTP, {CLIENTS} concurrent clients, {workers} web worker(s): {rate:.0f} comments/s ({seconds:.2f} s), "
              f"ratio HTTP/direct {rate / direct_rate:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
