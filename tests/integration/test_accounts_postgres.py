"""Accounts on the real event store: uniqueness holds under concurrency."""

from __future__ import annotations

import threading

import pytest

from cookout.domain.errors import Conflict
from cookout.platform.container import Container
from cookout.projections.members import MemberDirectory
from tests.helpers import PASSWORD, unique


def test_two_simultaneous_sign_ups_with_one_email_make_exactly_one_member(container: Container) -> None:
    email = f"{unique('race')}@example.org"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(handle: str) -> None:
        barrier.wait()
        try:
            container.accounts.sign_up(handle, "Racer", email.upper() if handle.endswith("b") else email, PASSWORD)
            outcomes.append("joined")
        except Conflict as error:
            outcomes.append(error.field or "")

    threads = [threading.Thread(target=attempt, args=(unique("r") + suffix,)) for suffix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["email", "joined"]
    assert container.wait_for(container.log_position(), (MemberDirectory,))
    rows = container.view(MemberDirectory).rows(
        "SELECT handle FROM members WHERE lower(email) = lower(%(e)s)", {"e": email}
    )
    assert len(rows) == 1


@pytest.mark.parametrize("attempts", [8])
def test_many_simultaneous_sign_ups_with_one_handle_make_exactly_one_member(container: Container, attempts: int) -> None:
    handle = unique("h")
    barrier = threading.Barrier(attempts)
    joined: list[int] = []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            container.accounts.sign_up(handle, "Racer", f"{handle}{n}@example.org", PASSWORD)
            joined.append(n)
        except Conflict:
            pass

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(joined) == 1
