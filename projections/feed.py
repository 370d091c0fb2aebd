"""The tribe feed: a tribe's posts, newest first, with their visible comment count and last activity."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.comments import VISIBLE, Comment
from cookout.domain.posts import Post
from cookout.projections.markdown import excerpt
from cookout.projections.base import CookoutProjection, View

PAGE_SIZE = 10


class TribeFeedView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS feed_posts (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            author_id uuid NOT NULL,
            title text NOT NULL,
            excerpt text NOT NULL,
            published_at timestamptz NOT NULL,
            position bigint NOT NULL,
            edited boolean NOT NULL DEFAULT false,
            retracted boolean NOT NULL DEFAULT false,
            hidden boolean NOT NULL DEFAULT false,
            comment_count integer NOT NULL DEFAULT 0,
            last_activity timestamptz NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS feed_posts_tribe ON feed_posts (tribe_id, position DESC)",
        """
        CREATE TABLE IF NOT EXISTS feed_comments (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL,
            visible boolean NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS feed_comments_post ON feed_comments (post_id)",
    )
    tables = ("feed_posts", "feed_comments")

    def published(self, tracking: Tracking, event: Post.PostPublished) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO feed_posts (id, tribe_id, author_id, title, excerpt, published_at, position, last_activity)
                VALUES (%(id)s, %(tribe)s, %(author)s, %(title)s, %(excerpt)s, %(at)s, %(position)s, %(at)s)
                """,
                {
                    "id": event.originator_id, "tribe": event.tribe_id, "author": event.author_id,
                    "title": event.title, "excerpt": excerpt(event.body), "at": event.timestamp,
                    "position": tracking.notification_id,
                },
            ),
        )

    def edited(self, tracking: Tracking, event: Post.PostEdited) -> None:
        self.apply(
            tracking,
            (
                "UPDATE feed_posts SET title = %(title)s, excerpt = %(excerpt)s, edited = true, "
                "last_activity = greatest(last_activity, %(at)s) WHERE id = %(id)s",
                {"id": event.originator_id, "title": event.title, "excerpt": excerpt(event.body),
                 "at": event.timestamp},
            ),
        )

    def mark(self, tracking: Tracking, post_id: Any, **flags: bool) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in flags)
        self.apply(tracking, (f"UPDATE feed_posts SET {assignments} WHERE id = %(id)s", {"id": post_id, **flags}))

    def commented(self, tracking: Tracking, event: Comment.CommentPosted) -> None:
        visible = event.status == VISIBLE
        self.apply(
            tracking,
            (
                """
                WITH added AS (
                    INSERT INTO feed_comments (id, post_id, visible) VALUES (%(id)s, %(post)s, %(visible)s)
                    RETURNING post_id, visible
                )
                UPDATE feed_posts p SET comment_count = p.comment_count + 1,
                    last_activity = greatest(p.last_activity, %(at)s)
                FROM added WHERE p.id = added.post_id AND added.visible
                """,
                {"id": event.originator_id, "post": event.post_id, "visible": visible, "at": event.timestamp},
            ),
        )

    def comment_shown(self, tracking: Tracking, comment_id: Any, visible: bool, at: Any) -> None:
        # Counted by one up or down, only when the comment's visibility really changes: a hot thread's
        # count never rescans its comments.
        self.apply(
            tracking,
            (
                """
                WITH changed AS (
                    UPDATE feed_comments SET visible = %(visible)s
                    WHERE id = %(id)s AND visible <> %(visible)s
                    RETURNING post_id
                )
                UPDATE feed_posts p SET
                    comment_count = p.comment_count + CASE WHEN %(visible)s THEN 1 ELSE -1 END,
                    last_activity = greatest(p.last_activity, coalesce(%(at)s, p.last_activity))
                FROM changed WHERE p.id = changed.post_id
                """,
                {"id": comment_id, "visible": visible, "at": at if visible else None},
            ),
        )

    # Queries pages make.

    def page(self, tribe_id: Any, before: int | None = None, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Up to `limit` posts older than position `before`, newest first; one more tells if there are more."""
        return self.rows(
            """
            SELECT * FROM feed_posts
            WHERE tribe_id = %(tribe)s AND NOT retracted AND NOT hidden
              AND (%(before)s::bigint IS NULL OR position < %(before)s)
            ORDER BY position DESC LIMIT %(limit)s
            """,
            {"tribe": tribe_id, "before": before, "limit": limit},
        )

    def front_page(self, tribe_id: Any, before: int | None = None, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """`page`, each post with its author's handle and name (None for a guest or a former member) and
        the tribe's post count, for the tribe page in one read."""
        return self.rows(
            """
            SELECT p.*, a.handle AS author_handle, a.display_name AS author_display_name,
                   (SELECT count(*) FROM feed_posts c
                    WHERE c.tribe_id = p.tribe_id AND NOT c.retracted AND NOT c.hidden) AS post_count
            FROM feed_posts p LEFT JOIN members a ON a.id = p.author_id
            WHERE p.tribe_id = %(tribe)s AND NOT p.retracted AND NOT p.hidden
              AND (%(before)s::bigint IS NULL OR p.position < %(before)s)
            ORDER BY p.position DESC LIMIT %(limit)s
            """,
            {"tribe": tribe_id, "before": before, "limit": limit},
        )

    def post_count(self, tribe_id: Any) -> int:
        found = self.row(
            "SELECT count(*) AS n FROM feed_posts WHERE tribe_id = %(t)s AND NOT retracted AND NOT hidden",
            {"t": tribe_id},
        )
        return int(found["n"]) if found else 0

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            *self.rows("SELECT * FROM feed_posts ORDER BY id"),
            *self.rows("SELECT * FROM feed_comments ORDER BY id"),
        ]


class TribeFeed(CookoutProjection):
    name = "tribe_feed"
    topics = (
        get_topic(Post.PostPublished),
        get_topic(Post.PostEdited),
        get_topic(Post.PostRetracted),
        get_topic(Post.PostHidden),
        get_topic(Post.PostUnhidden),
        get_topic(Comment.CommentPosted),
        get_topic(Comment.CommentApproved),
        get_topic(Comment.CommentHidden),
        get_topic(Comment.CommentMarkedSpam),
        get_topic(Comment.CommentRetracted),
    )
    view_class = TribeFeedView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def post_published(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.view.published(tracking, event)

    @process_event.register
    def post_edited(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.view.edited(tracking, event)

    @process_event.register
    def post_retracted(self, event: Post.PostRetracted, tracking: Tracking) -> None:
        self.view.mark(tracking, event.originator_id, retracted=True)

    @process_event.register
    def post_hidden(self, event: Post.PostHidden, tracking: Tracking) -> None:
        self.view.mark(tracking, event.originator_id, hidden=True)

    @process_event.register
    def post_unhidden(self, event: Post.PostUnhidden, tracking: Tracking) -> None:
        self.view.mark(tracking, event.originator_id, hidden=False)

    @process_event.register
    def comment_posted(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
        self.view.commented(tracking, event)

    @process_event.register
    def comment_approved(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        self.view.comment_shown(tracking, event.originator_id, True, event.timestamp)

    @process_event.register
    def comment_hidden(self, event: Comment.CommentHidden, tracking: Tracking) -> None:
        self.view.comment_shown(tracking, event.originator_id, False, None)

    @process_event.register
    def comment_marked_spam(self, event: Comment.CommentMarkedSpam, tracking: Tracking) -> None:
        self.view.comment_shown(tracking, event.originator_id, False, None)

    @process_event.register
    def comment_retracted(self, event: Comment.CommentRetracted, tracking: Tracking) -> None:
        self.view.comment_shown(tracking, event.originator_id, False, None)
