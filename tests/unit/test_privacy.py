"""The organiser's list of letters names people, never their addresses, not even inside an SMTP error."""

from __future__ import annotations

from cookout.platform.web.privacy import letters_without_addresses


def test_a_bounced_letter_shows_the_handle_and_the_error_without_the_address() -> None:
    letters = [{"kind": "meetup_invitation", "status": "failed", "recipient": "vera@example.org",
                "member_id": "m1", "last_error": "550 <Vera@Example.org>: mailbox unavailable"}]
    [shown] = letters_without_addresses(letters, {"m1": {"handle": "vera", "display_name": "Vera V"}})
    assert (shown["handle"], shown["display_name"]) == ("vera", "Vera V")
    assert shown["last_error"] == "550 <their address>: mailbox unavailable"
    assert "example.org" not in str(shown)
