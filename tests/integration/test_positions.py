"""Read-your-writes: many requests wait on one watcher of the views' positions."""

from __future__ import annotations

import threading
import time

from cookout.platform.container import Container
from cookout.projections.members import MemberDirectory
from cookout.projections.registry import PROJECTIONS
from tests.helpers import PASSWORD, unique


def test_every_waiter_is_released_once_the_views_apply_the_command(container: Container) -> None:
    container.accounts.sign_up(unique(), "Waited For", f"{unique()}@example.org", PASSWORD)
    head = container.log_position()
    results: list[bool] = []
    waiters = [threading.Thread(target=lambda: results.append(container.wait_for(head, timeout=5))) for _ in range(8)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join()
    assert results == [True] * 8
    for projection in PROJECTIONS:
        assert container.view(projection).position() >= head


def test_a_position_the_log_has_not_reached_times_out_quickly(container: Container) -> None:
    started = time.monotonic()
    assert container.wait_for(container.log_position() + 1000, (MemberDirectory,), timeout=0.2) is False
    assert time.monotonic() - started < 1.0
