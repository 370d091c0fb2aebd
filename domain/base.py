"""The aggregate base every Cookout aggregate extends: each event records who acted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import ApplicationRecorder, IntegrityError

from cookout.domain.errors import NotFound
from cookout.domain.personal import Keys, MemoryKeys, PersonalDataMapper, personal

SYSTEM = "system"

# Set by the web layer (the signed-in member's id) and by workers ("system").
current_actor: ContextVar[str] = ContextVar("current_actor", default=SYSTEM)

@contextmanager
def acting_as(member_id: Any) -> Iterator[None]:
    """Commands inside run as this member ("system" for None): for workers, the demo and tests."""
    token = current_actor.set(str(member_id) if member_id else SYSTEM)
    try:
        yield
    finally:
        current_actor.reset(token)


# The request (or the letter, the job) a command runs for, so its events can be traced back to it:
# set by the web layer from X-Request-ID, None where nothing asked for the command.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


@contextmanager
def serving_request(request_id: str | None) -> Iterator[None]:
    """Commands and log lines inside belong to this request id."""
    token = current_request_id.set(request_id)
    try:
        yield
    finally:
        current_request_id.reset(token)


# The log position of the last save in this context, for read-your-writes.
last_position: ContextVar[int | None] = ContextVar("last_position", default=None)


class CookoutAggregate(Aggregate):
    class Event(Aggregate.Event):
        actor: str
        request_id: str | None  # events recorded before request ids have none: read with request_id_of()

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        return super()._create(event_class, id=id, actor=current_actor.get(),
                               request_id=current_request_id.get(), **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, actor=current_actor.get(), request_id=current_request_id.get(), **kwargs)


def request_id_of(event: Any) -> str | None:
    """The request an event was recorded for; None for events from before request ids, or from no request."""
    return getattr(event, "request_id", None)


class Index(CookoutAggregate):
    """Claims a unique key (an email, a handle, a slug) for one aggregate.

    Its id is derived from the key, so two aggregates claiming the same key in
    concurrent saves collide on version 1 of one stream and only one save wins.
    """

    @staticmethod
    def create_id(key: str) -> UUID:
        return index_id(key)

    @event("Claimed")
    def __init__(self, key: str, ref: UUID | None):
        self.key = key
        self.ref = ref

    @event("Released")
    def release(self) -> None:
        self.ref = None

    @event("Reclaimed")
    def reclaim(self, ref: UUID) -> None:
        self.ref = ref


# Unique keys that hold a person's address or handle, by prefix: whose key seals them, from the rest of the
# key and the aggregate it points to (members.py and comments.py name theirs).
PERSONAL_KEYS: dict[str, Callable[[str, UUID | None], UUID | None]] = {}


def index_subject(state: dict[str, Any]) -> UUID | None:
    for prefix, subject in PERSONAL_KEYS.items():
        if state["key"].startswith(prefix):
            return subject(state["key"][len(prefix):], state["ref"])
    return None


personal(Index.Claimed, index_subject, key="")


def index_id(key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/cookout/index/{key}")


class CookoutApplication(Application):
    """Base of Cookout's services. They all share one name, so one event store
    and one notification log: projections follow a single, totally ordered history."""

    name = "cookout"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = CookoutApplication.name
    # Keep the pool small: several services share one database.
    env = {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "4"}

    def __init__(self, env: Any = None, *, recorder: ApplicationRecorder | None = None,
                 keys: Keys | None = None) -> None:
        """With `recorder`, this service records into another's store: one log, as in production,
        also on in-memory persistence. `keys` seal and open each person's data in the log (see
        domain/personal.py); services sharing a log share them."""
        self._shared_recorder = recorder
        if keys is None and "postgres" in str((env or {}).get("PERSISTENCE_MODULE", "")):
            # Keys in memory would read every person in a stored log as a former member, silently.
            raise TypeError("a service on a stored log needs the log's keys (keys=container.keys)")
        self.keys = keys if keys is not None else MemoryKeys()
        super().__init__(env)

    def construct_recorder(self) -> ApplicationRecorder:
        return self._shared_recorder or super().construct_recorder()

    def construct_mapper(self) -> PersonalDataMapper:
        return PersonalDataMapper(self.construct_transcoder(), self.keys, compressor=self.factory.compressor(),
                                  cipher=self.factory.cipher())

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        if recordings:
            last_position.set(max(r.notification.id for r in recordings))
        return recordings

    def _get(self, aggregate_id: UUID, kind: type[Any], what: str) -> Any:
        """Load an aggregate or raise NotFound with a message a person can read."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"No such {what}.") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"No such {what}.")
        return aggregate

    def _find(self, aggregate_id: UUID) -> Any:
        """The aggregate, or None when nothing was saved under this id."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _find_index(self, key: str) -> Index | None:
        return self._find(index_id(key))

    def _index_ref(self, key: str) -> UUID | None:
        """The aggregate id a unique key points to, or None when it is free."""
        try:
            index = self.repository.get(index_id(key))
        except AggregateNotFoundError:
            return None
        return index.ref


__all__ = [
    "SYSTEM",
    "acting_as",
    "CookoutAggregate",
    "CookoutApplication",
    "Index",
    "IntegrityError",
    "current_actor",
    "current_request_id",
    "request_id_of",
    "serving_request",
    "last_position",
    "index_id",
    "PERSONAL_KEYS",
]
