"""The Accounts service: joining Cookout and looking after one's account.

Signing up has nobody acting yet; every other command looks after the acting member's own account.
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from cookout.domain.base import CookoutApplication, Index, IntegrityError
from cookout.domain.errors import Conflict, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.members import (
    CONFIRMATION_USED,
    RESET_USED,
    Member,
    Passwords,
    email_key,
    handle_key,
    parse_display_name,
    parse_email,
    parse_handle,
    parse_time_zone,
)
from cookout.domain.service import command

EMAIL_TAKEN = "An account with that email already exists. Sign in instead?"
EMAIL_TAKEN_BY_ANOTHER = "Another account already uses that email address."
HANDLE_TAKEN = "That handle is taken. Try another?"


class Accounts(CookoutApplication):
    def __init__(self, passwords: Passwords, env: Any = None, **kwargs: Any):
        super().__init__(env, **kwargs)
        self.passwords = passwords

    def sign_up(self, handle: str, display_name: str, email: str, password: str, confirmed: bool = False) -> UUID:
        """A new member; their address must be confirmed through the letter sent to it, unless the operator
        vouches for it (`confirmed`: the demo's made-up people)."""
        handle = parse_handle(handle)
        display_name = parse_display_name(display_name)
        email = parse_email(email)
        self.check_available(handle, email)
        # Released by a member who changed address or left Cookout.
        email_index = self._find_index(email_key(email))
        handle_index = self._find_index(handle_key(handle))
        member = Member(handle, display_name, email, self.passwords.hash(password))
        if not confirmed:
            member.ask_email_confirmation()
        try:
            # The two index aggregates make uniqueness atomic: a concurrent sign-up
            # claiming the same email or handle collides here and saves nothing.
            self.save(member, self._claim(email_index, email_key(email), member.id),
                      self._claim(handle_index, handle_key(handle), member.id))
        except IntegrityError:
            self.check_available(handle, email)
            raise Conflict(EMAIL_TAKEN, field="email") from None
        return member.id

    def check_available(self, handle: str, email: str) -> None:
        if self._index_ref(email_key(email)) is not None:
            raise Conflict(EMAIL_TAKEN, field="email")
        if self._index_ref(handle_key(handle)) is not None:
            raise Conflict(HANDLE_TAKEN, field="handle")

    @command("change your name")
    def rename(self, member_id: UUID, display_name: str) -> None:
        member = self.get_member(member_id)
        member.rename(parse_display_name(display_name))
        self.save(member)

    @command("change your password")
    def change_password(self, member_id: UUID, password: str) -> int:
        """A new password ends every session signed in with the old one; returns the new session epoch."""
        member = self.get_member(member_id)
        member.change_password(self.passwords.hash(password))
        epoch = member.end_sessions()
        self.save(member)
        return epoch

    @staticmethod
    def _claim(index: Index | None, key: str, ref: UUID) -> Index:
        if index is None:
            return Index(key, ref)
        if index.ref is not None:
            raise Conflict(EMAIL_TAKEN, field="email")
        index.reclaim(ref)
        return index

    @command("change your email")
    def request_email_change(self, member_id: UUID, email: str) -> None:
        """Sends a confirmation link to the new address; the address changes when it is followed."""
        member = self.get_member(member_id)
        email = parse_email(email)
        if email.lower() == member.email.lower():
            raise InvalidInput("That is already your address.", field="email")
        if self._index_ref(email_key(email)) is not None:
            raise Conflict(EMAIL_TAKEN_BY_ANOTHER, field="email")
        member.request_email_change(email)
        self.save(member)

    def confirm_email(self, member_id: UUID, asked_at: int) -> None:
        """Following a confirmation link; it needs no sign-in, as the link is the proof. A change of address
        moves the address's claim from the old one to the new one in the same save."""
        member = self.get_member(member_id)
        before = member.email
        member.confirm_email(asked_at)
        claims: list[Index] = []
        if member.email != before:
            if self._index_ref(email_key(member.email)) is not None:
                raise Conflict(EMAIL_TAKEN_BY_ANOTHER, field="email")
            claims.append(self._claim(self._find_index(email_key(member.email)), email_key(member.email), member.id))
            old = self._find_index(email_key(before))
            if old is not None and old.ref == member.id:
                old.release()
                claims.append(old)
        try:
            self.save(member, *claims)
        except IntegrityError:  # followed twice at once, or someone took the address meanwhile
            if self._index_ref(email_key(member.email)) not in (None, member.id):
                raise Conflict(EMAIL_TAKEN_BY_ANOTHER, field="email") from None
            raise NotAllowedNow(CONFIRMATION_USED) from None

    def request_password_reset(self, email: str) -> None:
        """A reset link for the member with this address, by email; for an address nobody has, nothing
        happens (and the asker is told the same either way)."""
        try:
            member_id = self._index_ref(email_key(parse_email(email)))
        except InvalidInput:
            return
        if member_id is None:
            return
        member = self.get_member(member_id)
        member.request_password_reset()
        self.save(member)

    def reset_password(self, member_id: UUID, requested_at: int, password: str) -> int:
        """A new password through the link asked for at version `requested_at`; like a change, it ends every
        session. Returns the new session epoch."""
        member = self.get_member(member_id)
        member.reset_password(self.passwords.hash(password), requested_at)
        epoch = member.end_sessions()
        try:
            self.save(member)
        except IntegrityError:  # the same link used twice at once: the other use won
            raise NotAllowedNow(RESET_USED) from None
        return epoch

    @command("sign out")
    def end_sessions(self, member_id: UUID) -> int:
        """Sign out everywhere: every copy of every session this member has stops working."""
        member = self.get_member(member_id)
        epoch = member.end_sessions()
        self.save(member)
        return epoch

    @command("change your settings")
    def update_profile(self, member_id: UUID, display_name: str, reply_emails: bool,
                       time_zone: str | None = None) -> None:
        """Save the settings form at once: only what changed is recorded. `time_zone` is an IANA name, or
        "" for none (pages follow the browser's); None leaves it as it is."""
        member = self.get_member(member_id)
        display_name = parse_display_name(display_name)
        zone = parse_time_zone(time_zone) if time_zone is not None else member.time_zone
        if member.display_name != display_name:
            member.rename(display_name)
        if member.reply_emails != reply_emails:
            member.choose_reply_emails(reply_emails)
        if member.time_zone != zone:
            member.choose_time_zone(zone)
        self.save(member)

    @command("delete your account")
    def leave(self, member_id: UUID) -> None:
        """Deletes the account: every session ends, the handle and the address are free for anyone again, and
        the member's key is deleted, so what the log says about who they were can no longer be read."""
        member = self.get_member(member_id)
        member.end_sessions()
        member.leave()
        freed: list[Index] = []
        for key in (email_key(member.email), handle_key(member.handle)):
            index = self._find_index(key)
            if index is not None and index.ref == member.id:
                index.release()
                freed.append(index)
        self.save(member, *freed)
        self.keys.shred(member.id)

    @command("get a calendar link")
    def issue_calendar_feed(self, member_id: UUID) -> str:
        """A new secret feed link; any earlier link stops working."""
        member = self.get_member(member_id)
        token = secrets.token_urlsafe(24)
        member.issue_calendar_feed(token)
        self.save(member)
        return token

    @command("switch off a calendar link")
    def revoke_calendar_feed(self, member_id: UUID) -> None:
        member = self.get_member(member_id)
        member.revoke_calendar_feed()
        self.save(member)

    @command()
    def grant_role(self, _granter: UUID | None, member_id: UUID, role: str) -> None:
        """Grants a site role to the member named, who need not be the one acting."""
        member = self.get_member(member_id)
        member.grant_role(role)
        self.save(member)

    def get_member(self, member_id: UUID) -> Member:
        member: Member = self._get(member_id, Member, "member")
        if member.left:
            raise NotFound("No such member.")
        return member

    def member_id_for_handle(self, handle: str) -> UUID | None:
        return self._index_ref(handle_key(handle))
