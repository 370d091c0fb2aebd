"""The per-recipient organiser address of an invitation: `rsvp+<token>@domain`, where calendar answers go."""

from __future__ import annotations

from uuid import uuid4

from cookout.platform.links import read_rsvp_address, rsvp_address
from cookout.platform.settings import Settings

SETTINGS = Settings(secret_key="unit-test-secret", mail_from="Picnics <hello@picnics.example>")


def test_the_address_fits_a_local_part_is_lower_case_and_the_same_in_every_message_about_one_entry() -> None:
    member = uuid4()
    address = rsvp_address(SETTINGS, "abc@cookout", member)

    local, _, domain = address.partition("@")
    assert domain == "picnics.example" and local.startswith("rsvp+")
    assert len(local) <= 64 and address == address.lower()
    assert rsvp_address(SETTINGS, "abc@cookout", member) == address
    assert rsvp_address(SETTINGS, "other@cookout", member) != address
    assert rsvp_address(SETTINGS, "abc@cookout", uuid4()) != address


def test_read_back_in_any_case_it_names_the_member_and_fits_only_its_own_entry() -> None:
    member = uuid4()
    token = read_rsvp_address(SETTINGS, "mailto:" + rsvp_address(SETTINGS, "abc@cookout", member).upper())

    assert token is not None and token.member_id == member
    assert token.is_for(SETTINGS, "abc@cookout")
    assert not token.is_for(SETTINGS, "other@cookout")
    assert not token.is_for(Settings(secret_key="another-instance", mail_from=SETTINGS.mail_from), "abc@cookout")


def test_other_addresses_carry_no_token() -> None:
    address = rsvp_address(SETTINGS, "abc@cookout", uuid4())
    local = address.partition("@")[0]
    for other in ("hello@picnics.example", f"{local}@elsewhere.example", "rsvp+@picnics.example",
                  "rsvp+!!!@picnics.example", f"{local[:-3]}@picnics.example", ""):
        assert read_rsvp_address(SETTINGS, other) is None, other


def test_cookout_reply_domain_names_where_answers_go() -> None:
    settings = SETTINGS.model_copy(update={"reply_domain": "Answers.Picnics.Example"})

    assert rsvp_address(settings, "abc@cookout", uuid4()).endswith("@answers.picnics.example")
