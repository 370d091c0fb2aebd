"""Every projection Cookout runs, in one place for the runner, the CLI and read-your-writes."""

from __future__ import annotations

from cookout.projections.base import CookoutProjection
from cookout.projections.members import MemberDirectory
from cookout.projections.outbox import Welcomes

PROJECTIONS: tuple[type[CookoutProjection], ...] = (
    MemberDirectory,
    Welcomes,
)


def projection_named(name: str) -> type[CookoutProjection]:
    for projection in PROJECTIONS:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in PROJECTIONS)
    raise KeyError(f"No projection called {name!r}. Known: {known}")
