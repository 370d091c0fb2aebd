"""The conversation service: tribes, their posts, comments, moderation and likes.

Every command acts as `current_actor` (a member's id, or "system" for someone
not signed in), parses its input, loads what it needs, and saves everything it
changed in one `save()`: a command that fails saves nothing. When a concurrent
save reached one of its streams first, the command runs again on what is now stored.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from cookout.domain.base import CookoutApplication, Index, IntegrityError, current_actor, index_id
from cookout.domain.comments import (
    PENDING,
    VISIBLE,
    Comment,
    approved_guest_key,
    depth_below,
    parse_guest,
)
from cookout.domain.errors import Conflict, Forbidden, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.posts import Post, parse_body, parse_reason, parse_title
from cookout.domain.reactions import COMMENT, POST, Flag, Like, parse_flag_reason
from cookout.domain.subscriptions import Subscription, parse_subscriber_email
from cookout.domain.tribes import (
    PUBLIC,
    Tribe,
    parse_description,
    parse_name,
    parse_nickname,
    parse_role,
    parse_slug,
    parse_visibility,
    slug_key,
)

MAX_TRIES = 10

P = ParamSpec("P")
T = TypeVar("T")


def acting_member() -> UUID | None:
    """The signed-in member acting now, or None for a guest or the system."""
    try:
        return UUID(current_actor.get())
    except ValueError:
        return None


def signed_in(to: str) -> UUID:
    member = acting_member()
    if member is None:
        raise Forbidden(f"Sign in to {to}.")
    return member


def retried(command: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(MAX_TRIES):
            try:
                return command(*args, **kwargs)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise Conflict("Too many people are changing this at once. Please try again.")

    return run


class Conversation(CookoutApplication):
    # Tribes

    @retried
    def found_tribe(
        self,
        name: str,
        slug: str,
        description: str = "",
        nickname: str = "",
        visibility: str = PUBLIC,
    ) -> UUID:
        founder = signed_in("found a tribe")
        slug = parse_slug(slug)
        tribe = Tribe(
            name=parse_name(name),
            slug=slug,
            description=parse_description(description),
            nickname=parse_nickname(nickname),
            visibility=parse_visibility(visibility),
            founder_id=founder,
        )
        index = self._find_index(slug_key(slug))
        if index is None:
            index = Index(slug_key(slug), tribe.id)
        elif index.ref is None:
            index.reclaim(tribe.id)
        else:
            raise Conflict("Another tribe already uses that slug.", field="slug")
        self.save(tribe, index)
        return tribe.id

    @retried
    def revise_tribe(
        self, tribe_id: UUID, name: str, description: str, nickname: str, visibility: str
    ) -> None:
        organiser = signed_in("change a tribe")
        name, description = parse_name(name), parse_description(description)
        nickname, visibility = parse_nickname(nickname), parse_visibility(visibility)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.revise(name, description, nickname, visibility)
        self.save(tribe)

    @retried
    def join_tribe(self, tribe_id: UUID) -> None:
        member = signed_in("join a tribe")
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.join(member)
        self.save(tribe)

    @retried
    def admit_member(self, tribe_id: UUID, member_id: UUID) -> None:
        """Lets an organiser or moderator bring someone into a members-only tribe."""
        moderator = signed_in("admit members")
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_moderate(moderator)
        tribe.join(member_id)
        self.save(tribe)

    @retried
    def leave_tribe(self, tribe_id: UUID) -> None:
        member = signed_in("leave a tribe")
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.leave(member)
        self.save(tribe)

    @retried
    def grant_role(self, tribe_id: UUID, member_id: UUID, role: str) -> None:
        organiser = signed_in("grant roles")
        role = parse_role(role)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.grant_role(member_id, role)
        self.save(tribe)

    @retried
    def revoke_role(self, tribe_id: UUID, member_id: UUID) -> None:
        organiser = signed_in("revoke roles")
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.revoke_role(member_id)
        self.save(tribe)

    def get_tribe(self, tribe_id: UUID) -> Tribe:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(acting_member())
        return tribe

    def role_in(self, tribe_id: UUID) -> str | None:
        """The acting member's role in a tribe, or None; fits `Meetings`' `role_in`."""
        return self.get_tribe(tribe_id).role_of(acting_member())

    def tribe_id_for_slug(self, slug: str) -> UUID:
        """Only maps a slug to an id: `get_tribe` decides who may see the tribe."""
        try:
            ref = self._index_ref(slug_key(parse_slug(slug)))
        except InvalidInput:
            ref = None
        if ref is None:
            raise NotFound("No such tribe.")
        return ref

    # Posts

    @retried
    def publish_post(self, tribe_id: UUID, title: str, body: str) -> UUID:
        author = signed_in("post")
        title, body = parse_title(title), parse_body(body)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_take_part(author)
        post = Post(tribe_id=tribe.id, author_id=author, title=title, body=body)
        self.save(post)
        return post.id

    @retried
    def edit_post(self, post_id: UUID, title: str, body: str) -> None:
        author = signed_in("edit a post")
        title, body = parse_title(title), parse_body(body)
        post = self._get(post_id, Post, "post")
        post.check_is_author(author)
        post.edit(title, body)
        self.save(post)

    @retried
    def retract_post(self, post_id: UUID) -> None:
        author = signed_in("retract a post")
        post = self._get(post_id, Post, "post")
        post.check_is_author(author)
        post.retract()
        self.save(post)

    @retried
    def hide_post(self, post_id: UUID, reason: str) -> None:
        moderator = signed_in("moderate")
        reason = parse_reason(reason)
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, moderator, "post").check_can_moderate(moderator)
        post.hide(reason)
        self.save(post)

    @retried
    def unhide_post(self, post_id: UUID) -> None:
        moderator = signed_in("moderate")
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, moderator, "post").check_can_moderate(moderator)
        post.unhide()
        self.save(post)

    def get_post(self, post_id: UUID) -> Post:
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, acting_member(), "post")
        return post

    # Comments

    @retried
    def post_comment(
        self,
        post_id: UUID,
        body: str,
        parent_id: UUID | None = None,
        *,
        name: str = "",
        email: str = "",
        website: str = "",
        notify: bool = False,
    ) -> UUID:
        """Comments as the signed-in member, or else as the guest given by name, email, website.

        With `notify`, the same save subscribes `email` to the post's new comments: the guest's
        address (waiting for its owner's confirmation), or for a member the address the web layer
        passes from their account.
        """
        author = acting_member()
        body = parse_body(body)
        guest = None if author else parse_guest(name, email, website)
        notify_email = (guest.email if guest else parse_subscriber_email(email)) if notify else None
        post = self._get(post_id, Post, "post")
        self._readable_tribe(post.tribe_id, author, "post")
        post.check_open_for_comments()
        parent = None
        if parent_id is not None:
            parent = self._get(parent_id, Comment, "comment")
            if parent.post_id != post.id:
                raise NotFound("No such comment.")
            parent.check_open_for_replies()
        held = guest is not None and not self._index_ref(approved_guest_key(guest.email))
        comment = Comment(
            post_id=post.id,
            tribe_id=post.tribe_id,
            parent_id=parent_id,
            depth=depth_below(parent),
            author_id=author,
            guest_name=guest.name if guest else None,
            guest_email=guest.email if guest else None,
            guest_website=guest.website if guest else None,
            body=body,
            status=PENDING if held else VISIBLE,
        )
        subscription = self._subscription_to(post.id, notify_email, confirmed=guest is None) if notify_email else None
        self.save(comment, *([subscription] if subscription else []))
        return comment.id

    @retried
    def edit_comment(self, comment_id: UUID, body: str) -> None:
        author = signed_in("edit a comment")
        body = parse_body(body)
        comment = self._get(comment_id, Comment, "comment")
        comment.check_is_author(author)
        comment.edit(body)
        self.save(comment)

    @retried
    def retract_comment(self, comment_id: UUID) -> None:
        author = signed_in("retract a comment")
        comment = self._get(comment_id, Comment, "comment")
        comment.check_is_author(author)
        comment.retract()
        self.save(comment)

    def get_comment(self, comment_id: UUID) -> Comment:
        comment = self._get(comment_id, Comment, "comment")
        self._readable_tribe(comment.tribe_id, acting_member(), "comment")
        return comment

    # Moderation

    @retried
    def approve_comment(self, comment_id: UUID) -> None:
        """Shows a held, hidden or spam comment; a guest's later comments then skip the queue."""
        comment = self._comment_to_moderate(comment_id)
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

    @retried
    def hide_comment(self, comment_id: UUID, reason: str) -> None:
        reason = parse_reason(reason)
        comment = self._comment_to_moderate(comment_id)
        comment.hide(reason)
        self.save(comment)

    @retried
    def mark_comment_spam(self, comment_id: UUID) -> None:
        """Marks spam; a guest's email then goes back to being held for moderation."""
        comment = self._comment_to_moderate(comment_id)
        comment.mark_spam()
        changed: list[Any] = [comment]
        if comment.guest:
            index = self._find_index(approved_guest_key(comment.guest.email))
            if index is not None and index.ref is not None:
                index.release()
                changed.append(index)
        self.save(*changed)

    @retried
    def dismiss_flags(self, comment_id: UUID) -> None:
        comment = self._comment_to_moderate(comment_id)
        comment.dismiss_flags()
        self.save(comment)

    @retried
    def flag_comment(self, comment_id: UUID, reason: str = "") -> UUID:
        member = signed_in("flag a comment")
        reason = parse_flag_reason(reason)
        comment = self.get_comment(comment_id)
        if not comment.is_visible:
            raise NotAllowedNow("Only visible comments can be flagged.")
        if self._find(Flag.create_id(member, comment.id)) is not None:
            raise Conflict("You have already flagged this comment.")
        flag = Flag(member, comment.id, comment.post_id, comment.tribe_id, reason)
        self.save(flag)
        return flag.id

    # Likes

    @retried
    def like(self, target_id: UUID) -> None:
        """Likes a post or a comment; liking what you already like changes nothing."""
        member = signed_in("like")
        kind = self._likeable_kind(target_id, member)
        like = self._find(Like.create_id(member, target_id))
        if like is None:
            like = Like(member_id=member, target_id=target_id, target_kind=kind)
        elif like.liked:
            return
        else:
            like.like()
        self.save(like)

    @retried
    def unlike(self, target_id: UUID) -> None:
        member = signed_in("unlike")
        like = self._find(Like.create_id(member, target_id))
        if like is None or not like.liked:
            return
        like.unlike()
        self.save(like)

    @retried
    def toggle_like(self, target_id: UUID) -> bool:
        """Likes what the acting member does not like yet, unlikes what they do; returns whether they like it now."""
        member = signed_in("like")
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

    def liked(self, target_id: UUID) -> bool:
        """Whether the acting member likes this post or comment now."""
        member = acting_member()
        like = self._find(Like.create_id(member, target_id)) if member else None
        return like is not None and like.liked

    # Subscriptions

    @retried
    def subscribe(self, post_id: UUID, email: str) -> None:
        """Asks for an email about each new comment on a post; subscribing twice changes nothing.
        A member's subscription stands at once; anyone else's waits for its confirmation."""
        email = parse_subscriber_email(email)
        post = self.get_post(post_id)
        post.check_open_for_comments()
        subscription = self._subscription_to(post.id, email, confirmed=acting_member() is not None)
        if subscription is not None:
            self.save(subscription)

    @retried
    def unsubscribe(self, post_id: UUID, email: str) -> bool:
        """Stops the emails; anyone holding the signed link may ask, so asking twice is harmless.
        Returns whether a subscription was ended."""
        subscription = self._find(Subscription.create_id(post_id, email))
        if not isinstance(subscription, Subscription) or not subscription.active:
            return False
        subscription.unsubscribe()
        self.save(subscription)
        return True

    @retried
    def confirm_subscription(self, post_id: UUID, email: str) -> None:
        """The address's owner followed the confirmation letter's link; confirming twice changes nothing."""
        subscription = self._find(Subscription.create_id(post_id, email))
        if not isinstance(subscription, Subscription):
            raise NotFound("There is no such subscription.")
        subscription.confirm()
        self.save(subscription)

    def is_subscribed(self, post_id: UUID, email: str) -> bool:
        """Whether new comments are emailed to `email`: subscribed, and confirmed."""
        subscription = self._find(Subscription.create_id(post_id, email))
        return isinstance(subscription, Subscription) and subscription.active and subscription.confirmed

    # Helpers

    def _subscription_to(self, post_id: UUID, email: str, confirmed: bool) -> Subscription | None:
        """A new, renewed or now confirmed subscription to save, or None when nothing changes."""
        subscription = self._find(Subscription.create_id(post_id, email))
        if subscription is None:
            return Subscription(post_id=post_id, email=email, confirmed=confirmed)
        if not subscription.active:
            subscription.resubscribe(confirmed=confirmed)
            return subscription
        if confirmed and not subscription.confirmed:
            subscription.confirm()
            return subscription
        return None

    def _comment_to_moderate(self, comment_id: UUID) -> Comment:
        moderator = signed_in("moderate")
        comment = self._get(comment_id, Comment, "comment")
        self._readable_tribe(comment.tribe_id, moderator, "comment").check_can_moderate(moderator)
        return comment

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

    def _readable_tribe(self, tribe_id: UUID, member: UUID | None, what: str) -> Tribe:
        """The tribe `what` lives in; outsiders of a members-only tribe get "no such `what`"."""
        tribe = self._get(tribe_id, Tribe, "tribe")
        if not tribe.can_read(member):
            raise NotFound(f"No such {what}.")
        return tribe

    def _find(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _find_index(self, key: str) -> Index | None:
        return self._find(index_id(key))
