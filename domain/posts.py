"""Posts: what members publish in a tribe, with every version they wrote kept."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from eventsourcing.domain import event

from cookout.domain.base import CookoutAggregate
from cookout.domain.errors import Forbidden, InvalidInput, NotAllowedNow
from cookout.domain.text import clean_text

MAX_BODY = 10_000


def parse_title(value: str) -> str:
    title = clean_text(value, "title", one_line=True, what="The title")
    if not 1 <= len(title) <= 200:
        raise InvalidInput("Give a title of 1 to 200 characters.", field="title")
    return title


def parse_body(value: str) -> str:
    body = clean_text(value, "body", one_line=False, what="What you wrote")
    if not body:
        raise InvalidInput("Write something first.", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"Keep it under {MAX_BODY:,} characters.", field="body")
    return body


def parse_reason(value: str) -> str:
    reason = clean_text(value, "reason", one_line=True, what="The reason")
    if not 1 <= len(reason) <= 500:
        raise InvalidInput("Say why, in under 500 characters.", field="reason")
    return reason


class Version(NamedTuple):
    body: str
    title: str
    edited_at: datetime


class Post(CookoutAggregate):
    @event("PostPublished")
    def __init__(self, tribe_id: UUID, author_id: UUID, title: str, body: str):
        self.tribe_id = tribe_id
        self.author_id = author_id
        self.versions = [Version(body, title, self.created_on)]
        self.retracted = False
        self.hidden_reason: str | None = None

    # The library passes the event's own timestamp to `timestamp` when the event
    # is applied, so replays show when each version was really written.
    def edit(self, title: str, body: str) -> bool:
        """A new version, unless title and text are what they were; returns whether there was one."""
        self.check_not_retracted()
        if (body, title) == self.versions[-1][:2]:
            return False
        self._edit(title, body)
        return True

    @event("PostEdited")
    def _edit(self, title: str, body: str, timestamp: datetime | None = None) -> None:
        self.versions.append(Version(body, title, timestamp))  # type: ignore[arg-type]

    @event("PostRetracted")
    def retract(self) -> None:
        self.check_not_retracted()
        self.retracted = True

    @event("PostHidden")
    def hide(self, reason: str) -> None:
        self.check_not_retracted()
        if self.hidden:
            raise NotAllowedNow("This post is already hidden.")
        self.hidden_reason = reason

    @event("PostUnhidden")
    def unhide(self) -> None:
        if not self.hidden:
            raise NotAllowedNow("This post is not hidden.")
        self.hidden_reason = None

    @property
    def title(self) -> str:
        return self.versions[-1].title

    @property
    def body(self) -> str:
        return self.versions[-1].body

    @property
    def hidden(self) -> bool:
        return self.hidden_reason is not None

    @property
    def edited(self) -> bool:
        return len(self.versions) > 1

    def check_is_author(self, member_id: UUID | None) -> None:
        if member_id != self.author_id:
            raise Forbidden("Only its author can change a post.")

    def check_not_retracted(self) -> None:
        if self.retracted:
            raise NotAllowedNow("This post was retracted.")

    def check_open_for_comments(self) -> None:
        self.check_not_retracted()
        if self.hidden:
            raise NotAllowedNow("This post was hidden by a moderator.")
