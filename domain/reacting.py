"""The Reactions service: members liking posts and comments."""

from __future__ import annotations

from uuid import UUID

from cookout.domain.comments import Comment
from cookout.domain.errors import NotAllowedNow, NotFound
from cookout.domain.posts import Post
from cookout.domain.reactions import COMMENT, POST, Like
from cookout.domain.service import TribeService, command


class Reactions(TribeService):
    @command("like")
    def toggle_like(self, member: UUID, target_id: UUID) -> bool:
        """Likes what the acting member does not like yet, unlikes what they do; returns whether they like it now."""
        like = self._find(Like.create_id(member, target_id))
        if like is not None and like.liked:
            like.unlike()
        else:
            kind = self._likeable_kind(target_id, member)
            if like is None:
                like = Like(member_id=member, target_id=target_id, target_kind=kind)
            else:
                like.like()
        self.save(like)
        return like.liked

    def _likeable_kind(self, target_id: UUID, member: UUID) -> str:
        target = self._find(target_id)
        if not isinstance(target, (Post, Comment)):
            raise NotFound("Nothing to like here.")
        self._readable_tribe(target.tribe_id, member, "post or comment")
        if isinstance(target, Post):
            target.check_open_for_comments()
            return POST
        if not target.is_visible:
            raise NotAllowedNow("Only visible comments can be liked.")
        return COMMENT
