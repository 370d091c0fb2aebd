"""The moderation queue: per tribe, comments held for approval and visible comments members flagged."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.comments import HIDDEN, PENDING, SPAM, VISIBLE, Comment
from cookout.domain.posts import Post
from cookout.domain.reactions import Flag
from cookout.projections.base import CookoutProjection, View


class ModerationView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS moderation_posts (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            title text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS moderation_comments (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            post_id uuid NOT NULL,
            author_id uuid,
            guest_name text,
            guest_email text,
            guest_website text,
            body text NOT NULL,
            status text NOT NULL,
            hidden_reason text,
            retracted boolean NOT NULL DEFAULT false,
            posted_at timestamptz NOT NULL,
            position bigint NOT NULL,
            decided_position bigint
        )
        """,
        "CREATE INDEX IF NOT EXISTS moderation_comments_tribe ON moderation_comments (tribe_id, status)",
        """
        CREATE TABLE IF NOT EXISTS moderation_flags (
            flag_id uuid PRIMARY KEY,
            comment_id uuid NOT NULL,
            member_id uuid NOT NULL,
            reason text NOT NULL,
            flagged_at timestamptz NOT NULL,
            dismissed boolean NOT NULL DEFAULT false
        )
        """,
        "CREATE INDEX IF NOT EXISTS moderation_flags_comment ON moderation_flags (comment_id)",
    )
    tables = ("moderation_posts", "moderation_comments", "moderation_flags")

    def published(self, tracking: Tracking, event: Post.PostPublished) -> None:
        self.apply(
            tracking,
            (
                "INSERT INTO moderation_posts (id, tribe_id, title) VALUES (%(id)s, %(tribe)s, %(title)s)",
                {"id": event.originator_id, "tribe": event.tribe_id, "title": event.title},
            ),
        )

    def retitled(self, tracking: Tracking, event: Post.PostEdited) -> None:
        self.apply(
            tracking,
            ("UPDATE moderation_posts SET title = %(title)s WHERE id = %(id)s",
             {"id": event.originator_id, "title": event.title}),
        )

    def commented(self, tracking: Tracking, event: Comment.CommentPosted) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO moderation_comments (id, tribe_id, post_id, author_id, guest_name, guest_email,
                    guest_website, body, status, posted_at, position)
                VALUES (%(id)s, %(tribe)s, %(post)s, %(author)s, %(guest_name)s, %(guest_email)s,
                    %(guest_website)s, %(body)s, %(status)s, %(at)s, %(position)s)
                """,
                {
                    "id": event.originator_id, "tribe": event.tribe_id, "post": event.post_id,
                    "author": event.author_id, "guest_name": event.guest_name, "guest_email": event.guest_email,
                    "guest_website": event.guest_website, "body": event.body, "status": event.status,
                    "at": event.timestamp, "position": tracking.notification_id,
                },
            ),
        )

    def update_comment(self, tracking: Tracking, comment_id: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.apply(
            tracking,
            (f"UPDATE moderation_comments SET {assignments} WHERE id = %(id)s", {"id": comment_id, **columns}),
        )

    def decided(self, tracking: Tracking, comment_id: Any, status: str, reason: str | None) -> None:
        """A moderator ruled on the comment: its flags so far are dealt with."""
        self.apply(
            tracking,
            (
                "UPDATE moderation_comments SET status = %(status)s, hidden_reason = %(reason)s, "
                "decided_position = %(position)s WHERE id = %(id)s",
                {"id": comment_id, "status": status, "reason": reason, "position": tracking.notification_id},
            ),
            ("UPDATE moderation_flags SET dismissed = true WHERE comment_id = %(id)s", {"id": comment_id}),
        )

    def flagged(self, tracking: Tracking, event: Flag.CommentFlagged) -> None:
        self.apply(
            tracking,
            (
                "INSERT INTO moderation_flags (flag_id, comment_id, member_id, reason, flagged_at) "
                "VALUES (%(id)s, %(comment)s, %(member)s, %(reason)s, %(at)s)",
                {"id": event.originator_id, "comment": event.comment_id, "member": event.member_id,
                 "reason": event.reason, "at": event.timestamp},
            ),
        )

    # Queries pages make.

    def queue(self, tribe_id: Any) -> list[dict[str, Any]]:
        """Held comments and flagged visible ones, oldest first, with the flags' count and reasons."""
        return self.rows(
            """
            SELECT c.*, p.title AS post_title,
                   count(f.flag_id) AS flag_count,
                   coalesce(array_agg(f.reason ORDER BY f.flagged_at) FILTER (WHERE f.flag_id IS NOT NULL
                            AND f.reason <> ''), '{}') AS flag_reasons
            FROM moderation_comments c
            JOIN moderation_posts p ON p.id = c.post_id
            LEFT JOIN moderation_flags f ON f.comment_id = c.id AND NOT f.dismissed
            WHERE c.tribe_id = %(tribe)s AND NOT c.retracted AND c.status IN (%(pending)s, %(visible)s)
            GROUP BY c.id, p.title
            HAVING c.status = %(pending)s OR count(f.flag_id) > 0
            ORDER BY c.position
            """,
            {"tribe": tribe_id, "pending": PENDING, "visible": VISIBLE},
        )

    def recently_removed(self, tribe_id: Any, limit: int = 20) -> list[dict[str, Any]]:
        """Hidden and spam comments, the latest decisions first, so a mistake can be undone."""
        return self.rows(
            """
            SELECT c.*, p.title AS post_title FROM moderation_comments c
            JOIN moderation_posts p ON p.id = c.post_id
            WHERE c.tribe_id = %(tribe)s AND NOT c.retracted AND c.status IN (%(hidden)s, %(spam)s)
            ORDER BY c.decided_position DESC LIMIT %(n)s
            """,
            {"tribe": tribe_id, "hidden": HIDDEN, "spam": SPAM, "n": limit},
        )

    def waiting(self, tribe_id: Any) -> int:
        return len(self.queue(tribe_id))

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            *self.rows("SELECT * FROM moderation_posts ORDER BY id"),
            *self.rows("SELECT * FROM moderation_comments ORDER BY id"),
            *self.rows("SELECT * FROM moderation_flags ORDER BY flag_id"),
        ]


class ModerationQueue(CookoutProjection):
    name = "moderation_queue"
    topics = (
        get_topic(Post.PostPublished),
        get_topic(Post.PostEdited),
        get_topic(Comment.CommentPosted),
        get_topic(Comment.CommentEdited),
        get_topic(Comment.CommentRetracted),
        get_topic(Comment.CommentApproved),
        get_topic(Comment.CommentFlagsDismissed),
        get_topic(Comment.CommentHidden),
        get_topic(Comment.CommentMarkedSpam),
        get_topic(Flag.CommentFlagged),
    )
    view_class = ModerationView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def post_published(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.view.published(tracking, event)

    @process_event.register
    def post_edited(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.view.retitled(tracking, event)

    @process_event.register
    def comment_posted(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
        self.view.commented(tracking, event)

    @process_event.register
    def comment_edited(self, event: Comment.CommentEdited, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, body=event.body)

    @process_event.register
    def comment_retracted(self, event: Comment.CommentRetracted, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, retracted=True)

    @process_event.register
    def comment_approved(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        self.view.decided(tracking, event.originator_id, VISIBLE, None)

    @process_event.register
    def comment_flags_dismissed(self, event: Comment.CommentFlagsDismissed, tracking: Tracking) -> None:
        self.view.decided(tracking, event.originator_id, VISIBLE, None)

    @process_event.register
    def comment_hidden(self, event: Comment.CommentHidden, tracking: Tracking) -> None:
        self.view.decided(tracking, event.originator_id, HIDDEN, event.reason)

    @process_event.register
    def comment_marked_spam(self, event: Comment.CommentMarkedSpam, tracking: Tracking) -> None:
        self.view.decided(tracking, event.originator_id, SPAM, None)

    @process_event.register
    def comment_flagged(self, event: Flag.CommentFlagged, tracking: Tracking) -> None:
        self.view.flagged(tracking, event)
