"""Member activity for profiles: the posts and comments a member wrote, and the replies they received."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.comments import HIDDEN, SPAM, VISIBLE, Comment
from cookout.domain.posts import Post
from cookout.domain.tribes import PUBLIC, Tribe
from cookout.projections.markdown import excerpt
from cookout.projections.base import CookoutProjection, View

POST = "post"
COMMENT = "comment"
REPLY = "reply"


class MemberActivityView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS activity_tribes (
            id uuid PRIMARY KEY,
            slug text NOT NULL,
            name text NOT NULL,
            visibility text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS activity_posts (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            author_id uuid NOT NULL,
            title text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS activity_items (
            item_id uuid NOT NULL,
            member_id uuid NOT NULL,
            kind text NOT NULL,
            post_id uuid NOT NULL,
            tribe_id uuid NOT NULL,
            author_id uuid,
            guest_name text,
            excerpt text NOT NULL,
            at timestamptz NOT NULL,
            position bigint NOT NULL,
            status text NOT NULL,
            retracted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (item_id, member_id, kind)
        )
        """,
        "CREATE INDEX IF NOT EXISTS activity_items_member ON activity_items (member_id, kind, position DESC)",
    )
    tables = ("activity_tribes", "activity_posts", "activity_items")

    def tribe(self, tracking: Tracking, tribe_id: Any, slug: str | None, name: str, visibility: str) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO activity_tribes (id, slug, name, visibility) VALUES (%(id)s, %(slug)s, %(name)s, %(vis)s)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, visibility = excluded.visibility
                """,
                {"id": tribe_id, "slug": slug or "", "name": name, "vis": visibility},
            ),
        )

    def published(self, tracking: Tracking, event: Post.PostPublished) -> None:
        self.apply(
            tracking,
            (
                "INSERT INTO activity_posts (id, tribe_id, author_id, title) "
                "VALUES (%(id)s, %(tribe)s, %(author)s, %(title)s)",
                {"id": event.originator_id, "tribe": event.tribe_id, "author": event.author_id,
                 "title": event.title},
            ),
            (
                """
                INSERT INTO activity_items (item_id, member_id, kind, post_id, tribe_id, author_id, excerpt, at,
                    position, status)
                VALUES (%(id)s, %(author)s, %(kind)s, %(id)s, %(tribe)s, %(author)s, %(excerpt)s, %(at)s,
                    %(position)s, %(status)s)
                """,
                {"id": event.originator_id, "author": event.author_id, "kind": POST, "tribe": event.tribe_id,
                 "excerpt": excerpt(event.body), "at": event.timestamp, "position": tracking.notification_id,
                 "status": VISIBLE},
            ),
        )

    def post_edited(self, tracking: Tracking, event: Post.PostEdited) -> None:
        self.apply(
            tracking,
            ("UPDATE activity_posts SET title = %(title)s WHERE id = %(id)s",
             {"id": event.originator_id, "title": event.title}),
            ("UPDATE activity_items SET excerpt = %(excerpt)s WHERE item_id = %(id)s",
             {"id": event.originator_id, "excerpt": excerpt(event.body)}),
        )

    def commented(self, tracking: Tracking, event: Comment.CommentPosted) -> None:
        values = {
            "id": event.originator_id, "post": event.post_id, "tribe": event.tribe_id, "author": event.author_id,
            "guest": event.guest_name, "excerpt": excerpt(event.body), "at": event.timestamp,
            "position": tracking.notification_id, "status": event.status, "parent": event.parent_id,
        }
        columns = "item_id, member_id, kind, post_id, tribe_id, author_id, guest_name, excerpt, at, position, status"
        # The author's own item (members only), and the reply item for the parent comment's author, or
        # for the post's author when the comment is top-level; one statement for both.
        items = f"""
            INSERT INTO activity_items ({columns})
            SELECT %(id)s, %(author)s, 'comment', %(post)s, %(tribe)s, %(author)s, %(guest)s, %(excerpt)s, %(at)s,
                   %(position)s, %(status)s
            WHERE %(author)s::uuid IS NOT NULL
            UNION ALL
            SELECT %(id)s, recipient, 'reply', %(post)s, %(tribe)s, %(author)s, %(guest)s, %(excerpt)s, %(at)s,
                   %(position)s, %(status)s
            FROM (
                SELECT member_id AS recipient FROM activity_items
                WHERE %(parent)s::uuid IS NOT NULL AND item_id = %(parent)s AND kind = 'comment'
                UNION ALL
                SELECT author_id FROM activity_posts WHERE %(parent)s::uuid IS NULL AND id = %(post)s
            ) AS target
            WHERE recipient IS DISTINCT FROM %(author)s
        """
        self.apply(tracking, (items, values))

    def update_items(self, tracking: Tracking, item_id: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.apply(
            tracking,
            (f"UPDATE activity_items SET {assignments} WHERE item_id = %(id)s", {"id": item_id, **columns}),
        )

    # Queries pages make.

    def of_member(self, member_id: Any, kind: str, readable_tribes: list[Any], limit: int = 10) -> list[dict[str, Any]]:
        """What one member wrote or received, newest first, from tribes the viewer may read, with whether
        its post is retracted or hidden (the page then leaves the post's title out)."""
        return self.rows(
            """
            SELECT i.*, p.title AS post_title, p.author_id AS post_author_id, t.slug AS tribe_slug,
                   t.name AS tribe_name, coalesce(own.retracted, false) AS post_retracted,
                   coalesce(own.status = %(hidden)s, false) AS post_hidden
            FROM activity_items i
            JOIN activity_posts p ON p.id = i.post_id
            JOIN activity_tribes t ON t.id = i.tribe_id
            LEFT JOIN activity_items own ON own.item_id = i.post_id AND own.kind = %(post)s
            WHERE i.member_id = %(member)s AND i.kind = %(kind)s AND i.status = %(visible)s AND NOT i.retracted
              AND (t.visibility = %(public)s OR t.id = ANY(%(readable)s))
            ORDER BY i.position DESC LIMIT %(n)s
            """,
            {"member": member_id, "kind": kind, "visible": VISIBLE, "hidden": HIDDEN, "post": POST, "public": PUBLIC,
             "readable": list(readable_tribes), "n": limit},
        )

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            *self.rows("SELECT * FROM activity_tribes ORDER BY id"),
            *self.rows("SELECT * FROM activity_posts ORDER BY id"),
            *self.rows("SELECT * FROM activity_items ORDER BY item_id, member_id, kind"),
        ]


class MemberActivity(CookoutProjection):
    name = "member_activity"
    topics = (
        get_topic(Tribe.TribeFounded),
        get_topic(Tribe.TribeRevised),
        get_topic(Post.PostPublished),
        get_topic(Post.PostEdited),
        get_topic(Post.PostRetracted),
        get_topic(Post.PostHidden),
        get_topic(Post.PostUnhidden),
        get_topic(Comment.CommentPosted),
        get_topic(Comment.CommentEdited),
        get_topic(Comment.CommentRetracted),
        get_topic(Comment.CommentApproved),
        get_topic(Comment.CommentHidden),
        get_topic(Comment.CommentMarkedSpam),
    )
    view_class = MemberActivityView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def tribe_founded(self, event: Tribe.TribeFounded, tracking: Tracking) -> None:
        self.view.tribe(tracking, event.originator_id, event.slug, event.name, event.visibility)

    @process_event.register
    def tribe_revised(self, event: Tribe.TribeRevised, tracking: Tracking) -> None:
        self.view.tribe(tracking, event.originator_id, None, event.name, event.visibility)

    @process_event.register
    def post_published(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.view.published(tracking, event)

    @process_event.register
    def post_edited(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.view.post_edited(tracking, event)

    @process_event.register
    def post_retracted(self, event: Post.PostRetracted, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, retracted=True)

    @process_event.register
    def post_hidden(self, event: Post.PostHidden, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, status=HIDDEN)

    @process_event.register
    def post_unhidden(self, event: Post.PostUnhidden, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, status=VISIBLE)

    @process_event.register
    def comment_posted(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
        self.view.commented(tracking, event)

    @process_event.register
    def comment_edited(self, event: Comment.CommentEdited, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, excerpt=excerpt(event.body))

    @process_event.register
    def comment_retracted(self, event: Comment.CommentRetracted, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, retracted=True)

    @process_event.register
    def comment_approved(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, status=VISIBLE)

    @process_event.register
    def comment_hidden(self, event: Comment.CommentHidden, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, status=HIDDEN)

    @process_event.register
    def comment_marked_spam(self, event: Comment.CommentMarkedSpam, tracking: Tracking) -> None:
        self.view.update_items(tracking, event.originator_id, status=SPAM)
