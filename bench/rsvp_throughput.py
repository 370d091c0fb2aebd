"""RSVP throughput for one meetup under 16 concurrent clients, through the Meetings service on
Postgres, and how many saves lost a race and were retried.

    python bench/rsvp_throughput.py   (COOKOUT_BENCH_DATABASE_URL optional)
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from pathlib import Path
from threading import Lock
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_database, machine  # noqa: E402

from cookout.domain.base import IntegrityError, current_actor  # noqa: E402
from cookout.domain.meetings import Meetings  # noqa: E402
from cookout.platform.database import eventsourcing_env  # noqa: E402

CLIENTS = 16
ANSWERS = int(os.environ.get("BENCH_ANSWERS", "400"))
CAPACITY = 100


class CountingMeetings(Meetings):
    """Meetings that count the saves another save beat to it."""

    lost = 0
    lock = Lock()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            with CountingMeetings.lock:
                CountingMeetings.lost += 1
            raise


class EveryoneOrganises:
    """Roles without a tribe: the benchmark measures the meetup's races, not the role lookup."""

    def role_of(self, tribe_id: Any, member_id: Any) -> str:
        return "organiser"


def main() -> None:
    with bench_database() as (url, _):
        env = {**eventsourcing_env(url), "POSTGRES_POOL_SIZE": str(CLIENTS), "POSTGRES_MAX_OVERFLOW": "4"}
        meetings = CountingMeetings(env=env, roles=EveryoneOrganises())
        current_actor.set(str(uuid4()))
        meetup_id = meetings.schedule(
            uuid4(), title="Bench", description="", timezone="UTC",
            starts_at=time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 86400)),
            ends_at=time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7 * 86400 + 7200)),
            venue="Hall", address="Main St", capacity=CAPACITY,
        )

        def answer(n: int) -> str:
            current_actor.set(str(uuid4()))
            return meetings.answer(meetup_id, "going")

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(lambda n: copy_context().run(answer, n), range(ANSWERS)))
        elapsed = time.monotonic() - started
        meetup = meetings.get(meetup_id)
        assert len(meetup.going) == CAPACITY and len(meetup.waitlist) == ANSWERS - CAPACITY
        assert results.count("going") == CAPACITY
        print(f"{ANSWERS} 'going' answers from {CLIENTS} concurrent clients for {CAPACITY} seats: "
              f"{elapsed:.2f} s, {ANSWERS / elapsed:.0f} answers/s")
        print(f"saves that lost a race and were retried: {CountingMeetings.lost} "
              f"({CountingMeetings.lost / ANSWERS:.2f} per answer)")
        print(f"outcome: {len(meetup.going)} going, {len(meetup.waitlist)} waitlisted in order")
        print(f"machine: {machine()}")
        meetings.close()


if __name__ == "__main__":
    main()
