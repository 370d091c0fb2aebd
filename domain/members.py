"""Members: the people of a Cookout instance, their handles, emails and passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import event
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from cookout.domain.base import PERSONAL_KEYS, CookoutAggregate
from cookout.domain.errors import InvalidInput, NotAllowedNow
from cookout.domain.schedule import zone
from cookout.domain.personal import FORMER_MEMBER, former_handle, personal
from cookout.domain.text import clean_name, clean_text

HANDLE_PATTERN = re.compile(r"[a-z0-9_]{3,30}")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024
DISPLAY_NAME_MAX_LENGTH = 80
ROLES = frozenset({"admin"})
CONFIRMATION_USED = "This confirmation link was already used, or a newer one was sent since."
RESET_USED = "This reset link was already used, or your password changed since. Ask for a new link."

# The most common passwords (zxcvbn's list, lowercase), refused at sign-up and on a change.
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"][:10000])


class Member(CookoutAggregate):
    # The zone pages show times in; None follows the browser's (members who joined before there was a choice).
    time_zone: str | None = None

    @event("Joined")
    def __init__(self, handle: str, display_name: str, email: str, password_hash: str):
        self.handle = handle
        self.display_name = display_name
        self.email = email
        self.password_hash = password_hash
        self.roles: set[str] = set()
        self.reply_emails = True
        self.calendar_token: str | None = None
        self.session_epoch = 0
        # Members who joined before addresses were confirmed count as confirmed; a sign-up asks at once.
        self.email_confirmed = True
        self.confirmation_asked_at = 0
        self.pending_email: str | None = None
        self.email_change_asked_at = 0
        self.left = False

    @event("EmailConfirmationAsked")
    def ask_email_confirmation(self) -> None:
        """Until the link sent now is followed, Cookout writes this address nothing else."""
        self.email_confirmed = False
        self.confirmation_asked_at = self.version + 1  # this event's version, which the link names

    @event("EmailChangeRequested")
    def request_email_change(self, email: str) -> None:
        """The address changes once the link sent to the new one is followed; until then the old one stays."""
        self.pending_email = email
        self.email_change_asked_at = self.version + 1

    def confirm_email(self, asked_at: int) -> None:
        """The link from the confirmation asked for at version `asked_at` was followed: at sign-up it
        confirms the address, after a change request it makes the new address the member's."""
        if self.pending_email is not None and asked_at == self.email_change_asked_at:
            self._change_email(self.pending_email, self.email)
            return
        if self.email_confirmed or asked_at != self.confirmation_asked_at:
            raise NotAllowedNow(CONFIRMATION_USED)
        self._confirm_email()

    @event("EmailChanged")
    def _change_email(self, email: str, previous: str) -> None:
        self.email = email
        self.pending_email = None
        self.email_confirmed = True  # following the link sent to it confirmed it

    @event("EmailConfirmed")
    def _confirm_email(self) -> None:
        self.email_confirmed = True

    @event("Renamed")
    def rename(self, display_name: str) -> None:
        self.display_name = display_name

    @event("PasswordChanged")
    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        # A reset link asked for before this version no longer works (see `reset_password`).
        self.password_changed_at = self.version

    @event("PasswordResetRequested")
    def request_password_reset(self) -> None:
        """Someone asked for a reset link to this member's address; the link names this event's version."""

    def reset_password(self, password_hash: str, requested_at: int) -> None:
        """A new password through a reset link asked for at version `requested_at`: once the password has
        changed since (by this link or any other way), the link is used up."""
        if requested_at <= getattr(self, "password_changed_at", 0):
            raise NotAllowedNow(RESET_USED)
        self.change_password(password_hash)

    def end_sessions(self) -> int:
        """Every session signed in before this stops working; returns the epoch new ones carry."""
        self._end_sessions(self.session_epoch + 1)
        return self.session_epoch

    @event("SessionsEnded")
    def _end_sessions(self, session_epoch: int) -> None:
        self.session_epoch = session_epoch

    @event("ReplyEmailsChosen")
    def choose_reply_emails(self, enabled: bool) -> None:
        self.reply_emails = enabled

    @event("TimeZoneChosen")
    def choose_time_zone(self, time_zone: str | None) -> None:
        self.time_zone = time_zone

    @event("CalendarFeedIssued")
    def issue_calendar_feed(self, token: str) -> None:
        self.calendar_token = token

    def revoke_calendar_feed(self) -> None:
        if self.calendar_token is not None:
            self._revoke_calendar_feed()

    @event("CalendarFeedRevoked")
    def _revoke_calendar_feed(self) -> None:
        self.calendar_token = None

    @event("LeftCookout")
    def leave(self) -> None:
        """The member deleted their account; with their key gone, the log no longer says who they were."""
        self.left = True

    def grant_role(self, role: str) -> None:
        if role not in ROLES:
            raise InvalidInput(f"There is no role called {role!r}.", field="role")
        if role not in self.roles:
            self._grant_role(role)

    @event("RoleGranted")
    def _grant_role(self, role: str) -> None:
        self.roles.add(role)


# What names a member is sealed with their own key in the log (domain/personal.py).
personal(Member.Joined, handle=former_handle, display_name=FORMER_MEMBER, email="")
personal(Member.Renamed, display_name=FORMER_MEMBER)
personal(Member.EmailChangeRequested, email="")
personal(Member.EmailChanged, email="", previous="")


def parse_handle(raw: str) -> str:
    handle = clean_name(raw, "handle", what="A handle").lower()
    if not HANDLE_PATTERN.fullmatch(handle):
        raise InvalidInput(
            "A handle is 3 to 30 characters: lowercase letters, digits and underscores.",
            field="handle",
        )
    return handle


def parse_display_name(raw: str) -> str:
    name = " ".join(clean_name(raw, "display_name", what="A display name").split())
    if not name:
        raise InvalidInput("Tell us the name people know you by.", field="display_name")
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"A display name is at most {DISPLAY_NAME_MAX_LENGTH} characters.", field="display_name"
        )
    return name


def parse_time_zone(raw: str) -> str | None:
    """An IANA zone name such as Europe/Berlin, or None (nothing chosen: the browser's zone)."""
    name = clean_text(raw, "time_zone", one_line=True, max_length=100, what="The time zone")
    return zone(name, field="time_zone").key if name else None


def parse_email(raw: str, field: str = "email") -> str:
    """A syntactically valid address, normalised; uniqueness compares it lowercased."""
    address = clean_text(raw, field, one_line=True, max_length=320, what="An email address")
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(f"That is not an email address we can write to: {error}", field=field) from None


def email_key(email: str) -> str:
    return f"member-email:{email.lower()}"


def handle_key(handle: str) -> str:
    return f"member-handle:{handle}"


PERSONAL_KEYS["member-email:"] = PERSONAL_KEYS["member-handle:"] = lambda _key, member_id: member_id


class Passwords:
    """Hashes and checks passwords with the one argon2id hasher the composition root gives it (tests
    give a fast one)."""

    def __init__(self, hasher: PasswordHasher):
        self.hasher = hasher
        # Made by the hasher in use, so checking it costs what checking a member's hash costs.
        self.dummy_hash = hasher.hash("no account has this password")

    def hash(self, password: str) -> str:
        check_password(password)
        return self.hasher.hash(password)

    def matches(self, password_hash: str | None, password: str) -> bool:
        """With no hash (nobody by that name, or a former member) the dummy is checked, so the answer takes as long
        as for a member."""
        try:
            return self.hasher.verify(password_hash or self.dummy_hash, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False


def check_password(password: str) -> None:
    """Validate a password without paying for the hash."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"Choose a password of at least {PASSWORD_MIN_LENGTH} characters.", field="password"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput("That password is too long.", field="password")
    if password.lower() in COMMON_PASSWORDS:
        raise InvalidInput(
            "That password is one of the most common ones, the first that attackers try. Choose another.",
            field="password",
        )
