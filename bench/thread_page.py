"""Thread page speed: a post with 300 comments in 5 levels, served 200 times.

Prints p50/p95 of the time to serve /p/{id} through the Litestar TestClient, and the ratio of the
same template rendered from an in-memory context (no database) to the real page: 1.0 would mean
reading the projections costs nothing. Targets: p95 under 50 ms, ratio at least 0.5.
Run: python bench/thread_page.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import acting_as, bench_container, machine, percentile  # noqa: E402
from litestar import Request, get  # noqa: E402
from litestar.response import Template  # noqa: E402
from litestar.testing import TestClient  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.domain.threads import Threads  # noqa: E402
from cookout.platform.web.app import create_app  # noqa: E402
from cookout.platform.web.conversation import thread_context  # noqa: E402
from cookout.projections.thread import ThreadTree  # noqa: E402
from cookout.projections.tribes import TribeDirectory  # noqa: E402

REQUESTS = 200
THREADS, DEPTH = 60, 5  # 60 top-level comments, each with a chain of replies 5 levels deep: 300


def fill(container: Any) -> Any:
    tribes = container.service(Tribes)
    threads = container.service(Threads)
    author = container.accounts.sign_up("bench_author", "Bench Author", "author@example.org", "bench password 1")
    talkers = [container.accounts.sign_up(f"talker_{n}", f"Talker {n}", f"talker{n}@example.org", "bench password 1")
               for n in range(10)]
    with acting_as(author):
        tribe_id = tribes.found_tribe("Benchers", "benchers", "Fast talkers", "benchers")
        post_id = threads.publish_post(tribe_id, "A long thread", "Let's talk about **speed**.")
    for thread in range(THREADS):
        parent = None
        for level in range(DEPTH):
            with acting_as(talkers[(thread + level) % len(talkers)]):
                parent = threads.post_comment(
                    post_id, f"Comment {thread}.{level}: *markdown* and a [link](https://example.org/{thread}).", parent
                )
    container.wait_for(container.log_position(), timeout=120)
    return post_id


def timed(client: TestClient[Any], path: str) -> list[float]:
    client.get(path)  # warm up
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and "300 thoughts on" in response.text, response.status_code
    return samples


def main() -> None:
    with bench_container() as container:
        post_id = fill(container)
        app = create_app(container.settings, container)
        frozen: dict[str, Any] = {}

        @get("/bench/in-memory", sync_to_thread=False)
        def in_memory(request: Request[Any, Any, Any]) -> Template:
            return Template(template_name="posts/show.html", context=frozen)

        app.register(in_memory)
        with TestClient(app=app) as client:
            page = timed(client, f"/p/{post_id}")
            post = container.view(ThreadTree).post(post_id)
            tribe = {**container.view(TribeDirectory).by_id(post["tribe_id"]), "role": None, "moderator": False}

            @get("/bench/context", sync_to_thread=True)
            def context(request: Request[Any, Any, Any]) -> dict[str, str]:
                frozen.update(thread_context(request, post, tribe), author=None, me=None, form={}, errors={})
                return {}

            app.register(context)
            client.get("/bench/context")
            memory = timed(client, "/bench/in-memory")
    p50, p95 = percentile(page, 0.5), percentile(page, 0.95)
    m50, m95 = percentile(memory, 0.5), percentile(memory, 0.95)
    print(f"machine: {machine()}")
    print(f"thread page, 300 comments in 5 levels, {REQUESTS} requests through the TestClient")
    print(f"  from the projections: p50 {p50:.1f} ms, p95 {p95:.1f} ms  (target p95 < 50 ms)")
    print(f"  from memory:          p50 {m50:.1f} ms, p95 {m95:.1f} ms")
    print(f"  ratio in-memory/real: p50 {m50 / p50:.2f}, p95 {m95 / p95:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
