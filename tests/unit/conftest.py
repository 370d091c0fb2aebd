"""Unit-test fixtures: the domain on in-memory persistence, and nobody signed in to start with."""

from collections.abc import Iterator

import pytest

from cookout.domain.base import SYSTEM, current_actor
from tests.unit.conversation_fixtures import Community


@pytest.fixture(autouse=True)
def signed_out() -> Iterator[None]:
    token = current_actor.set(SYSTEM)
    yield
    current_actor.reset(token)


@pytest.fixture
def app() -> Community:
    return Community.in_memory()
