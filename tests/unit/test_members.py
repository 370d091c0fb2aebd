"""Members: handles, emails and passwords as the Accounts service sees them."""

from __future__ import annotations

import pytest

from cookout.domain.accounts import Accounts
from cookout.domain.base import current_actor
from cookout.domain.errors import Conflict, Forbidden, InvalidInput
from cookout.domain.members import Passwords, parse_handle
from tests.conftest import FAST_HASHER


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(Passwords(FAST_HASHER), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_sign_up_records_a_member_with_a_hashed_password(accounts: Accounts) -> None:
    member_id = accounts.sign_up("amara", "Amara Okafor", "Amara@Example.org", "a long enough secret")
    member = accounts.get_member(member_id)
    assert (member.handle, member.display_name, member.email) == ("amara", "Amara Okafor", "Amara@example.org")
    assert member.password_hash.startswith("$argon2id$")
    assert accounts.passwords.matches(member.password_hash, "a long enough secret")
    assert not accounts.passwords.matches(member.password_hash, "a wrong secret!!")


def test_every_event_records_who_acted(accounts: Accounts) -> None:
    token = current_actor.set("system")
    try:
        member_id = accounts.sign_up("teo", "Teo", "teo@example.org", "a long enough secret")
    finally:
        current_actor.reset(token)
    token = current_actor.set(str(member_id))
    try:
        accounts.rename("Teo Lindqvist")
    finally:
        current_actor.reset(token)
    events = list(accounts.events.get(member_id))
    assert [type(e).__name__ for e in events] == ["Joined", "EmailConfirmationAsked", "Renamed"]
    assert [e.actor for e in events] == ["system", "system", str(member_id)]


def test_an_email_is_taken_whatever_its_case(accounts: Accounts) -> None:
    accounts.sign_up("gini", "Gini", "gini@example.org", "a long enough secret")
    with pytest.raises(Conflict) as taken:
        accounts.sign_up("gini2", "Gini Again", "GINI@EXAMPLE.ORG", "a long enough secret")
    assert taken.value.field == "email"


def test_a_handle_is_taken_once(accounts: Accounts) -> None:
    accounts.sign_up("priya", "Priya", "priya@example.org", "a long enough secret")
    with pytest.raises(Conflict) as taken:
        accounts.sign_up("priya", "Another Priya", "priya2@example.org", "a long enough secret")
    assert taken.value.field == "handle"


@pytest.mark.parametrize("handle", ["ab", "has space", "x" * 200, "Ünïcode", "semi;colon", ""])
def test_bad_handles_are_refused_with_a_message(handle: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_handle(handle)
    assert refused.value.field == "handle"
    assert "3 to 30" in refused.value.message


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("email", {"email": "two@@example.org"}),
        ("password", {"password": "short"}),
        ("display_name", {"display_name": "   "}),
        ("display_name", {"display_name": "x" * 81}),
    ],
)
def test_bad_sign_ups_record_nothing(accounts: Accounts, field: str, kwargs: dict[str, str]) -> None:
    values = {"handle": "melanie", "display_name": "Melanie", "email": "melanie@example.org",
              "password": "a long enough secret", **kwargs}
    with pytest.raises(InvalidInput) as refused:
        accounts.sign_up(**values)
    assert refused.value.field == field
    assert accounts.recorder.max_notification_id() in (None, 0)


def test_roles_are_granted_once(accounts: Accounts) -> None:
    member_id = accounts.sign_up("admin_one", "Admin", "admin@example.org", "a long enough secret")
    accounts.grant_role(member_id, "admin")
    accounts.grant_role(member_id, "admin")
    assert accounts.get_member(member_id).roles == {"admin"}
    assert [type(e).__name__ for e in accounts.events.get(member_id)] == ["Joined", "EmailConfirmationAsked", "RoleGranted"]
    with pytest.raises(InvalidInput):
        accounts.grant_role(member_id, "emperor")



def test_an_account_is_changed_only_by_a_signed_in_member_acting_for_themself(accounts: Accounts) -> None:
    member_id = accounts.sign_up("amara", "Amara", "amara@example.org", "a long enough secret")

    with pytest.raises(Forbidden) as refused:
        accounts.rename("Someone Else")

    assert refused.value.message == "Sign in to change your name."
    assert accounts.get_member(member_id).display_name == "Amara"
    assert [type(e).__name__ for e in accounts.events.get(member_id)] == ["Joined", "EmailConfirmationAsked"]


def test_a_member_chooses_a_time_zone_and_saving_it_again_records_nothing(accounts: Accounts) -> None:
    member_id = accounts.sign_up("priya", "Priya", "priya@example.org", "a long enough secret")
    token = current_actor.set(str(member_id))
    try:
        accounts.update_profile("Priya", True, "Asia/Kolkata")
        accounts.update_profile("Priya", True, "Asia/Kolkata")
        chosen = accounts.get_member(member_id).time_zone
        accounts.update_profile("Priya", True, "")
    finally:
        current_actor.reset(token)

    assert chosen == "Asia/Kolkata"
    assert accounts.get_member(member_id).time_zone is None
    assert [type(e).__name__ for e in accounts.events.get(member_id)][2:] == ["TimeZoneChosen", "TimeZoneChosen"]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/berlin", "Europe/Berlin\x00", "x" * 200])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(accounts: Accounts, zone: str) -> None:
    member_id = accounts.sign_up("ruth", "Ruth", "ruth@example.org", "a long enough secret")
    token = current_actor.set(str(member_id))
    try:
        with pytest.raises(InvalidInput) as refused:
            accounts.update_profile("Ruth Renamed", True, zone)
    finally:
        current_actor.reset(token)

    assert refused.value.field == "time_zone"
    assert accounts.get_member(member_id).display_name == "Ruth"
