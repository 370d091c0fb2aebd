"""Rebuilding the views from a long log: every view at once, and the thread view alone against the
one-transaction-per-event default.

Makes a log of N events (default 100,000) through the commands: members, tribes they join, posts,
comments (a third top-level, the rest replies), likes and some subscriptions; then, with nothing else
running, rebuilds (1) every view together, (2) the thread view alone, in batches as `cookout projections
rebuild` runs it, (3) the thread view alone one event per transaction (a runner with a batch of one) over
the first DEFAULT_EVENTS events. Prints events/s for each and the ratio (2)/(3), side by side in one run.
Targets: (1) >= 5,000 events/s; (2) >= 4x (3).
Run: python bench/rebuild.py [N]   (COOKOUT_BENCH_DATABASE_URL picks a server; default an embedded one)
"""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import BENCH_HASHER, acting_as, bench_database, machine  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.domain.reacting import Reactions  # noqa: E402
from cookout.domain.threads import Threads  # noqa: E402
from cookout.platform.container import Container, bootstrap  # noqa: E402
from cookout.platform.settings import load_settings  # noqa: E402
from cookout.projections.registry import PROJECTIONS  # noqa: E402
from cookout.projections.runner import ProjectionsRunner  # noqa: E402
from cookout.projections.thread import ThreadTree  # noqa: E402

WRITERS = 4
TRIBES = 10
DEFAULT_EVENTS = 10_000


def fill(container: Container, events: int) -> None:
    """About `events` events through the commands, written by a few threads at once."""
    rng = random.Random(13)
    tribes, threads, reactions = (container.service(kind) for kind in (Tribes, Threads, Reactions))
    members = [container.accounts.sign_up(f"member_{n}", f"Member {n}", f"member{n}@example.org", "bench password 1")
               for n in range(max(events // 200, 20))]
    tribe_members: dict[UUID, list[UUID]] = {}
    for n in range(TRIBES):
        founder = members[n]
        with acting_as(founder):
            tribe_id = tribes.found_tribe(f"Tribe {n}", f"tribe-{n}", "Talkers", "talkers")
        tribe_members[tribe_id] = [founder]
    for member in members[TRIBES:]:
        for tribe_id in rng.sample(list(tribe_members), 2):
            with acting_as(member):
                tribes.join_tribe(tribe_id)
            tribe_members[tribe_id].append(member)
    posts: list[tuple[UUID, list[UUID], list[UUID]]] = []  # post, who may comment, its comments
    for _ in range(max(events // 100, 10)):
        tribe_id = rng.choice(list(tribe_members))
        with acting_as(rng.choice(tribe_members[tribe_id])):
            posts.append((threads.publish_post(tribe_id, "A topic", "Let's talk about **it**."),
                          tribe_members[tribe_id], []))

    def write(seed: int) -> None:
        local = random.Random(seed)
        while container.log_position() < events:
            post_id, people, comments = local.choice(posts)
            who = local.choice(people)
            with acting_as(who):
                roll = local.random()
                if roll < 0.12 and comments:
                    reactions.toggle_like(local.choice(comments))
                elif roll < 0.14:
                    threads.subscribe(post_id, f"{who}@example.org")
                else:
                    parent = local.choice(comments[-20:]) if comments and local.random() < 0.66 else None
                    try:
                        comments.append(threads.post_comment(
                            post_id, f"A *thought* {len(comments)}, with a [link](https://example.org).", parent))
                    except Exception:  # noqa: BLE001 -- a parent at the deepest level, say: try another
                        continue

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()


def rebuilt(container: Container, projections: list[Any], until: int, batch_limit: int | None = None) -> float:
    """Seconds for a runner to replay the log up to `until` into the projections' emptied views."""
    log = container.log_reader(POSTGRES_POOL_SIZE="1")
    started = time.perf_counter()
    options = {} if batch_limit is None else {"batch_limit": batch_limit}
    runner = ProjectionsRunner(log, [container.projections[p] for p in projections], rebuild=True, **options)
    try:
        # Read the positions themselves: a watcher would remember where the views were before they were emptied.
        while min(container.view(p).position() for p in projections) < until:
            runner.check()
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        runner.stop()


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with bench_database() as (url, folder):
        settings = load_settings(database_url=url, data_dir=folder, secret_key="bench-secret")
        container = bootstrap(settings, hasher=BENCH_HASHER)
        try:
            started = time.perf_counter()
            fill(container, events)
            head = container.log_position()
            print(f"machine: {machine()}")
            print(f"log: {head:,} events made through the commands in {time.perf_counter() - started:.0f} s")
            every = rebuilt(container, list(PROJECTIONS), head)
            alone = rebuilt(container, [ThreadTree], head)
            prefix = min(DEFAULT_EVENTS, head)
            default = rebuilt(container, [ThreadTree], prefix, batch_limit=1)
        finally:
            container.close()
    print(f"  all {len(PROJECTIONS)} views, batched:        {head / every:8,.0f} events/s  ({every:.1f} s; target >= 5,000)")
    print(f"  thread view alone, batched:      {head / alone:8,.0f} events/s  ({alone:.1f} s)")
    print(f"  thread view alone, one per txn:  {prefix / default:8,.0f} events/s  (first {prefix:,} events, {default:.1f} s)")
    print(f"  ratio batched / one per txn:     {(head / alone) / (prefix / default):8.1f}x  (target >= 4)")


if __name__ == "__main__":
    main()
