"""Group commit: the commands on one aggregate queue in this process, and the one at the front of the queue
runs every command waiting behind it, in the order they arrived, on one load of the aggregate, then saves
them all in one save. A rush of answers to one meetup costs a pass through its turnstile per batch, not per
answer.

Each command still makes its own events, stamped with its own actor and request (it runs in the context it
was given in), and succeeds or fails on its own: one that fails leaves nothing in the batch. A lost race
(another process saved first) runs the whole batch again on what is now stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Context, copy_context
from dataclasses import dataclass, field
from threading import Event, Lock
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from cookout.domain.base import last_position
from cookout.domain.errors import DomainError
from cookout.domain.service import Turnstile, retrying_lost_races

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


@dataclass(eq=False)
class Queued:
    """A command waiting for its batch, and then what came of it."""

    change: Callable[[Any], Any]
    context: Context = field(default_factory=copy_context)
    woken: Event = field(default_factory=Event)
    done: bool = False
    result: Any = None
    error: Exception | None = None
    position: int | None = None


class FailedPartway(Exception):
    """A command raised after it had changed the aggregate: the batch starts again without it."""


class GroupCommit(Generic[A]):
    def __init__(self, turnstile: Turnstile, load: Callable[[UUID], A], save: Callable[[A], Any]):
        self.turnstile = turnstile
        self.load = load
        self.save = save
        self.lock = Lock()
        # The commands waiting for each aggregate; a key is here while a thread leads a batch for it.
        self.waiting: dict[UUID, list[Queued]] = {}

    def run(self, key: UUID, change: Callable[[A], T]) -> T:
        """`change` applied to the aggregate `key` in its turn, saved with the commands queued beside it;
        what it returned (or raised). Like a save, it leaves the log position in `last_position`."""
        queued = Queued(change)
        with self.lock:
            leads = key not in self.waiting
            self.waiting.setdefault(key, []).append(queued)
        if not leads:
            queued.woken.wait()  # until its batch is done, or it is at the front and leads the next
        if not queued.done:
            self._lead(key)
        if queued.error is not None:
            raise queued.error
        if queued.position is not None:
            last_position.set(queued.position)
        return queued.result  # type: ignore[no-any-return]

    def _lead(self, key: UUID) -> None:
        batch: list[Queued] = []
        try:
            with self.turnstile.one_at_a_time(key):
                # Taken once through the turnstile: whoever queued while it waited goes in the batch too.
                batch = self._take(key)
                retrying_lost_races(self._commit, key, batch)
        except Exception as error:  # the batch as a whole failed, and every command in it with it
            batch = batch or self._take(key)  # (the turnstile failed before the batch was taken)
            for queued in batch:
                queued.error = queued.error or error
        finally:
            for queued in batch:
                queued.done = True
            with self.lock:
                waiting = self.waiting[key]
                if waiting:
                    waiting[0].woken.set()
                else:
                    del self.waiting[key]
            for queued in batch:
                queued.woken.set()

    def _take(self, key: UUID) -> list[Queued]:
        with self.lock:
            batch, self.waiting[key] = self.waiting[key], []
        return batch

    def _commit(self, key: UUID, batch: list[Queued]) -> None:
        for queued in batch:
            queued.error = None  # a lost race runs them all again on what is now stored
        while True:
            aggregate = self.load(key)
            try:
                for queued in batch:
                    if queued.error is None:
                        queued.result = self._apply(aggregate, queued)
                break
            except FailedPartway:
                continue
        recordings = self.save(aggregate)
        position = max((r.notification.id for r in recordings), default=None)
        for queued in batch:
            queued.position = position

    @staticmethod
    def _apply(aggregate: A, queued: Queued) -> Any:
        version = aggregate.version
        try:
            return queued.context.run(queued.change, aggregate)
        except DomainError as error:
            queued.error = error
            if aggregate.version != version:
                raise FailedPartway from error
            return None
