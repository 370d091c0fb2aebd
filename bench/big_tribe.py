"""A big tribe made through the commands its people run: each member signs up and joins.

Each join loads the tribe, which replays every join before it; the generator's own Tribes service keeps
the tribe in eventsourcing's aggregate cache, so each join fast-forwards the tribe it holds instead (the
same command, rules and events; only the loading differs). On a machine as loaded as this one was that
is still some 100 ms a join; `bulk` joins a few hundred members per save instead: the tribe's own `join`
and the service's saving of the tribe with its memberships, so the same events as the command's.

    python bench/big_tribe.py [MEMBERS] [--bulk]   (default 5,000; prints how long it took)
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import acting_as, bench_container, machine  # noqa: E402

from cookout.domain.community import Tribes  # noqa: E402
from cookout.platform.container import Container  # noqa: E402

PASSWORD = "bench password 1"


BULK = 250


def grow_tribe(container: Container, members: int, slug: str, visibility: str = "public",
               bulk: bool = False) -> tuple[UUID, list[UUID]]:
    """A tribe of `members` members (its founder among them), handles `{slug}_{n}`, all with PASSWORD."""
    tribes = Tribes(env={**container.env, "AGGREGATE_CACHE_MAXSIZE": "100"}, recorder=container.accounts.recorder,
                    keys=container.keys)
    try:
        # Sign-ups touch streams of their own: a few at a time, as many as the services' pool has connections.
        with ThreadPoolExecutor(max_workers=6) as pool:
            people = list(pool.map(lambda n: container.accounts.sign_up(
                f"{slug}_{n}", f"Member {n}", f"{slug}_{n}@example.org", PASSWORD, confirmed=True), range(members)))
        with acting_as(people[0]):
            tribe_id = tribes.found_tribe(f"Tribe {slug}", slug, "", "", visibility)
        if bulk:
            for start in range(1, members, BULK):
                tribe = tribes.repository.get(tribe_id)
                joining = people[start:start + BULK]
                for member in joining:
                    with acting_as(member):
                        tribe.join(member)
                tribes._save(tribe, joining)
        else:
            for member in people[1:]:
                with acting_as(member):
                    tribes.join_tribe(tribe_id)
    finally:
        tribes.close()
    return tribe_id, people


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    bulk = "--bulk" in sys.argv
    with bench_container(separate_projections=True) as container:
        started = time.perf_counter()
        tribe_id, _ = grow_tribe(container, members, "big", bulk=bulk)
        made = time.perf_counter() - started
        container.wait_for(container.log_position(), timeout=600)
        caught_up = time.perf_counter() - started
        print(f"{members:,} members signed up and joined in {made:.1f} s ({members / made:.0f}/s); "
              f"every view caught up after {caught_up:.1f} s; {container.log_position():,} events")
        print(f"members: {len(container.tribes.get_tribe(tribe_id).roles):,}")
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
