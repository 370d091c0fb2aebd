"""The signed-in members' `viewer` rows, kept in memory while this process hears of every change to them.

Every request of a signed-in member checks their session epoch (and reads their zone and whether their
email is confirmed) in the member directory. The directory NOTIFYs `CHANNEL` with the member's id, in
the batch that changes one of those columns; the process's position watcher listens on the same
connection as for positions, and drops the member's row here. A row is kept only while that listener
runs, and only when nothing was dropped between reading it and keeping it, so a kept row is never older
than the notifications this process has received.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from cookout.projections.shadow import SWITCH_CHANNEL

if TYPE_CHECKING:
    from cookout.projections.members import MemberDirectoryView
    from cookout.projections.positions import PositionWatcher

CHANNEL = "cookout_viewers"
VIEWER_COLUMNS = frozenset({"session_epoch", "time_zone", "email_confirmed"})
KEEP = 10_000  # members; the least recently seen are dropped first


class Viewers:
    def __init__(self, directory: MemberDirectoryView, watcher: PositionWatcher, keep: int = KEEP):
        self.directory = directory
        self.watcher = watcher
        self.keep = keep
        self.rows: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()
        self.drops = 0  # how many times something was dropped: a read that saw none since may be kept
        watcher.subscribe(CHANNEL, self.forget, self.forget_all)
        # A rebuilt directory switched in is other rows, whatever they say.
        watcher.subscribe(SWITCH_CHANNEL, lambda _view: self.forget_all(), self.forget_all)

    def kept(self, member_id: Any) -> dict[str, Any] | None:
        """The member's row if it is kept and still good, without a query; None otherwise."""
        key = str(member_id)
        if not self.watcher.start_listening():
            return None
        with self.lock:
            row = self.rows.get(key)
            if row is not None:
                self.rows.move_to_end(key)
            return row

    def get(self, member_id: Any) -> dict[str, Any] | None:
        """The member's `viewer` row (None for no such member): the kept one, or read and kept."""
        return self.kept(member_id) or self.read(member_id)

    def read(self, member_id: Any) -> dict[str, Any] | None:
        """The row as the directory has it now, kept for the next request."""
        with self.lock:
            drops = self.drops  # listening starting or stopping drops too
        row = self.directory.viewer(member_id)
        if row is not None:
            with self.lock:
                if self.drops == drops and self.watcher.listening_now():
                    self.rows[str(member_id)] = row
                    self.rows.move_to_end(str(member_id))
                    while len(self.rows) > self.keep:
                        self.rows.popitem(last=False)
        return row

    def forget(self, member_id: Any) -> None:
        with self.lock:
            self.drops += 1
            self.rows.pop(str(member_id), None)

    def forget_all(self) -> None:
        with self.lock:
            self.drops += 1
            self.rows.clear()
