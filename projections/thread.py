"""The thread tree: each post with its comments (parent, depth, status), every version written, and likes.

Bodies are rendered to sanitised HTML here, once per version, so a busy thread page only reads rows.
`arrange` turns a post's rows into the tree one viewer sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from psycopg.types.json import Jsonb

from cookout.domain.comments import HIDDEN, MAX_DEPTH, PENDING, SPAM, VISIBLE, Comment
from cookout.domain.posts import Post
from cookout.domain.reactions import Like
from cookout.projections.markdown import render
from cookout.projections.base import CookoutProjection, Statement, View
from cookout.projections.diffs import word_changes


class ThreadView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS thread_posts (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            author_id uuid NOT NULL,
            title text NOT NULL,
            body text NOT NULL,
            body_html text NOT NULL,
            published_at timestamptz NOT NULL,
            edited_at timestamptz,
            versions integer NOT NULL DEFAULT 1,
            retracted boolean NOT NULL DEFAULT false,
            hidden_reason text,
            like_count integer NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS thread_comments (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL,
            tribe_id uuid NOT NULL,
            parent_id uuid,
            depth integer NOT NULL,
            author_id uuid,
            guest_name text,
            guest_website text,
            body text NOT NULL,
            body_html text NOT NULL,
            status text NOT NULL,
            hidden_reason text,
            retracted boolean NOT NULL DEFAULT false,
            posted_at timestamptz NOT NULL,
            edited_at timestamptz,
            versions integer NOT NULL DEFAULT 1,
            like_count integer NOT NULL DEFAULT 0,
            position bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS thread_comments_post ON thread_comments (post_id, position)",
        # A thread is paged by its top-level comments, each with every reply below it (its root's).
        "ALTER TABLE thread_comments ADD COLUMN IF NOT EXISTS root_id uuid",
        """
        WITH RECURSIVE under AS (
            SELECT id, id AS root_id FROM thread_comments WHERE parent_id IS NULL AND root_id IS NULL
            UNION ALL
            SELECT c.id, under.root_id FROM thread_comments c JOIN under ON c.parent_id = under.id
        )
        UPDATE thread_comments t SET root_id = under.root_id FROM under WHERE t.id = under.id AND t.root_id IS NULL
        """,
        "CREATE INDEX IF NOT EXISTS thread_comments_root ON thread_comments (root_id, position)",
        # Each comment carries the number of its top-level comment within the post (1, 2, ...), and each post
        # how many top-level comments it has: a page is a range of numbers, and which page holds a comment
        # is read off the comment, instead of counting the comments before it.
        "ALTER TABLE thread_posts ADD COLUMN IF NOT EXISTS top_level integer NOT NULL DEFAULT 0",
        "ALTER TABLE thread_comments ADD COLUMN IF NOT EXISTS top_number integer",
        """
        WITH numbered AS (
            SELECT id, row_number() OVER (PARTITION BY post_id ORDER BY position) AS n
            FROM thread_comments WHERE parent_id IS NULL
        )
        UPDATE thread_comments t SET top_number = numbered.n FROM numbered
        WHERE t.root_id = numbered.id AND t.top_number IS NULL
        """,
        """
        UPDATE thread_posts p SET top_level = counted.n FROM (
            SELECT post_id, count(*) AS n FROM thread_comments WHERE parent_id IS NULL GROUP BY post_id
        ) counted WHERE counted.post_id = p.id AND p.top_level <> counted.n
        """,
        "CREATE INDEX IF NOT EXISTS thread_comments_page ON thread_comments (post_id, top_number, position)",
        "DROP INDEX IF EXISTS thread_comments_top",  # what counted the top-level comments, before their numbers
        """
        CREATE TABLE IF NOT EXISTS thread_versions (
            target_id uuid NOT NULL,
            number integer NOT NULL,
            title text,
            body text NOT NULL,
            written_at timestamptz NOT NULL,
            changes jsonb,
            title_changes jsonb,
            PRIMARY KEY (target_id, number)
        )
        """,
        # Installs from before diffs were stored; `cookout projections rebuild thread_tree` fills them in.
        "ALTER TABLE thread_versions ADD COLUMN IF NOT EXISTS changes jsonb",
        "ALTER TABLE thread_versions ADD COLUMN IF NOT EXISTS title_changes jsonb",
        """
        CREATE TABLE IF NOT EXISTS thread_likes (
            like_id uuid PRIMARY KEY,
            target_id uuid NOT NULL,
            member_id uuid NOT NULL,
            liked boolean NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS thread_likes_target ON thread_likes (target_id, member_id)",
    )
    tables = ("thread_posts", "thread_comments", "thread_versions", "thread_likes")

    def published(self, tracking: Tracking, event: Post.PostPublished) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO thread_posts (id, tribe_id, author_id, title, body, body_html, published_at)
                VALUES (%(id)s, %(tribe)s, %(author)s, %(title)s, %(body)s, %(html)s, %(at)s)
                """,
                {
                    "id": event.originator_id, "tribe": event.tribe_id, "author": event.author_id,
                    "title": event.title, "body": event.body, "html": str(render(event.body)),
                    "at": event.timestamp,
                },
            ),
            self._first_version(event.originator_id, event.title, event.body, event.timestamp),
        )

    def post_edited(self, tracking: Tracking, event: Post.PostEdited) -> None:
        self.apply(
            tracking,
            (
                "UPDATE thread_posts SET title = %(title)s, body = %(body)s, body_html = %(html)s, "
                "edited_at = %(at)s, versions = versions + 1 WHERE id = %(id)s",
                {"id": event.originator_id, "title": event.title, "body": event.body,
                 "html": str(render(event.body)), "at": event.timestamp},
            ),
            self._next_version(event.originator_id, event.title, event.body, event.timestamp),
        )

    def update_post(self, tracking: Tracking, post_id: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.apply(tracking, (f"UPDATE thread_posts SET {assignments} WHERE id = %(id)s", {"id": post_id, **columns}))

    def commented(self, tracking: Tracking, event: Comment.CommentPosted) -> None:
        self.apply(
            tracking,
            (
                # The comment and its first version in one statement: comments are most of the log, and
                # each statement is a round trip of the pipeline.
                """
                WITH parent AS (
                    SELECT root_id, top_number FROM thread_comments WHERE id = %(parent)s
                ), counted AS (
                    UPDATE thread_posts SET top_level = top_level + 1
                    WHERE id = %(post)s AND NOT EXISTS (SELECT FROM parent) RETURNING top_level
                ), comment AS (
                    INSERT INTO thread_comments (id, post_id, tribe_id, parent_id, depth, author_id, guest_name,
                        guest_website, body, body_html, status, posted_at, position, root_id, top_number)
                    VALUES (%(id)s, %(post)s, %(tribe)s, %(parent)s, %(depth)s, %(author)s, %(guest_name)s,
                        %(guest_website)s, %(body)s, %(html)s, %(status)s, %(at)s, %(position)s,
                        COALESCE((SELECT root_id FROM parent), %(id)s),
                        COALESCE((SELECT top_number FROM parent), (SELECT top_level FROM counted)))
                    RETURNING id, body, posted_at
                )
                INSERT INTO thread_versions (target_id, number, title, body, written_at, changes, title_changes)
                SELECT id, 1, NULL, body, posted_at, '[]'::jsonb, '[]'::jsonb FROM comment
                """,
                {
                    "id": event.originator_id, "post": event.post_id, "tribe": event.tribe_id,
                    "parent": event.parent_id, "depth": event.depth, "author": event.author_id,
                    "guest_name": event.guest_name, "guest_website": event.guest_website,
                    "body": event.body, "html": str(render(event.body)), "status": event.status,
                    "at": event.timestamp, "position": tracking.notification_id,
                },
            ),
        )

    def comment_edited(self, tracking: Tracking, event: Comment.CommentEdited) -> None:
        self.apply(
            tracking,
            (
                "UPDATE thread_comments SET body = %(body)s, body_html = %(html)s, edited_at = %(at)s, "
                "versions = versions + 1 WHERE id = %(id)s",
                {"id": event.originator_id, "body": event.body, "html": str(render(event.body)),
                 "at": event.timestamp},
            ),
            self._next_version(event.originator_id, None, event.body, event.timestamp),
        )

    def update_comment(self, tracking: Tracking, comment_id: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.apply(
            tracking, (f"UPDATE thread_comments SET {assignments} WHERE id = %(id)s", {"id": comment_id, **columns})
        )

    def liked(self, tracking: Tracking, event: Like.Liked) -> None:
        self.apply(
            tracking,
            (
                "INSERT INTO thread_likes (like_id, target_id, member_id, liked) "
                "VALUES (%(id)s, %(target)s, %(member)s, true)",
                {"id": event.originator_id, "target": event.target_id, "member": event.member_id},
            ),
            *self._count_likes(event.originator_id),
        )

    def like_changed(self, tracking: Tracking, like_id: Any, liked: bool) -> None:
        self.apply(
            tracking,
            ("UPDATE thread_likes SET liked = %(liked)s WHERE like_id = %(id)s", {"id": like_id, "liked": liked}),
            *self._count_likes(like_id),
        )

    @staticmethod
    def _first_version(target_id: Any, title: str | None, body: str, at: Any) -> Statement:
        return (
            "INSERT INTO thread_versions (target_id, number, title, body, written_at, changes, title_changes) "
            "VALUES (%(target)s, 1, %(title)s, %(body)s, %(at)s, '[]', '[]')",
            {"target": target_id, "title": title, "body": body, "at": at},
        )

    def _next_version(self, target_id: Any, title: str | None, body: str, at: Any) -> Statement:
        """The edit as a new version with what changed since the one before, diffed here once for every
        reader of the history."""
        previous = self.row(
            "SELECT number, title, body FROM thread_versions WHERE target_id = %(target)s "
            "ORDER BY number DESC LIMIT 1",
            {"target": target_id},
        )
        number, changes, title_changes = 1, [], []
        if previous is not None:
            number = previous["number"] + 1
            changes = word_changes(previous["body"], body)
            if title is not None and previous["title"] is not None and previous["title"] != title:
                title_changes = word_changes(previous["title"], title)
        return (
            "INSERT INTO thread_versions (target_id, number, title, body, written_at, changes, title_changes) "
            "VALUES (%(target)s, %(number)s, %(title)s, %(body)s, %(at)s, %(changes)s, %(title_changes)s)",
            {"target": target_id, "number": number, "title": title, "body": body, "at": at,
             "changes": Jsonb(changes), "title_changes": Jsonb(title_changes)},
        )

    @staticmethod
    def _count_likes(like_id: Any) -> list[Statement]:
        count = "(SELECT count(*) FROM thread_likes WHERE target_id = t.id AND liked)"
        target = "(SELECT target_id FROM thread_likes WHERE like_id = %(like)s)"
        return [
            (f"UPDATE thread_posts t SET like_count = {count} WHERE t.id = {target}", {"like": like_id}),
            (f"UPDATE thread_comments t SET like_count = {count} WHERE t.id = {target}", {"like": like_id}),
        ]

    # Queries pages make.

    def post(self, post_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM thread_posts WHERE id = %(id)s", {"id": post_id})

    def comment(self, comment_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM thread_comments WHERE id = %(id)s", {"id": comment_id})

    def comments(self, post_id: Any) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM thread_comments WHERE post_id = %(post)s ORDER BY position", {"post": post_id})

    def comment_page(self, post_id: Any, limit: int, offset: int = 0) -> list[dict[str, Any]]:
        """A page of a post's top-level comments, oldest first, each with every reply below it, in log order."""
        return self.rows(
            "SELECT * FROM thread_comments WHERE post_id = %(post)s "
            "AND top_number > %(skip)s AND top_number <= %(skip)s + %(n)s ORDER BY position",
            {"post": post_id, "n": limit, "skip": offset},
        )

    def comments_under(self, root_id: Any) -> list[dict[str, Any]]:
        """A top-level comment and every reply below it, in log order."""
        return self.rows("SELECT * FROM thread_comments WHERE root_id = %(root)s ORDER BY position", {"root": root_id})

    def comment_counts(self, post_id: Any) -> dict[str, int]:
        """A post's published comments (what "N thoughts" says) and its top-level comments (what pages it)."""
        found = self.row(
            f"SELECT (SELECT count(*) FROM thread_comments WHERE post_id = %(post)s AND status = '{VISIBLE}' "
            "AND NOT retracted) AS visible, (SELECT top_level FROM thread_posts WHERE id = %(post)s) AS top",
            {"post": post_id},
        )
        assert found is not None  # two scalar subqueries: always one row
        return {"visible": int(found["visible"]), "top": int(found["top"] or 0)}

    @staticmethod
    def top_level_before(comment: dict[str, Any]) -> int:
        """How many top-level comments of its post come before this comment's own top-level one."""
        return int(comment["top_number"]) - 1

    def top_level_before_new(self, post_id: Any, comment_id: Any, parent_id: Any | None) -> int:
        """For a comment just posted, which the view may not have yet: how many top-level comments of the
        post come before its own top-level one (read off the comment once the view has it; else off its
        parent, for a reply, or the post's count, for a top-level comment). One point read."""
        found = self.row(
            "SELECT COALESCE((SELECT top_number - 1 FROM thread_comments WHERE id = %(comment)s), "
            "(SELECT top_number - 1 FROM thread_comments WHERE id = %(parent)s), "
            "(SELECT top_level FROM thread_posts WHERE id = %(post)s), 0) AS n",
            {"post": post_id, "comment": comment_id, "parent": parent_id},
        )
        return int(found["n"]) if found else 0

    def versions(self, target_id: Any, limit: int, offset: int = 0) -> list[dict[str, Any]]:
        """A page of a post's or comment's versions, newest first."""
        return self.rows(
            "SELECT * FROM thread_versions WHERE target_id = %(id)s ORDER BY number DESC LIMIT %(n)s OFFSET %(skip)s",
            {"id": target_id, "n": limit, "skip": offset},
        )

    def version_count(self, target_id: Any) -> int:
        found = self.row("SELECT count(*) AS n FROM thread_versions WHERE target_id = %(id)s", {"id": target_id})
        return int(found["n"]) if found else 0

    def liked_by(self, member_id: Any | None, target_ids: list[Any]) -> set[Any]:
        if member_id is None or not target_ids:
            return set()
        found = self.rows(
            "SELECT target_id FROM thread_likes WHERE member_id = %(m)s AND liked AND target_id = ANY(%(ids)s)",
            {"m": member_id, "ids": list(target_ids)},
        )
        return {row["target_id"] for row in found}

    def standing_comment_ids(self, member_id: Any) -> list[Any]:
        """The member's comments that are not retracted."""
        found = self.rows("SELECT id FROM thread_comments WHERE author_id = %(m)s AND NOT retracted ORDER BY position",
                          {"m": member_id})
        return [row["id"] for row in found]

    def written_by(self, member_id: Any) -> dict[str, list[dict[str, Any]]]:
        """Everything a member wrote (posts and comments, each with every version) and liked, for their
        data export."""
        versions = (
            "(SELECT coalesce(jsonb_agg(jsonb_build_object('number', v.number, 'title', v.title, 'body', v.body, "
            "'written_at', v.written_at) ORDER BY v.number), '[]') FROM thread_versions v WHERE v.target_id = x.id)"
        )
        posts = self.rows(
            f"SELECT x.id, x.tribe_id, x.title, x.published_at, x.retracted, x.hidden_reason, {versions} AS versions "
            "FROM thread_posts x WHERE x.author_id = %(m)s ORDER BY x.published_at, x.id",
            {"m": member_id},
        )
        comments = self.rows(
            f"SELECT x.id, x.post_id, x.parent_id, x.status, x.retracted, x.posted_at, {versions} AS versions "
            "FROM thread_comments x WHERE x.author_id = %(m)s ORDER BY x.posted_at, x.id",
            {"m": member_id},
        )
        likes = self.rows(
            "SELECT l.target_id, CASE WHEN p.id IS NOT NULL THEN 'post' ELSE 'comment' END AS kind "
            "FROM thread_likes l LEFT JOIN thread_posts p ON p.id = l.target_id "
            "WHERE l.member_id = %(m)s AND l.liked ORDER BY l.target_id",
            {"m": member_id},
        )
        return {"posts": posts, "comments": comments, "likes": likes}

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            *self.rows("SELECT * FROM thread_posts ORDER BY id"),
            *self.rows("SELECT * FROM thread_comments ORDER BY id"),
            *self.rows("SELECT * FROM thread_versions ORDER BY target_id, number"),
            *self.rows("SELECT * FROM thread_likes ORDER BY like_id"),
        ]


@dataclass
class Node:
    """One comment as a viewer sees it: its content, or a tombstone keeping its replies in place."""

    comment: dict[str, Any]
    shown: bool
    children: list[Node] = field(default_factory=list)
    # Replies below the deepest level sit beside their parent and say whom they answer.
    answers: dict[str, Any] | None = None


def is_visible(comment: dict[str, Any]) -> bool:
    return comment["status"] == VISIBLE and not comment["retracted"]


@dataclass(frozen=True)
class Viewer:
    """Who reads a tribe's conversation: the member (None for a visitor), whether they moderate or organise
    the tribe, and the held comments this browser wrote as a guest."""

    member_id: Any | None = None
    moderator: bool = False
    held: frozenset[Any] = frozenset()


def may_see_comment(comment: dict[str, Any], viewer: Viewer) -> bool:
    """The one rule for a comment's content, on every page, partial and feed. Nobody reads a retracted
    comment (its replies keep a tombstone); everyone reads published ones; the tribe's moderators read the
    rest, with its status; its author reads theirs while held or hidden, and a guest the held comments
    this browser posted."""
    if comment["retracted"]:
        return False
    if comment["status"] == VISIBLE or viewer.moderator:
        return True
    own = viewer.member_id is not None and comment["author_id"] == viewer.member_id
    return (own and comment["status"] in (PENDING, HIDDEN)) or (comment["status"] == PENDING and comment["id"] in viewer.held)


def may_see_post(post: dict[str, Any], viewer: Viewer) -> bool:
    """The one rule for a post's title and body: nobody reads a retracted post; a hidden one only its author
    and the tribe's moderators."""
    if post["retracted"]:
        return False
    return not post["hidden_reason"] or viewer.moderator or (
        viewer.member_id is not None and post["author_id"] == viewer.member_id
    )


def container_of(comment: dict[str, Any], by_id: dict[Any, dict[str, Any]]) -> Any | None:
    """The comment whose reply list holds this one (None for the post's own list)."""
    ancestor = by_id.get(comment["parent_id"])
    while ancestor is not None and ancestor["depth"] >= comment["depth"]:
        ancestor = by_id.get(ancestor["parent_id"])
    return ancestor["id"] if ancestor else None


def arrange(rows: list[dict[str, Any]], viewer: Viewer | None = None) -> list[Node]:
    """The tree one viewer sees, oldest first at every level, from rows in log order."""
    viewer = viewer or Viewer()
    by_id = {row["id"]: row for row in rows}
    needed: set[Any] = set()
    for row in reversed(rows):
        if row["id"] in needed or may_see_comment(row, viewer):
            needed.add(row["parent_id"])
    top: list[Node] = []
    nodes: dict[Any, Node] = {}
    for row in rows:
        shown = may_see_comment(row, viewer)
        if not shown and row["id"] not in needed:
            continue
        node = nodes[row["id"]] = Node(row, shown)
        owner = container_of(row, by_id)
        if row["depth"] == MAX_DEPTH and row["parent_id"] != owner:
            node.answers = by_id.get(row["parent_id"])
        (nodes[owner].children if owner in nodes else top).append(node)
    return top


def visible_count(rows: list[dict[str, Any]]) -> int:
    return sum(1 for row in rows if is_visible(row))


class ThreadTree(CookoutProjection):
    name = "thread_tree"
    topics = (
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
        get_topic(Like.Liked),
        get_topic(Like.LikedAgain),
        get_topic(Like.Unliked),
    )
    view_class = ThreadView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def post_published(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.view.published(tracking, event)

    @process_event.register
    def post_edited(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.view.post_edited(tracking, event)

    @process_event.register
    def post_retracted(self, event: Post.PostRetracted, tracking: Tracking) -> None:
        self.view.update_post(tracking, event.originator_id, retracted=True)

    @process_event.register
    def post_hidden(self, event: Post.PostHidden, tracking: Tracking) -> None:
        self.view.update_post(tracking, event.originator_id, hidden_reason=event.reason)

    @process_event.register
    def post_unhidden(self, event: Post.PostUnhidden, tracking: Tracking) -> None:
        self.view.update_post(tracking, event.originator_id, hidden_reason=None)

    @process_event.register
    def comment_posted(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
        self.view.commented(tracking, event)

    @process_event.register
    def comment_edited(self, event: Comment.CommentEdited, tracking: Tracking) -> None:
        self.view.comment_edited(tracking, event)

    @process_event.register
    def comment_retracted(self, event: Comment.CommentRetracted, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, retracted=True)

    @process_event.register
    def comment_approved(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, status=VISIBLE, hidden_reason=None)

    @process_event.register
    def comment_hidden(self, event: Comment.CommentHidden, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, status=HIDDEN, hidden_reason=event.reason)

    @process_event.register
    def comment_marked_spam(self, event: Comment.CommentMarkedSpam, tracking: Tracking) -> None:
        self.view.update_comment(tracking, event.originator_id, status=SPAM, hidden_reason=None)

    @process_event.register
    def liked(self, event: Like.Liked, tracking: Tracking) -> None:
        self.view.liked(tracking, event)

    @process_event.register
    def liked_again(self, event: Like.LikedAgain, tracking: Tracking) -> None:
        self.view.like_changed(tracking, event.originator_id, True)

    @process_event.register
    def unliked(self, event: Like.Unliked, tracking: Tracking) -> None:
        self.view.like_changed(tracking, event.originator_id, False)
