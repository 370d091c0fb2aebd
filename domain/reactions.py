"""Likes and flags: one small aggregate per member and target.

Their ids come from (member, target), so one member can never hold two likes
or two flags on the same thing: concurrent attempts collide on one stream.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from cookout.domain.base import CookoutAggregate
from cookout.domain.errors import InvalidInput, NotAllowedNow
from cookout.domain.text import clean_text

POST = "post"
COMMENT = "comment"


def parse_flag_reason(value: str) -> str:
    reason = clean_text(value, "reason", one_line=True, what="The reason")
    if len(reason) > 500:
        raise InvalidInput("Keep the reason under 500 characters.", field="reason")
    return reason


class Like(CookoutAggregate):
    @staticmethod
    def create_id(member_id: UUID, target_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/cookout/like/{member_id}/{target_id}")

    @event("Liked")
    def __init__(self, member_id: UUID, target_id: UUID, target_kind: str):
        self.member_id = member_id
        self.target_id = target_id
        self.target_kind = target_kind
        self.liked = True

    @event("LikedAgain")
    def like(self) -> None:
        if self.liked:
            raise NotAllowedNow("You already like this.")
        self.liked = True

    @event("Unliked")
    def unlike(self) -> None:
        if not self.liked:
            raise NotAllowedNow("You don't like this yet.")
        self.liked = False


class Flag(CookoutAggregate):
    @staticmethod
    def create_id(member_id: UUID, comment_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/cookout/flag/{member_id}/{comment_id}")

    @event("CommentFlagged")
    def __init__(
        self, member_id: UUID, comment_id: UUID, post_id: UUID, tribe_id: UUID, reason: str
    ):
        self.member_id = member_id
        self.comment_id = comment_id
        self.post_id = post_id
        self.tribe_id = tribe_id
        self.reason = reason
