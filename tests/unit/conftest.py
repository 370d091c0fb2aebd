"""Unit-test fixtures: the domain on in-memory persistence, and nobody signed in to start with."""

from collections.abc import Iterator

import pytest

from cookout.domain.base import SYSTEM, current_actor
from cookout.domain.conversation import Conversation


@pytest.fixture(autouse=True)
def signed_out() -> Iterator[None]:
    token = current_actor.set(SYSTEM)
    yield
    current_actor.reset(token)


@pytest.fixture
def app() -> Conversation:
    return Conversation(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
