"""The Moderation service: hiding posts, deciding on held and flagged comments, and members' flags."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from cookout.domain.base import Index
from cookout.domain.comments import Comment, approved_guest_key
from cookout.domain.errors import Conflict, NotAllowedNow
from cookout.domain.posts import Post, parse_reason
from cookout.domain.reactions import Flag, parse_flag_reason
from cookout.domain.service import TribeService, command


class Moderation(TribeService):
    # Posts

    @command("moderate")
    def hide_post(self, moderator: UUID, post_id: UUID, reason: str) -> None:
        reason = parse_reason(reason)
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, moderator, "post").check_can_moderate(moderator)
        post.hide(reason)
        self.save(post)

    @command("moderate")
    def unhide_post(self, moderator: UUID, post_id: UUID) -> None:
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, moderator, "post").check_can_moderate(moderator)
        post.unhide()
        self.save(post)

    # Comments

    @command("moderate")
    def approve_comment(self, moderator: UUID, comment_id: UUID) -> None:
        """Shows a held, hidden or spam comment; a guest's later comments then skip the queue."""
        comment = self._comment_to_moderate(comment_id, moderator)
        comment.approve()
        changed: list[Any] = [comment]
        if comment.guest:
            key = approved_guest_key(comment.guest.email)
            index = self._find_index(key)
            if index is None:
                changed.append(Index(key, comment.id))
            elif index.ref is None:
                index.reclaim(comment.id)
                changed.append(index)
        self.save(*changed)

    @command("moderate")
    def hide_comment(self, moderator: UUID, comment_id: UUID, reason: str) -> None:
        reason = parse_reason(reason)
        comment = self._comment_to_moderate(comment_id, moderator)
        comment.hide(reason)
        self.save(comment)

    @command("moderate")
    def mark_comment_spam(self, moderator: UUID, comment_id: UUID) -> None:
        """Marks spam; a guest's email then goes back to being held for moderation."""
        comment = self._comment_to_moderate(comment_id, moderator)
        comment.mark_spam()
        changed: list[Any] = [comment]
        if comment.guest:
            index = self._find_index(approved_guest_key(comment.guest.email))
            if index is not None and index.ref is not None:
                index.release()
                changed.append(index)
        self.save(*changed)

    @command("moderate")
    def dismiss_flags(self, moderator: UUID, comment_id: UUID) -> None:
        comment = self._comment_to_moderate(comment_id, moderator)
        comment.dismiss_flags()
        self.save(comment)

    # Flags

    @command("flag a comment")
    def flag_comment(self, member: UUID, comment_id: UUID, reason: str = "") -> UUID:
        reason = parse_flag_reason(reason)
        comment = self._readable(comment_id, Comment, "comment", member)
        if not comment.is_visible:
            raise NotAllowedNow("Only visible comments can be flagged.")
        if self._find(Flag.create_id(member, comment.id)) is not None:
            raise Conflict("You have already flagged this comment.")
        flag = Flag(member, comment.id, comment.post_id, comment.tribe_id, reason)
        self.save(flag)
        return flag.id

    def _comment_to_moderate(self, comment_id: UUID, moderator: UUID) -> Comment:
        comment = self._get(comment_id, Comment, "comment")
        self._readable_tribe(comment.tribe_id, moderator, "comment").check_can_moderate(moderator)
        return comment
