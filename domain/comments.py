"""Comments: one aggregate each, so a busy thread never queues on a single stream.

A comment is written by a member or by a guest (name, email, website). Guests
are held for moderation until a moderator has approved one comment from their
email; that approval is remembered by an `Index` keyed by `approved_guest_key`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import event

from cookout.domain.base import PERSONAL_KEYS, CookoutAggregate
from cookout.domain.errors import Forbidden, InvalidInput, NotAllowedNow
from cookout.domain.personal import FORMER_GUEST, guest_subject, personal
from cookout.domain.text import clean_name, clean_text

VISIBLE = "visible"
PENDING = "pending"
HIDDEN = "hidden"
SPAM = "spam"

MAX_DEPTH = 5


class Guest(NamedTuple):
    name: str
    email: str
    website: str | None


class Version(NamedTuple):
    body: str
    edited_at: datetime


def approved_guest_key(email: str) -> str:
    return f"approved-guest:{email.lower()}"


PERSONAL_KEYS["approved-guest:"] = lambda email, _comment_id: guest_subject(email)


def parse_guest(name: str, email: str, website: str = "") -> Guest:
    return Guest(_parse_guest_name(name), _parse_email(email), _parse_website(website))


def _parse_guest_name(value: str) -> str:
    name = clean_name(value, "name", what="Your name")
    if not 1 <= len(name) <= 80:
        raise InvalidInput("Give your name, up to 80 characters.", field="name")
    return name


def _parse_email(value: str) -> str:
    address = clean_text(value, "email", one_line=True, max_length=320, what="Your email address")
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(f"That email address won't work: {error}", field="email") from None


def _parse_website(value: str) -> str | None:
    website = clean_text(value, "website", one_line=True, max_length=300, what="The website")
    if not website:
        return None
    try:
        parts = urlsplit(website)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(website) > 300
        or any(c.isspace() for c in website)
    ):
        raise InvalidInput("A website is an http:// or https:// address.", field="website")
    return website


def depth_below(parent: Comment | None) -> int:
    # Threads stop nesting at MAX_DEPTH: deeper replies sit beside their parent.
    return 1 if parent is None else min(parent.depth + 1, MAX_DEPTH)


class Comment(CookoutAggregate):
    @event("CommentPosted")
    def __init__(
        self,
        post_id: UUID,
        tribe_id: UUID,
        parent_id: UUID | None,
        depth: int,
        author_id: UUID | None,
        guest_name: str | None,
        guest_email: str | None,
        guest_website: str | None,
        body: str,
        status: str,
    ):
        self.post_id = post_id
        self.tribe_id = tribe_id
        self.parent_id = parent_id
        self.depth = depth
        self.author_id = author_id
        self.guest = Guest(guest_name, guest_email, guest_website) if guest_email else None
        self.versions = [Version(body, self.created_on)]
        self.status = status
        self.hidden_reason: str | None = None
        self.retracted = False

    # The library passes the event's own timestamp to `timestamp` when the event
    # is applied, so replays show when each version was really written.
    def edit(self, body: str) -> bool:
        """A new version, unless it says what the last one did; returns whether there was one."""
        self.check_not_retracted()
        if self.status == SPAM:
            raise NotAllowedNow("This comment was marked as spam.")
        if body == self.versions[-1].body:
            return False
        self._edit(body)
        return True

    @event("CommentEdited")
    def _edit(self, body: str, timestamp: datetime | None = None) -> None:
        self.versions.append(Version(body, timestamp))  # type: ignore[arg-type]

    @event("CommentRetracted")
    def retract(self) -> None:
        self.check_not_retracted()
        self.retracted = True

    @event("CommentApproved")
    def approve(self) -> None:
        self.check_not_retracted()
        if self.status == VISIBLE:
            raise NotAllowedNow("This comment is already visible.")
        self.status = VISIBLE
        self.hidden_reason = None

    @event("CommentHidden")
    def hide(self, reason: str) -> None:
        self.check_not_retracted()
        if self.status == HIDDEN:
            raise NotAllowedNow("This comment is already hidden.")
        self.status = HIDDEN
        self.hidden_reason = reason

    @event("CommentMarkedSpam")
    def mark_spam(self) -> None:
        self.check_not_retracted()
        if self.status == SPAM:
            raise NotAllowedNow("This comment is already marked as spam.")
        self.status = SPAM
        self.hidden_reason = None

    @event("CommentFlagsDismissed")
    def dismiss_flags(self) -> None:
        """A moderator read the flags and kept the comment as it is."""
        self.check_not_retracted()
        if self.status != VISIBLE:
            raise NotAllowedNow("Only a visible comment's flags can be dismissed.")

    @property
    def body(self) -> str:
        return self.versions[-1].body

    @property
    def edited(self) -> bool:
        return len(self.versions) > 1

    @property
    def is_visible(self) -> bool:
        return self.status == VISIBLE and not self.retracted

    def check_is_author(self, member_id: UUID | None) -> None:
        if member_id is None or member_id != self.author_id:
            raise Forbidden("Only its author can change a comment.")

    def check_not_retracted(self) -> None:
        if self.retracted:
            raise NotAllowedNow("This comment was retracted.")

    def check_open_for_replies(self) -> None:
        if not self.is_visible:
            raise NotAllowedNow("You can't reply to this comment.")


# A guest's details are sealed with a key of that address's own (domain/personal.py).
personal(Comment.CommentPosted,
         lambda state: guest_subject(state["guest_email"]) if state.get("guest_email") else None,
         guest_name=FORMER_GUEST, guest_email=None, guest_website=None)
