"""Reply emails: who hears about a new comment, decided from the log and posted to the outbox.

A comment is announced once, when it first becomes visible: at once for members and approved guests,
at its approval for a held comment. It goes to the author of what it answers (unless they turned reply
emails off) and to every address subscribed to the post; never to the comment's own author, and at
most once per address. The letters' keys name the comment and the address, so a replay or a second
approval posts nothing new. What this needs to decide (emails, authors, subscriptions) it keeps in its
own tables, written with its position, so it never depends on another projection having caught up;
only the reply-email preference is read from the member directory when the comment is announced.
"""

from __future__ import annotations

import logging
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking

from cookout.domain.comments import VISIBLE, Comment
from cookout.domain.members import Member
from cookout.domain.posts import Post
from cookout.domain.subscriptions import Subscription
from cookout.domain.tribes import MEMBERS_ONLY, Tribe
from cookout.platform.markdown import excerpt
from cookout.projections.base import Statement
from cookout.projections.outbox import Dispatcher, Letter, OutboxView, letter_statement

log = logging.getLogger(__name__)

REPLY = "reply"
NEW_COMMENT = "new_comment"


class ReplyMailView(OutboxView):
    ddl = (
        *OutboxView.ddl,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_members (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            display_name text NOT NULL,
            reply_emails boolean NOT NULL DEFAULT true
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_tribes (
            id uuid PRIMARY KEY,
            members_only boolean NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_tribe_members (
            tribe_id uuid NOT NULL,
            member_id uuid NOT NULL,
            PRIMARY KEY (tribe_id, member_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_posts (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            author_id uuid NOT NULL,
            title text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_comments (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL,
            parent_id uuid,
            author_id uuid,
            guest_name text,
            guest_email text,
            body text NOT NULL,
            announced boolean NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS reply_mail_subscriptions (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL,
            email text NOT NULL,
            active boolean NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS reply_mail_subscriptions_post ON reply_mail_subscriptions (post_id)",
    )
    # A rebuild empties what the dispatcher remembers, never the outbox: the outbox records what was sent.
    tables = (
        "reply_mail_members", "reply_mail_tribes", "reply_mail_tribe_members", "reply_mail_posts",
        "reply_mail_comments", "reply_mail_subscriptions",
    )

    def record(self, tracking: Tracking, statements: list[Statement], letters: list[Letter]) -> None:
        """The dispatcher's own rows, the letters and the position, in one transaction."""
        self.apply(tracking, *statements, *(letter_statement(letter) for letter in letters))

    def member(self, member_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM reply_mail_members WHERE id = %(id)s", {"id": member_id})

    def post_of(self, post_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM reply_mail_posts WHERE id = %(id)s", {"id": post_id})

    def comment(self, comment_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM reply_mail_comments WHERE id = %(id)s", {"id": comment_id})

    def subscribers(self, post_id: Any) -> list[str]:
        """Active subscribers who may still read the post: in a members-only tribe, only its members."""
        found = self.rows(
            """
            SELECT s.email FROM reply_mail_subscriptions s
            JOIN reply_mail_posts p ON p.id = s.post_id
            JOIN reply_mail_tribes t ON t.id = p.tribe_id
            WHERE s.post_id = %(p)s AND s.active AND (
                NOT t.members_only OR EXISTS (
                    SELECT 1 FROM reply_mail_members m
                    JOIN reply_mail_tribe_members tm ON tm.member_id = m.id AND tm.tribe_id = t.id
                    WHERE lower(m.email) = lower(s.email)))
            ORDER BY s.email
            """,
            {"p": post_id},
        )
        return [row["email"] for row in found]

    def may_read(self, member_id: Any, tribe_id: Any) -> bool:
        found = self.row(
            """
            SELECT NOT t.members_only OR EXISTS (
                SELECT 1 FROM reply_mail_tribe_members tm WHERE tm.tribe_id = t.id AND tm.member_id = %(m)s
            ) AS allowed
            FROM reply_mail_tribes t WHERE t.id = %(t)s
            """,
            {"m": member_id, "t": tribe_id},
        )
        return bool(found and found["allowed"])

    def snapshot(self) -> list[dict[str, Any]]:
        return [row for table in self.tables for row in self.rows(f"SELECT * FROM {table} ORDER BY id")]


def letter_key(comment_id: Any, email: str) -> str:
    return f"conversation:{comment_id}:{email.lower()}"


class ReplyMail(Dispatcher):
    name = "reply_mail"
    view_class = ReplyMailView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, event: Member.Joined, tracking: Tracking) -> None:
        self.remember(tracking, (
            "INSERT INTO reply_mail_members (id, email, display_name) VALUES (%(id)s, %(email)s, %(name)s)",
            {"id": event.originator_id, "email": event.email, "name": event.display_name},
        ))

    @process_event.register
    def _(self, event: Member.Renamed, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_members SET display_name = %(name)s WHERE id = %(id)s",
            {"id": event.originator_id, "name": event.display_name},
        ))

    @process_event.register
    def _(self, event: Member.ReplyEmailsChosen, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_members SET reply_emails = %(on)s WHERE id = %(id)s",
            {"id": event.originator_id, "on": event.enabled},
        ))

    @process_event.register
    def _(self, event: Tribe.TribeFounded, tracking: Tracking) -> None:
        self.view.record(tracking, [
            ("INSERT INTO reply_mail_tribes (id, members_only) VALUES (%(id)s, %(closed)s)",
             {"id": event.originator_id, "closed": event.visibility == MEMBERS_ONLY}),
            self.tribe_member(event.originator_id, event.founder_id),
        ], [])

    @process_event.register
    def _(self, event: Tribe.TribeRevised, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_tribes SET members_only = %(closed)s WHERE id = %(id)s",
            {"id": event.originator_id, "closed": event.visibility == MEMBERS_ONLY},
        ))

    @process_event.register
    def _(self, event: Tribe.MemberJoined, tracking: Tracking) -> None:
        self.remember(tracking, self.tribe_member(event.originator_id, event.member_id))

    @process_event.register
    def _(self, event: Tribe.MemberLeft, tracking: Tracking) -> None:
        self.remember(tracking, (
            "DELETE FROM reply_mail_tribe_members WHERE tribe_id = %(t)s AND member_id = %(m)s",
            {"t": event.originator_id, "m": event.member_id},
        ))

    @staticmethod
    def tribe_member(tribe_id: Any, member_id: Any) -> Statement:
        return (
            "INSERT INTO reply_mail_tribe_members (tribe_id, member_id) VALUES (%(t)s, %(m)s) ON CONFLICT DO NOTHING",
            {"t": tribe_id, "m": member_id},
        )

    @process_event.register
    def _(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.remember(tracking, (
            "INSERT INTO reply_mail_posts (id, tribe_id, author_id, title) "
            "VALUES (%(id)s, %(tribe)s, %(author)s, %(title)s)",
            {"id": event.originator_id, "tribe": event.tribe_id, "author": event.author_id, "title": event.title},
        ))

    @process_event.register
    def _(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_posts SET title = %(title)s WHERE id = %(id)s",
            {"id": event.originator_id, "title": event.title},
        ))

    @process_event.register
    def _(self, event: Subscription.Subscribed, tracking: Tracking) -> None:
        self.remember(tracking, (
            "INSERT INTO reply_mail_subscriptions (id, post_id, email, active) "
            "VALUES (%(id)s, %(post)s, %(email)s, true)",
            {"id": event.originator_id, "post": event.post_id, "email": event.email},
        ))

    @process_event.register
    def _(self, event: Subscription.Resubscribed, tracking: Tracking) -> None:
        self.remember(tracking, self.subscription_active(event.originator_id, True))

    @process_event.register
    def _(self, event: Subscription.Unsubscribed, tracking: Tracking) -> None:
        self.remember(tracking, self.subscription_active(event.originator_id, False))

    @process_event.register
    def _(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
        comment = {
            "id": event.originator_id, "post_id": event.post_id, "parent_id": event.parent_id,
            "author_id": event.author_id, "guest_name": event.guest_name, "guest_email": event.guest_email,
            "body": event.body, "announced": event.status == VISIBLE,
        }
        remembered = (
            """
            INSERT INTO reply_mail_comments (id, post_id, parent_id, author_id, guest_name, guest_email, body, announced)
            VALUES (%(id)s, %(post_id)s, %(parent_id)s, %(author_id)s, %(guest_name)s, %(guest_email)s, %(body)s,
                    %(announced)s)
            """,
            comment,
        )
        letters = self.announcements(comment) if comment["announced"] else []
        self.dispatch(tracking, [remembered], letters)

    @process_event.register
    def _(self, event: Comment.CommentEdited, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_comments SET body = %(body)s WHERE id = %(id)s",
            {"id": event.originator_id, "body": event.body},
        ))

    @process_event.register
    def _(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        comment = self.view.comment(event.originator_id)
        if comment is None or comment["announced"]:
            self.view.insert_tracking(tracking)
            return
        announced = ("UPDATE reply_mail_comments SET announced = true WHERE id = %(id)s", {"id": comment["id"]})
        self.dispatch(tracking, [announced], self.announcements(comment))

    # Deciding who hears about a comment.

    def announcements(self, comment: dict[str, Any]) -> list[Letter]:
        post = self.view.post_of(comment["post_id"])
        if post is None:
            return []
        author = self.view.member(comment["author_id"]) if comment["author_id"] else None
        author_email = (author["email"] if author else comment["guest_email"] or "").lower()
        common = {
            "post_id": str(post["id"]),
            "post_title": post["title"],
            "comment_id": str(comment["id"]),
            "author_name": author["display_name"] if author else comment["guest_name"],
            "excerpt": excerpt(comment["body"], 400),
        }
        letters: dict[str, Letter] = {}
        answered = self.answered_member(comment, post)
        if (answered is not None and answered != comment["author_id"] and self.wants_reply_emails(answered)
                and self.view.may_read(answered, post["tribe_id"])):
            recipient = self.view.member(answered)
            if recipient is not None and recipient["email"].lower() != author_email:
                letters[recipient["email"].lower()] = Letter(
                    key=letter_key(comment["id"], recipient["email"]),
                    kind=REPLY,
                    recipient=recipient["email"],
                    payload={**common, "recipient_name": recipient["display_name"],
                             "to_comment": comment["parent_id"] is not None},
                )
        for email in self.view.subscribers(comment["post_id"]):
            if email.lower() == author_email or email.lower() in letters:
                continue
            letters[email.lower()] = Letter(
                key=letter_key(comment["id"], email), kind=NEW_COMMENT, recipient=email,
                payload={**common, "email": email},
            )
        return list(letters.values())

    def answered_member(self, comment: dict[str, Any], post: dict[str, Any]) -> Any | None:
        """The member whose comment or post this comment answers (a guest's comment has no member)."""
        if comment["parent_id"] is None:
            return post["author_id"]
        parent = self.view.comment(comment["parent_id"])
        return parent["author_id"] if parent else None

    def wants_reply_emails(self, member_id: Any) -> bool:
        member = self.view.member(member_id)
        return member is not None and member["reply_emails"]

    # Writing.

    @staticmethod
    def subscription_active(subscription_id: Any, active: bool) -> Statement:
        return (
            "UPDATE reply_mail_subscriptions SET active = %(active)s WHERE id = %(id)s",
            {"id": subscription_id, "active": active},
        )

    def remember(self, tracking: Tracking, statement: Statement) -> None:
        self.view.record(tracking, [statement], [])

    def dispatch(self, tracking: Tracking, statements: list[Statement], letters: list[Letter]) -> None:
        self.view.record(tracking, statements, letters)
        if Dispatcher.enqueue is None:
            return
        for letter in letters:
            try:
                Dispatcher.enqueue(letter.key)
            except Exception:  # the row is safe in the outbox; the periodic sweep enqueues it again
                log.exception("could not enqueue %s; the outbox sweep will retry", letter.key)
