"""The member directory projection: what it holds, and that a rebuild from the log gives the same rows."""

from __future__ import annotations

from cookout.domain.base import acting_as, current_actor
from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.projections.members import MemberDirectory
from tests.helpers import PASSWORD, rebuilding, unique


def test_directory_follows_joins_renames_and_roles(container: Container) -> None:
    handle = unique()
    member_id = container.accounts.sign_up(handle, "First Name", f"{handle}@Example.org", PASSWORD)
    with acting_as(member_id):
        container.accounts.rename("Second Name")
    container.accounts.grant_role(member_id, "admin")
    assert container.wait_for(container.log_position(), (MemberDirectory,))

    row = container.view(MemberDirectory).by_handle(handle)
    assert row["display_name"] == "Second Name"
    assert row["email"] == f"{handle}@example.org"
    assert row["roles"] == ["admin"]
    assert container.view(MemberDirectory).credentials(f"{handle.upper()}@EXAMPLE.ORG")["id"] == member_id


def test_every_event_advances_the_directory_position(container: Container) -> None:
    container.accounts.sign_up(unique(), "Someone", f"{unique()}@example.org", PASSWORD)
    head = container.log_position()
    assert container.wait_for(head, (MemberDirectory,))
    assert container.view(MemberDirectory).position() >= head


def test_rebuilding_the_directory_from_the_log_gives_identical_rows(container: Container) -> None:
    token = current_actor.set("system")
    try:
        for _ in range(3):
            handle = unique()
            member_id = container.accounts.sign_up(handle, "Rebuilt", f"{handle}@example.org", PASSWORD)
            with acting_as(member_id):
                container.accounts.rename(f"Rebuilt {handle}")
    finally:
        current_actor.reset(token)
    assert container.wait_for(container.log_position(), (MemberDirectory,))
    before = container.view(MemberDirectory).snapshot()

    # A second container, as `cookout projections rebuild` would open.
    with rebuilding(container) as other:
        rebuild(other, MemberDirectory)
        after = other.view(MemberDirectory).snapshot()
    assert after == before
    assert len(after) >= 3
