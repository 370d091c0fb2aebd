"""A projection's `topics` say what it reads: the runner gives it only those events, so a handler for
an event left out of them would never run."""

from __future__ import annotations

import pytest
from eventsourcing.utils import resolve_topic

from cookout.projections.base import CookoutProjection
from cookout.projections.registry import PROJECTIONS


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_a_projection_names_in_its_topics_every_event_it_has_a_handler_for(
    projection: type[CookoutProjection],
) -> None:
    handlers = projection.__dict__["process_event"].dispatcher.registry
    handled = {event for event in handlers if event is not object}

    assert {resolve_topic(topic) for topic in projection.topics} == handled
    assert len(set(projection.topics)) == len(projection.topics)
