"""What Cookout's application services share: the `command` decorator, roles, and readable tribes.

A tribe's rules are checked against its access record and the acting member's membership (index
aggregates saved with every change of the tribe), not the tribe, whose every join would be replayed;
a tribe from before those records is read whole.

A command acts as `current_actor` (a member's id, or "system" for someone not signed in, set
by the web and the workers). `@command` resolves that member and passes it in; when a
concurrent save reached one of the command's streams first, it runs the command again on
what is now stored, so every command is load, call the aggregate, save.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from threading import Lock
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, overload
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

from cookout.domain.base import CookoutApplication, IntegrityError, current_actor
from cookout.domain.errors import Conflict, Forbidden, NotFound
from cookout.domain.tribes import Membership, SeenBy, Tribe, TribeAccess, TribeRules

# A popular meetup sees many answers at once: losers keep trying for a while, not a fixed number of times.
RETRY_SECONDS = 15.0
TOO_BUSY = "Too many people are changing this at once. Please try again."

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")


def acting_member() -> UUID | None:
    """The signed-in member acting now, or None for a guest or the system."""
    try:
        return UUID(current_actor.get())
    except ValueError:
        return None


@overload
def command(to: str) -> Callable[[Callable[Concatenate[S, UUID, P], T]], Callable[Concatenate[S, P], T]]: ...


@overload
def command(
    to: None = None,
) -> Callable[[Callable[Concatenate[S, UUID | None, P], T]], Callable[Concatenate[S, P], T]]: ...


def command(to: str | None = None) -> Any:
    """Runs a service method as the acting member, passed as its first argument, retrying lost races.

    With `to` ("found a tribe"), only a signed-in member may run it; without, the member is
    None for a guest or the system.
    """

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> T:
            member = acting_member()
            if to is not None and member is None:
                raise Forbidden(f"Sign in to {to}.")
            return retrying_lost_races(method, self, member, *args, **kwargs)

        return run

    return decorate


def retrying_lost_races(attempt: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`attempt` again on what is now stored while a concurrent save keeps getting there first; a clear
    Conflict once that went on for RETRY_SECONDS."""
    retrying = Retrying(
        retry=retry_if_exception_type(IntegrityError),
        wait=wait_random_exponential(multiplier=0.002, max=0.1),
        stop=stop_after_delay(RETRY_SECONDS),
    )
    try:
        return retrying(attempt, *args, **kwargs)
    except RetryError:
        raise Conflict(TOO_BUSY) from None


class Turnstile(Protocol):
    """Lets one command at a time through for a key (a meetup): under a rush, commands queue instead of
    racing to save one stream, losing, and running again."""

    def one_at_a_time(self, key: UUID) -> AbstractContextManager[None]: ...


class ThreadTurnstile:
    """A turnstile for the threads of this process: a lock per stripe of keys (two keys sharing a stripe
    only wait for each other). With several processes, each has its own: across them, commands race."""

    STRIPES = 256

    def __init__(self) -> None:
        self.locks = [Lock() for _ in range(self.STRIPES)]

    @contextmanager
    def one_at_a_time(self, key: UUID) -> Iterator[None]:
        with self.locks[key.int % self.STRIPES]:
            yield


class Roles(Protocol):
    """Who holds which role in a tribe, for services that check it."""

    def role_of(self, tribe_id: UUID, member_id: UUID) -> str | None: ...


def tribe_seen_by(repository: Repository[UUID], tribe_id: UUID, member: UUID | None) -> TribeRules:
    """The tribe as its rules see it for `member`: their membership record, with the tribe's access
    record read only if a rule needs it; or, for a tribe from before those records, the whole tribe."""
    if member is not None:
        try:
            membership = repository.get(Membership.create_id(tribe_id, member))
        except AggregateNotFoundError:
            pass
        else:  # saved in the same save as the tribe's access record, so that one is there too
            return SeenBy(tribe_id, member, membership.role, lambda: repository.get(TribeAccess.create_id(tribe_id)))
    try:
        access = repository.get(TribeAccess.create_id(tribe_id))
    except AggregateNotFoundError:
        return _whole_tribe(repository, tribe_id)
    return SeenBy(tribe_id, member, None, lambda: access)


def _whole_tribe(repository: Repository[UUID], tribe_id: UUID) -> Tribe:
    try:
        tribe = repository.get(tribe_id)
    except AggregateNotFoundError:
        raise NotFound("No such tribe.") from None
    if not isinstance(tribe, Tribe):
        raise NotFound("No such tribe.")
    return tribe


class TribeRoles:
    """Roles read from the memberships (or, for a tribe from before them, the Tribe) in the shared store."""

    def __init__(self, repository: Repository[UUID]):
        self.repository = repository

    def role_of(self, tribe_id: UUID, member_id: UUID) -> str | None:
        return tribe_seen_by(self.repository, tribe_id, member_id).role_of(member_id)


class TribeService(CookoutApplication):
    """Base of the services whose aggregates live in a tribe and are read by its rules."""

    def _tribe_seen_by(self, tribe_id: UUID, member: UUID | None) -> TribeRules:
        return tribe_seen_by(self.repository, tribe_id, member)

    def _readable_tribe(self, tribe_id: UUID, member: UUID | None, what: str) -> TribeRules:
        """The tribe `what` lives in; outsiders of a members-only tribe get "no such `what`"."""
        tribe = self._tribe_seen_by(tribe_id, member)
        if not tribe.can_read(member):
            raise NotFound(f"No such {what}.")
        return tribe

    def _readable(self, aggregate_id: UUID, kind: type[T], what: str, member: UUID | None) -> T:
        """A post or comment the member may read; else "no such `what`"."""
        aggregate = self._get(aggregate_id, kind, what)
        self._readable_tribe(aggregate.tribe_id, member, what)  # type: ignore[attr-defined]
        return aggregate
