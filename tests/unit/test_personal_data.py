"""Personal data in the log: sealed with its person's key, opened on reading, and gone once the key is."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from eventsourcing.persistence import Mapper, StoredEvent

from cookout.domain.accounts import Accounts
from cookout.domain.base import SYSTEM, acting_as, current_actor
from cookout.domain.errors import NotFound
from cookout.domain.members import Member, Passwords
from cookout.domain.personal import FORMER_MEMBER, former_handle
from tests.unit.conversation_fixtures import Community, act_as

PASSWORD = "correct horse battery"
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)), env=IN_MEMORY)


def stored_events(accounts: Accounts, member_id) -> list[StoredEvent]:
    return list(accounts.recorder.select_events(member_id))


def test_a_members_handle_name_and_address_are_not_in_the_log_as_written(accounts: Accounts) -> None:
    member_id = accounts.sign_up("ada_l", "Ada Lovelace", "ada@example.org", PASSWORD)
    joined = stored_events(accounts, member_id)[0]
    assert b"ada@example.org" not in joined.state
    assert b"Ada Lovelace" not in joined.state
    assert b"ada_l" not in joined.state
    member = accounts.get_member(member_id)
    assert (member.handle, member.display_name, member.email) == ("ada_l", "Ada Lovelace", "ada@example.org")


def test_the_unique_keys_of_an_address_and_handle_are_sealed_too(accounts: Accounts) -> None:
    accounts.sign_up("ada_l", "Ada Lovelace", "ada@example.org", PASSWORD)
    everything = b"".join(n.state for n in accounts.recorder.select_notifications(start=1, limit=100))
    assert b"ada@example.org" not in everything and b"ada_l" not in everything


def test_once_the_key_is_deleted_the_log_reads_as_a_former_member(accounts: Accounts) -> None:
    member_id = accounts.sign_up("ada_l", "Ada Lovelace", "ada@example.org", PASSWORD)
    with acting_as(member_id):
        accounts.rename("Countess Ada")
        accounts.leave()
    events = [accounts.mapper.to_domain_event(stored) for stored in stored_events(accounts, member_id)]
    joined = events[0]
    assert isinstance(joined, Member.Joined)
    assert (joined.handle, joined.display_name, joined.email) == (former_handle(member_id), FORMER_MEMBER, "")
    renamed = next(e for e in events if isinstance(e, Member.Renamed))
    assert renamed.display_name == FORMER_MEMBER
    with pytest.raises(NotFound):
        accounts.get_member(member_id)


def test_leaving_frees_the_handle_and_the_address(accounts: Accounts) -> None:
    member_id = accounts.sign_up("ada_l", "Ada Lovelace", "ada@example.org", PASSWORD)
    with acting_as(member_id):
        accounts.leave()
    assert accounts.member_id_for_handle("ada_l") is None
    again = accounts.sign_up("ada_l", "Another Ada", "ada@example.org", PASSWORD)
    assert again != member_id
    assert accounts.get_member(again).display_name == "Another Ada"


def test_events_written_before_sealing_still_read_as_they_were(accounts: Accounts) -> None:
    member = Member("old_timer", "Old Timer", "old@example.org", "hash")
    joined = member.collect_events()[0]
    plain = Mapper.to_stored_event(accounts.mapper, joined)  # as the library's own mapper wrote it, before sealing
    assert b"old@example.org" in plain.state
    event = accounts.mapper.to_domain_event(plain)
    assert (event.handle, event.display_name, event.email) == ("old_timer", "Old Timer", "old@example.org")


def test_events_with_nothing_personal_are_written_as_they_are(accounts: Accounts) -> None:
    member_id = accounts.sign_up("ada_l", "Ada Lovelace", "ada@example.org", PASSWORD, confirmed=True)
    with acting_as(member_id):
        accounts.update_profile("Ada Lovelace", False)
    chosen = stored_events(accounts, member_id)[-1]
    assert json.loads(chosen.state)["enabled"] is False


def test_a_guests_name_address_and_subscription_are_sealed_and_still_read_by_moderation() -> None:
    app = Community.in_memory()
    act_as(organiser := uuid4())
    tribe_id = app.tribes.found_tribe("The Crazies", "crazies", "", "crazies", "public")
    post_id = app.threads.publish_post(tribe_id, "Dawn run", "Meet at six.")
    current_actor.set(SYSTEM)
    held = app.threads.post_comment(post_id, "Hello", name="Gina Guest", email="gina@example.org", notify=True)
    everything = b"".join(n.state for n in app.tribes.recorder.select_notifications(start=1, limit=100))
    assert b"gina@example.org" not in everything and b"Gina Guest" not in everything
    act_as(organiser)
    app.moderation.approve_comment(held)  # reads the guest's address to remember it as approved
    guest = app.threads.get_comment(held).guest
    assert guest is not None and (guest.name, guest.email) == ("Gina Guest", "gina@example.org")
    assert app.threads.post_comment(post_id, "Again", name="Gina Guest", email="gina@example.org") is not None
    everything = b"".join(n.state for n in app.tribes.recorder.select_notifications(start=1, limit=100))
    assert b"gina@example.org" not in everything
