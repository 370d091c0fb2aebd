"""Signed-in members' viewer rows kept in memory: dropped when the directory changes them, kept only
while the process hears of every change, and never kept from a read that a change overtook."""

from __future__ import annotations

import time
from typing import Any

from cookout.platform.container import Container
from cookout.projections.viewers import Viewers
from tests.conversation_helpers import acting_as, new_member, settle


def kept_within(viewers: Viewers, member_id: Any, seconds: float = 5) -> dict[str, Any] | None:
    """The kept row once the listener runs (the first reads start it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        viewers.get(member_id)
        if (row := viewers.kept(member_id)) is not None:
            return row
        time.sleep(0.02)
    return None


def test_a_kept_viewer_is_dropped_when_the_directory_ends_its_sessions(container: Container) -> None:
    member_id = new_member(container)
    settle(container)
    viewers = container.viewers
    assert kept_within(viewers, member_id) == {"session_epoch": 0, "time_zone": None, "email_confirmed": True}

    with acting_as(member_id):  # nothing here tells `viewers`: only the directory's NOTIFY
        container.accounts.end_sessions()
    settle(container)
    deadline = time.monotonic() + 5
    while viewers.kept(member_id) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert viewers.kept(member_id) is None
    assert viewers.get(member_id)["session_epoch"] == 1


def test_a_change_the_viewer_does_not_read_keeps_the_row(container: Container) -> None:
    member_id = new_member(container)
    settle(container)
    viewers = container.viewers
    assert kept_within(viewers, member_id) is not None
    with acting_as(member_id):
        container.accounts.rename("Someone Else")
    other = new_member(container)
    assert kept_within(viewers, other) is not None
    with acting_as(other):  # its notification comes after any the rename could have sent
        container.accounts.end_sessions()
    settle(container)
    deadline = time.monotonic() + 5
    while viewers.kept(other) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert viewers.kept(other) is None and viewers.kept(member_id) is not None


class Directory:
    def __init__(self) -> None:
        self.reads = 0
        self.during_read: Any = None

    def viewer(self, member_id: Any) -> dict[str, Any]:
        self.reads += 1
        if self.during_read:
            self.during_read()
        return {"session_epoch": 0, "time_zone": None, "email_confirmed": True}


class Watcher:
    def __init__(self, listening: bool) -> None:
        self.listening = listening

    def subscribe(self, channel: str, changed: Any, reset: Any) -> None:
        pass

    def start_listening(self) -> bool:
        return self.listening

    def listening_now(self) -> bool:
        return self.listening


def test_nothing_is_kept_while_the_process_is_not_listening() -> None:
    directory = Directory()
    viewers = Viewers(directory, Watcher(listening=False))  # type: ignore[arg-type]
    viewers.get("m")
    viewers.get("m")
    assert directory.reads == 2 and viewers.kept("m") is None


def test_a_read_overtaken_by_a_change_is_not_kept() -> None:
    directory = Directory()
    viewers = Viewers(directory, Watcher(listening=True))  # type: ignore[arg-type]
    directory.during_read = lambda: viewers.forget("m")  # the NOTIFY arrives while the row is on its way
    viewers.get("m")
    assert viewers.kept("m") is None
    directory.during_read = None
    viewers.get("m")
    viewers.get("m")
    assert directory.reads == 2 and viewers.kept("m") is not None


def test_the_least_recently_seen_members_are_dropped_first() -> None:
    viewers = Viewers(Directory(), Watcher(listening=True), keep=2)  # type: ignore[arg-type]
    for member in ("a", "b"):
        viewers.get(member)
    viewers.get("a")
    viewers.get("c")
    assert [m for m in ("a", "b", "c") if viewers.kept(m)] == ["a", "c"]
