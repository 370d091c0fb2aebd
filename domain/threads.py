"""The Threads service: a tribe's posts, the comments under them, and subscriptions to new comments."""

from __future__ import annotations

from uuid import UUID

from cookout.domain.comments import (
    PENDING,
    VISIBLE,
    Comment,
    approved_guest_key,
    depth_below,
    parse_guest,
)
from cookout.domain.errors import NotFound
from cookout.domain.posts import Post, parse_body, parse_title
from cookout.domain.service import TribeService, acting_member, command
from cookout.domain.subscriptions import Subscription, parse_subscriber_email


class Threads(TribeService):
    # Posts

    @command("post")
    def publish_post(self, author: UUID, tribe_id: UUID, title: str, body: str) -> UUID:
        title, body = parse_title(title), parse_body(body)
        self._tribe_seen_by(tribe_id, author).check_can_take_part(author)
        post = Post(tribe_id=tribe_id, author_id=author, title=title, body=body)
        self.save(post)
        return post.id

    @command("edit a post")
    def edit_post(self, author: UUID, post_id: UUID, title: str, body: str) -> bool:
        """Returns whether the post changed: saving it as it was records nothing."""
        title, body = parse_title(title), parse_body(body)
        post = self._get(post_id, Post, "post")
        post.check_is_author(author)
        changed = post.edit(title, body)
        self.save(post)
        return changed

    @command("retract a post")
    def retract_post(self, author: UUID, post_id: UUID) -> None:
        post = self._get(post_id, Post, "post")
        post.check_is_author(author)
        post.retract()
        self.save(post)

    def get_post(self, post_id: UUID) -> Post:
        return self._readable(post_id, Post, "post", acting_member())

    # Comments

    @command()
    def post_comment(
        self,
        author: UUID | None,
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
        body = parse_body(body)
        guest = None if author else parse_guest(name, email, website)
        notify_email = (guest.email if guest else parse_subscriber_email(email)) if notify else None
        post = self._readable(post_id, Post, "post", author)
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
        subscription = (self._subscription_to(post.id, notify_email, confirmed=guest is None, member=author)
                        if notify_email else None)
        self.save(comment, *([subscription] if subscription else []))
        return comment.id

    @command("edit a comment")
    def edit_comment(self, author: UUID, comment_id: UUID, body: str) -> bool:
        """Returns whether the comment changed: saving it as it was records nothing."""
        body = parse_body(body)
        comment = self._get(comment_id, Comment, "comment")
        comment.check_is_author(author)
        changed = comment.edit(body)
        self.save(comment)
        return changed

    @command("retract a comment")
    def retract_comment(self, author: UUID, comment_id: UUID) -> None:
        comment = self._get(comment_id, Comment, "comment")
        comment.check_is_author(author)
        comment.retract()
        self.save(comment)

    @command("retract your comments")
    def retract_comments(self, author: UUID, comment_ids: list[UUID]) -> None:
        """Retracts each of the author's comments not retracted yet, in one save (a member leaving Cookout)."""
        comments = [self._get(comment_id, Comment, "comment") for comment_id in comment_ids]
        for comment in comments:
            comment.check_is_author(author)
        standing = [comment for comment in comments if not comment.retracted]
        for comment in standing:
            comment.retract()
        if standing:
            self.save(*standing)

    def get_comment(self, comment_id: UUID) -> Comment:
        return self._readable(comment_id, Comment, "comment", acting_member())

    # Subscriptions

    @command()
    def subscribe(self, member: UUID | None, post_id: UUID, email: str) -> None:
        """Asks for an email about each new comment on a post; subscribing twice changes nothing.
        A member's subscription stands at once; anyone else's waits for its confirmation."""
        email = parse_subscriber_email(email)
        post = self._readable(post_id, Post, "post", member)
        post.check_open_for_comments()
        subscription = self._subscription_to(post.id, email, confirmed=member is not None, member=member)
        if subscription is not None:
            self.save(subscription)

    @command()
    def unsubscribe(self, _anyone: UUID | None, post_id: UUID, email: str) -> bool:
        """Stops the emails; anyone holding the signed link may ask, so asking twice is harmless.
        Returns whether a subscription was ended."""
        subscription = self._find(Subscription.create_id(post_id, email))
        if not isinstance(subscription, Subscription) or not subscription.active:
            return False
        subscription.unsubscribe()
        self.save(subscription)
        return True

    @command()
    def confirm_subscription(self, _anyone: UUID | None, post_id: UUID, email: str) -> None:
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

    def _subscription_to(self, post_id: UUID, email: str, confirmed: bool,
                         member: UUID | None = None) -> Subscription | None:
        """A new, renewed or now confirmed subscription to save, or None when nothing changes."""
        subscription = self._find(Subscription.create_id(post_id, email))
        if subscription is None:
            return Subscription(post_id=post_id, email=email, confirmed=confirmed, member_id=member)
        if not subscription.active:
            subscription.resubscribe(confirmed=confirmed)
            return subscription
        if confirmed and not subscription.confirmed:
            subscription.confirm()
            return subscription
        return None
