"""A small invented tribe, so a newcomer has something to look at."""

from __future__ import annotations

from cookout.domain.errors import Conflict
from cookout.platform.runtime import Runtime

DEMO_PASSWORD = "cookout-demo"

PEOPLE = (
    ("amara", "Amara Okafor", "amara@example.org"),
    ("gini", "Gini Marsh", "gini@example.org"),
    ("melanie", "Melanie Brooks", "melanie@example.org"),
    ("teo", "Teo Lindqvist", "teo@example.org"),
    ("priya", "Priya Raman", "priya@example.org"),
)


def seed(runtime: Runtime) -> list[str]:
    """Create the demo people who are not there yet; returns the handles created."""
    created = []
    for handle, name, email in PEOPLE:
        try:
            runtime.accounts.sign_up(handle, name, email, DEMO_PASSWORD)
        except Conflict:
            continue
        created.append(handle)
    return created
