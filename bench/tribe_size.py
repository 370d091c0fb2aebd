"""Writes against the size of the tribe: a comment and an RSVP saved in a 5-member and in a 5,000-member
tribe, straight through the services, alternately, with the projections paused. Target: the big
tribe's median within 1.5x of the small one's.

Both tribes are made by `big_tribe.grow_tribe` (sign-ups through the command, joins in bulk). For reference
it also times loading the whole tribe, which every comment and RSVP did before memberships were indexed.

    python bench/tribe_size.py   (BENCH_MEMBERS=5000, BENCH_SAMPLES=200; COOKOUT_BENCH_DATABASE_URL optional)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import acting_as, bench_container, machine, percentile, projections_paused  # noqa: E402
from big_tribe import grow_tribe  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "5000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with bench_container(separate_projections=True) as container:
        started = time.perf_counter()
        tribes = {"small": grow_tribe(container, 5, "small"), "big": grow_tribe(container, MEMBERS, "big", bulk=True)}
        print(f"made the tribes (5 and {MEMBERS:,} members) in {time.perf_counter() - started:.0f} s", flush=True)
        starts = datetime.now(UTC) + timedelta(days=7)
        places: dict[str, tuple[Any, Any, Any]] = {}
        for name, (tribe_id, people) in tribes.items():
            with acting_as(people[0]):
                post_id = container.threads.publish_post(tribe_id, "Hello", "Say something.")
                meetup_id = container.meetings.schedule(
                    tribe_id, title="Picnic", description="", timezone="UTC", venue="Park", address="Main St",
                    starts_at=starts.strftime("%Y-%m-%dT%H:%M"),
                    ends_at=(starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
            places[name] = (post_id, meetup_id, people[1])
        container.wait_for(container.log_position(), timeout=900)
        samples: dict[str, list[float]] = {f"{what} {name}": [] for what in ("comment", "rsvp", "whole tribe")
                                           for name in tribes}
        with projections_paused():
            for n in range(SAMPLES):
                for name, (post_id, meetup_id, member) in places.items():
                    with acting_as(member):
                        samples[f"comment {name}"].append(timed(
                            lambda: container.threads.post_comment(post_id, f"Comment {n}")))
                        answer = "going" if n % 2 == 0 else "maybe"
                        samples[f"rsvp {name}"].append(timed(
                            lambda: container.meetings.answer(meetup_id, answer)))
                    if n < 20:  # what each of them did before: replay the whole tribe
                        tribe_id = tribes[name][0]
                        samples[f"whole tribe {name}"].append(timed(
                            lambda: container.tribes.repository.get(tribe_id)))
        assert len(container.tribes.repository.get(tribes["big"][0]).roles) == MEMBERS

    print(f"machine: {machine()}")
    print(f"{SAMPLES} samples of each, alternating small and big; ms: median (p95)")
    for what in ("comment", "rsvp", "whole tribe"):
        small, big = samples[f"{what} small"], samples[f"{what} big"]
        ratio = statistics.median(big) / statistics.median(small)
        target = "  (target <= 1.5)" if what != "whole tribe" else "  (loading the tribe, as before: reference)"
        print(f"  {what}: 5 members {statistics.median(small):.2f} ({percentile(small, 0.95):.2f}), "
              f"{MEMBERS:,} members {statistics.median(big):.2f} ({percentile(big, 0.95):.2f}); "
              f"ratio {ratio:.2f}{target}")


if __name__ == "__main__":
    main()
