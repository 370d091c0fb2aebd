"""A thread that grows stays as fast to open: the first page of a 3,000-comment thread against a 300-comment one.

Both threads are 5-level chains under top-level comments (60 and 600 of them), made through the commands.
Prints p50/p95 of GET /p/{id} through the Litestar TestClient for each, measured alternately in one run,
the size of each page, and the ratio of the p95s. Target: 3,000-comment p95 within 1.5x the 300-comment one.
Run: python bench/thread_pages.py
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import acting_as, bench_container, machine, percentile  # noqa: E402
from litestar.testing import TestClient  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.domain.threads import Threads  # noqa: E402
from cookout.platform.web.app import create_app  # noqa: E402

REQUESTS = 100
DEPTH = 5


def thread(container: Any, tribe_id: UUID, author: UUID, talkers: list[UUID], chains: int) -> UUID:
    threads = container.service(Threads)
    with acting_as(author):
        post_id = threads.publish_post(tribe_id, f"A thread of {chains * DEPTH}", "Let's talk about **speed**.")
    for chain in range(chains):
        parent = None
        for level in range(DEPTH):
            with acting_as(talkers[(chain + level) % len(talkers)]):
                parent = threads.post_comment(
                    post_id, f"Comment {chain}.{level}: *markdown* and a [link](https://example.org/{chain}).", parent
                )
    return post_id


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with bench_container() as container:
        author = container.accounts.sign_up("bench_author", "Bench Author", "author@example.org", "bench password 1")
        talkers = [container.accounts.sign_up(f"talker_{n}", f"Talker {n}", f"talker{n}@example.org",
                                              "bench password 1") for n in range(10)]
        with acting_as(author):
            tribe_id = container.service(Tribes).found_tribe("Benchers", "benchers", "Fast talkers", "benchers")
        started = time.perf_counter()
        small = thread(container, tribe_id, author, talkers, 60)
        big = thread(container, tribe_id, author, talkers, 600)
        container.wait_for(container.log_position(), timeout=600)
        print(f"machine: {machine()}")
        print(f"made 3,300 comments through the commands in {time.perf_counter() - started:.0f} s")
        app = create_app(container.settings, container)
        samples: dict[UUID, list[float]] = {small: [], big: []}
        sizes: dict[UUID, int] = {}
        with TestClient(app=app) as client:
            for post_id in samples:
                sizes[post_id] = len(client.get(f"/p/{post_id}").content)  # warm up
            for _ in range(REQUESTS):
                for post_id, taken in samples.items():
                    begun = time.perf_counter()
                    response = client.get(f"/p/{post_id}")
                    taken.append((time.perf_counter() - begun) * 1000)
                    assert response.status_code == 200, response.status_code
    print(f"first page of a thread, {REQUESTS} GETs each, alternating, through the TestClient")
    for post_id, label in ((small, "300 comments"), (big, "3,000 comments")):
        taken = samples[post_id]
        print(f"  {label:>14}: p50 {percentile(taken, 0.5):6.1f} ms, p95 {percentile(taken, 0.95):6.1f} ms, "
              f"{sizes[post_id] / 1024:.0f} KiB")
    ratio = percentile(samples[big], 0.95) / percentile(samples[small], 0.95)
    print(f"  ratio p95 3,000 / 300: {ratio:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
