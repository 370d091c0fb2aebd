"""An event one projection cannot apply is parked for that projection: the runner goes on, every other
projection applies it, `projections status` shows it, and `projections retry` applies it after a fix."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar.testing import TestClient

from cookout.domain.meetings import Meetings
from cookout.domain.meetups import Meetup, Place
from cookout.domain.members import Member
from cookout.domain.schedule import Window
from cookout.platform.web.app import create_app
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import Settings
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.projections.registry import PROJECTIONS
from cookout.projections.runner import ProjectionBusy
from cookout.projections.thread import ThreadTree
from cookout.projections.tribes import TribeDirectory
from tests.conftest import FAST_HASHER, HEALTH_TOKEN
from tests.helpers import PASSWORD

CLI = [sys.executable, "-m", "cookout.platform.cli"]
TOO_BIG_FOR_INT4 = 2**31


@pytest.fixture
def own_database(server_url: str) -> Iterator[str]:
    """A database of this test's own: parked events stay out of the other tests' views."""
    name = f"cookout_parked_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def isolated(own_database: str, settings: Settings) -> Iterator[Container]:
    opened = bootstrap(settings.model_copy(update={"database_url": own_database}), hasher=FAST_HASHER)
    opened.start_projections()
    yield opened
    opened.close()


def scheduled(title: str, capacity: int) -> Any:
    """A meetup's Scheduled event, built with the aggregate; the capacity is set afterwards so no
    check at the boundary stands between it and the log, as for events recorded before such a check."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    meetup = Meetup.schedule(
        tribe_id=uuid.uuid4(), title=title, description="", window=Window(starts, starts + timedelta(hours=3),
                                                                          "Europe/Berlin"),
        place=Place(venue="The park", address="1 Park Lane"), capacity=10, rsvp_deadline=None, now=datetime.now(UTC),
    )
    event, = meetup.collect_events()
    return replace(event, capacity=capacity)


def capacity_in_view(container: Container, meetup_id: uuid.UUID) -> list[int]:
    rows = container.view(Meetups).rows("SELECT capacity FROM meetups WHERE id = %(id)s", {"id": meetup_id})
    return [row["capacity"] for row in rows]


def run_cli(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, env={**os.environ, "COOKOUT_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)


def test_an_event_a_view_cannot_hold_is_parked_for_it_alone_and_applied_by_retry_after_the_fix(
    isolated: Container, own_database: str, tmp_path: Path
) -> None:
    meetings = isolated.service(Meetings)
    poisoned = scheduled("Too many people", TOO_BIG_FOR_INT4)
    meetings.save(poisoned)
    poisoned_at = isolated.log_position()
    later = scheduled("Picnic after it", 12)
    meetings.save(later)

    # The runner went on: every projection reached the log's head, and the later event is in the view.
    assert isolated.wait_for(isolated.log_position(), timeout=20)
    isolated.raise_projection_errors()
    assert capacity_in_view(isolated, later.originator_id) == [12]
    assert capacity_in_view(isolated, poisoned.originator_id) == []

    parked = isolated.parked.of(Meetups.name)
    assert [row["notification_id"] for row in parked] == [poisoned_at]
    assert "out of range" in parked[0]["error"]
    assert parked[0]["topic"].endswith("Meetup.Scheduled")
    assert isolated.parked.counts() == {Meetups.name: 1}  # no other projection parked it

    status = run_cli("projections", "status", url=own_database, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    meetups_line = next(line for line in status.stdout.splitlines() if line.startswith(f"{Meetups.name} "))
    assert meetups_line.split()[-2:] == ["0", "1"]  # no lag, one parked event
    assert f"parked: {Meetups.name} at {poisoned_at}" in status.stdout
    others = [line for line in status.stdout.splitlines()
              if line.split() and line.split()[0] in {p.name for p in PROJECTIONS} - {Meetups.name}]
    assert len(others) == len(PROJECTIONS) - 1 and all(line.split()[-2:] == ["0", "0"] for line in others)

    # While the runner holds the projection, a retry is refused rather than run beside it.
    refused = run_cli("projections", "retry", Meetups.name, url=own_database, cwd=tmp_path)
    assert refused.returncode == 2 and "Another process is running the meetups projection" in refused.stderr
    with pytest.raises(ProjectionBusy):
        isolated.retry_parked(Meetups)

    isolated.stop_projections()
    still = run_cli("projections", "retry", Meetups.name, url=own_database, cwd=tmp_path)
    assert still.returncode == 1 and "0 parked events applied, 1 still parked" in still.stdout
    assert capacity_in_view(isolated, poisoned.originator_id) == []

    # The fix: a column wide enough for the value. The retry applies the event and unparks it.
    with psycopg.connect(own_database, autocommit=True) as connection:
        connection.execute("ALTER TABLE meetups ALTER COLUMN capacity TYPE bigint")
    retried = run_cli("projections", "retry", Meetups.name, url=own_database, cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert "1 parked events applied, 0 still parked" in retried.stdout
    assert capacity_in_view(isolated, poisoned.originator_id) == [TOO_BIG_FOR_INT4]
    assert capacity_in_view(isolated, later.originator_id) == [12]
    assert isolated.parked.counts() == {}


def test_a_nul_byte_the_member_directory_cannot_store_is_parked_and_shown_by_readyz(isolated: Container) -> None:
    handle = f"nul{uuid.uuid4().hex[:8]}"
    member = Member(handle, "Plain Name", f"{handle}@example.org", "not-a-real-hash")
    joined, = member.collect_events()
    isolated.accounts.save(replace(joined, display_name="Nul\x00Byte"))
    poisoned_at = isolated.log_position()
    later = f"later{uuid.uuid4().hex[:8]}"
    isolated.accounts.sign_up(later, "Later Person", f"{later}@example.org", PASSWORD)

    assert isolated.wait_for(isolated.log_position(), timeout=20)
    isolated.raise_projection_errors()
    directory = isolated.view(MemberDirectory)
    assert directory.by_handle(later)["display_name"] == "Later Person"
    assert directory.by_handle(handle) is None
    parked = isolated.parked.of(MemberDirectory.name)
    assert [row["notification_id"] for row in parked] == [poisoned_at]
    assert "NUL" in parked[0]["error"]
    # Projections with no handler for a sign-up are not held back by it.
    assert not {TribeDirectory.name, ThreadTree.name, Meetups.name} & set(isolated.parked.counts())

    with TestClient(app=create_app(isolated.settings, isolated), base_url="http://testserver.local") as client:
        answer = client.get("/readyz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    health = answer.json()
    assert (answer.status_code, health["status"]) == (503, "not ready")
    assert f"projection {MemberDirectory.name} has 1 parked events" in health["problems"]
    assert health["projections"][MemberDirectory.name] == {
        "position": isolated.log_position(), "lag": 0, "parked": 1, "running": True,
    }
    assert health["parked_events"] == sum(isolated.parked.counts().values())
