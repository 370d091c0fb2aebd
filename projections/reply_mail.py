"""Reply emails: who hears about a new comment, decided from the log and posted to the outbox.

A comment is announced once, when it first becomes visible: at once for members and approved guests,
at its approval for a held comment. It goes to the author of what it answers (unless they turned reply
emails off) and to every address subscribed to the post; never to the comment's own author, and at
most once per address. The letters' keys name the comment and the address, so a replay or a second
approval posts nothing new. A guest's subscription first gets one confirmation letter, and no comment
letters until its owner has confirmed it. What this needs to decide (emails, authors, subscriptions) it keeps in its
own tables, written with its position, so it never depends on another projection having caught up;
only the reply-email preference is read from the member directory when the comment is announced.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.comments import VISIBLE, Comment
from cookout.domain.members import Member
from cookout.domain.personal import FORMER_MEMBER
from cookout.domain.posts import Post
from cookout.domain.subscriptions import Subscription
from cookout.domain.tribes import MEMBERS_ONLY, Tribe
from cookout.projections.markdown import excerpt
from cookout.projections.base import Statement, catch_up, put_off
from cookout.projections.outbox import Dispatcher, Letter, OutboxView

REPLY = "reply"
NEW_COMMENT = "new_comment"
CONFIRM_SUBSCRIPTION = "confirm_subscription"


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
        # Until a member confirms their address, no reply mail goes to it.
        "ALTER TABLE reply_mail_members ADD COLUMN IF NOT EXISTS confirmed boolean NOT NULL DEFAULT true",
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
        "ALTER TABLE reply_mail_subscriptions ADD COLUMN IF NOT EXISTS confirmed boolean NOT NULL DEFAULT true",
    )
    # A rebuild empties what the dispatcher remembers, never the outbox: the outbox records what was sent.
    tables = (
        "reply_mail_members", "reply_mail_tribes", "reply_mail_tribe_members", "reply_mail_posts",
        "reply_mail_comments", "reply_mail_subscriptions",
    )

    def post_title(self, post_id: Any) -> str:
        found = self.row("SELECT title FROM reply_mail_posts WHERE id = %(id)s", {"id": post_id})
        return found["title"] if found else ""

    def subscription(self, subscription_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM reply_mail_subscriptions WHERE id = %(id)s", {"id": subscription_id})

    def comment(self, comment_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM reply_mail_comments WHERE id = %(id)s", {"id": comment_id})

    def audiences(self, comments: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """For each comment, everything that decides who hears about it, or None if its post (or tribe) is
        unknown: the post; the commenter, if a member; the member it answers (the parent comment's author,
        else the post's) with their address, reply-email choice and whether they may still read the tribe;
        and the active subscribers who may read it (members-only tribe: members only), ordered by address.

        One statement for a whole batch's comments rather than one SELECT per fact, or one per comment:
        this runs for every comment posted, and the round trips were most of the dispatcher's time.
        """
        found = self.rows(
            """
            SELECT given.n, post.id, post.title,
                   commenter.email AS commenter_email, commenter.display_name AS commenter_name,
                   answered.id AS answered_id, answered_member.email AS answered_email,
                   answered_member.display_name AS answered_name,
                   answered_member.reply_emails AND answered_member.confirmed AS answered_wants_replies,
                   NOT tribe.members_only OR EXISTS (
                       SELECT 1 FROM reply_mail_tribe_members tm
                       WHERE tm.tribe_id = post.tribe_id AND tm.member_id = answered.id
                   ) AS answered_may_read,
                   ARRAY(
                       SELECT s.email FROM reply_mail_subscriptions s
                       WHERE s.post_id = post.id AND s.active AND s.confirmed AND (
                           NOT tribe.members_only OR EXISTS (
                               SELECT 1 FROM reply_mail_members m
                               JOIN reply_mail_tribe_members tm ON tm.member_id = m.id AND tm.tribe_id = post.tribe_id
                               WHERE lower(m.email) = lower(s.email)))
                       ORDER BY s.email
                   ) AS subscribers
            FROM unnest(%(posts)s::uuid[], %(parents)s::uuid[], %(authors)s::uuid[])
                 WITH ORDINALITY AS given (post_id, parent_id, author_id, n)
            JOIN reply_mail_posts post ON post.id = given.post_id
            JOIN reply_mail_tribes tribe ON tribe.id = post.tribe_id
            CROSS JOIN LATERAL (
                SELECT CASE WHEN given.parent_id IS NULL THEN post.author_id
                            ELSE (SELECT c.author_id FROM reply_mail_comments c WHERE c.id = given.parent_id)
                       END AS id
            ) answered
            LEFT JOIN reply_mail_members commenter ON commenter.id = given.author_id
            LEFT JOIN reply_mail_members answered_member ON answered_member.id = answered.id
            """,
            {"posts": [c["post_id"] for c in comments], "parents": [c["parent_id"] for c in comments],
             "authors": [c["author_id"] for c in comments]},
        )
        by_number = {row["n"]: row for row in found}
        return [by_number.get(n) for n in range(1, len(comments) + 1)]

    def snapshot(self) -> list[dict[str, Any]]:
        return [row for table in self.tables for row in self.rows(f"SELECT * FROM {table} ORDER BY id")]


def letter_key(comment_id: Any, email: str) -> str:
    return f"conversation:{comment_id}:{email.lower()}"


def confirmation_key(event: Any) -> str:
    """One confirmation per subscription start: named by the event that started it."""
    return f"{CONFIRM_SUBSCRIPTION}:{event.originator_id}@{event.originator_version}"


class ReplyMail(Dispatcher):
    name = "reply_mail"
    topics = (
        get_topic(Member.Joined),
        get_topic(Member.Renamed),
        get_topic(Member.ReplyEmailsChosen),
        get_topic(Tribe.TribeFounded),
        get_topic(Tribe.TribeRevised),
        get_topic(Tribe.MemberJoined),
        get_topic(Tribe.MemberLeft),
        get_topic(Post.PostPublished),
        get_topic(Post.PostEdited),
        get_topic(Subscription.Subscribed),
        get_topic(Subscription.Resubscribed),
        get_topic(Member.EmailConfirmationAsked),
        get_topic(Member.EmailConfirmed),
        get_topic(Member.EmailChanged),
        get_topic(Member.LeftCookout),
        get_topic(Subscription.SubscriptionConfirmed),
        get_topic(Subscription.Unsubscribed),
        get_topic(Comment.CommentPosted),
        get_topic(Comment.CommentEdited),
        get_topic(Comment.CommentApproved),
    )
    view_class = ReplyMailView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.post(tracking, [], [(
            "INSERT INTO reply_mail_members (id, email, display_name) VALUES (%(id)s, %(email)s, %(name)s)",
            {"id": event.originator_id, "email": event.email, "name": event.display_name},
        )])

    @process_event.register
    def member_renamed(self, event: Member.Renamed, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_members SET display_name = %(name)s WHERE id = %(id)s",
            {"id": event.originator_id, "name": event.display_name},
        ))

    @process_event.register
    def member_email_confirmation_asked(self, event: Member.EmailConfirmationAsked, tracking: Tracking) -> None:
        self.remember(tracking, ("UPDATE reply_mail_members SET confirmed = false WHERE id = %(id)s",
                                 {"id": event.originator_id}))

    @process_event.register
    def member_email_confirmed(self, event: Member.EmailConfirmed, tracking: Tracking) -> None:
        self.remember(tracking, ("UPDATE reply_mail_members SET confirmed = true WHERE id = %(id)s",
                                 {"id": event.originator_id}))

    @process_event.register
    def member_email_changed(self, event: Member.EmailChanged, tracking: Tracking) -> None:
        self.remember(tracking, ("UPDATE reply_mail_members SET email = %(email)s, confirmed = true WHERE id = %(id)s",
                                 {"id": event.originator_id, "email": event.email}))

    @process_event.register
    def member_left_cookout(self, event: Member.LeftCookout, tracking: Tracking) -> None:
        """No more mail to a former member: their subscriptions go, and so do their address and name."""
        member = {"id": event.originator_id, "name": FORMER_MEMBER}
        self.post(tracking, [], [
            ("DELETE FROM reply_mail_subscriptions WHERE lower(email) = "
             "(SELECT lower(email) FROM reply_mail_members WHERE id = %(id)s)", member),
            ("UPDATE reply_mail_members SET email = '', display_name = %(name)s, confirmed = false, "
             "reply_emails = false WHERE id = %(id)s", member),
        ])

    @process_event.register
    def member_reply_emails_chosen(self, event: Member.ReplyEmailsChosen, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_members SET reply_emails = %(on)s WHERE id = %(id)s",
            {"id": event.originator_id, "on": event.enabled},
        ))

    @process_event.register
    def tribe_founded(self, event: Tribe.TribeFounded, tracking: Tracking) -> None:
        self.post(tracking, [], [
            ("INSERT INTO reply_mail_tribes (id, members_only) VALUES (%(id)s, %(closed)s)",
             {"id": event.originator_id, "closed": event.visibility == MEMBERS_ONLY}),
            self.tribe_member(event.originator_id, event.founder_id),
        ])

    @process_event.register
    def tribe_revised(self, event: Tribe.TribeRevised, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_tribes SET members_only = %(closed)s WHERE id = %(id)s",
            {"id": event.originator_id, "closed": event.visibility == MEMBERS_ONLY},
        ))

    @process_event.register
    def tribe_member_joined(self, event: Tribe.MemberJoined, tracking: Tracking) -> None:
        self.remember(tracking, self.tribe_member(event.originator_id, event.member_id))

    @process_event.register
    def tribe_member_left(self, event: Tribe.MemberLeft, tracking: Tracking) -> None:
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
    def post_published(self, event: Post.PostPublished, tracking: Tracking) -> None:
        self.post(tracking, [], [(
            "INSERT INTO reply_mail_posts (id, tribe_id, author_id, title) "
            "VALUES (%(id)s, %(tribe)s, %(author)s, %(title)s)",
            {"id": event.originator_id, "tribe": event.tribe_id, "author": event.author_id, "title": event.title},
        )])

    @process_event.register
    def post_edited(self, event: Post.PostEdited, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_posts SET title = %(title)s WHERE id = %(id)s",
            {"id": event.originator_id, "title": event.title},
        ), on_post=event.originator_id)

    @process_event.register
    def subscribed(self, event: Subscription.Subscribed, tracking: Tracking) -> None:
        # Events from before confirmation existed have no `confirmed`; those subscriptions stood as confirmed.
        confirmed = getattr(event, "confirmed", True)
        self.dispatch(tracking, [(
            "INSERT INTO reply_mail_subscriptions (id, post_id, email, active, confirmed) "
            "VALUES (%(id)s, %(post)s, %(email)s, true, %(confirmed)s)",
            {"id": event.originator_id, "post": event.post_id, "email": event.email, "confirmed": confirmed},
        )], [] if confirmed else [self.confirmation(event, event.post_id, event.email)], on_post=event.post_id)

    @process_event.register
    def resubscribed(self, event: Subscription.Resubscribed, tracking: Tracking) -> None:
        confirmed = getattr(event, "confirmed", True)
        subscription = self.view.subscription(event.originator_id)
        letters = [] if confirmed or subscription is None else [
            self.confirmation(event, subscription["post_id"], subscription["email"])
        ]
        self.dispatch(tracking, [(
            "UPDATE reply_mail_subscriptions SET active = true, confirmed = %(confirmed)s WHERE id = %(id)s",
            {"id": event.originator_id, "confirmed": confirmed},
        )], letters)

    @process_event.register
    def subscription_confirmed(self, event: Subscription.SubscriptionConfirmed, tracking: Tracking) -> None:
        self.remember(tracking, (
            "UPDATE reply_mail_subscriptions SET confirmed = true WHERE id = %(id)s", {"id": event.originator_id}
        ))

    def confirmation(self, event: Any, post_id: Any, email: str) -> Letter:
        payload = {"post_id": str(post_id), "post_title": self.view.post_title(post_id), "email": email}
        return Letter(key=confirmation_key(event), kind=CONFIRM_SUBSCRIPTION, recipient=email, payload=payload)

    @process_event.register
    def unsubscribed(self, event: Subscription.Unsubscribed, tracking: Tracking) -> None:
        self.remember(tracking, self.subscription_active(event.originator_id, False))

    @process_event.register
    def comment_posted(self, event: Comment.CommentPosted, tracking: Tracking) -> None:
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
        # Writing the row changes no earlier comment's audience, so it does not catch up first.
        self.post(tracking, [], [remembered])
        if comment["announced"]:
            put_off(self.name, comment, self.announce)

    @process_event.register
    def comment_edited(self, event: Comment.CommentEdited, tracking: Tracking) -> None:
        # Who hears about a comment does not depend on any comment's body (a letter quotes the body as
        # posted), so the comments put off are not decided first.
        self.post(tracking, [], [(
            "UPDATE reply_mail_comments SET body = %(body)s WHERE id = %(id)s",
            {"id": event.originator_id, "body": event.body},
        )])

    @process_event.register
    def comment_approved(self, event: Comment.CommentApproved, tracking: Tracking) -> None:
        comment = self.view.comment(event.originator_id)
        if comment is None or comment["announced"]:
            self.view.insert_tracking(tracking)
            return
        announced = ("UPDATE reply_mail_comments SET announced = true WHERE id = %(id)s", {"id": comment["id"]})
        self.dispatch(tracking, [announced], [])
        self.announce([comment])

    # Deciding who hears about a comment.

    def announce(self, comments: list[dict[str, Any]]) -> None:
        self.post_letters(self.letters_about(comments))

    def letters_about(self, comments: list[dict[str, Any]]) -> list[Letter]:
        """The letters about these comments, decided for all of them with one read."""
        return [letter for comment, found in zip(comments, self.view.audiences(comments))
                for letter in self.announcements(comment, found)]

    def announcements(self, comment: dict[str, Any], found: dict[str, Any] | None) -> list[Letter]:
        if found is None:
            return []
        is_member = found["commenter_email"] is not None
        author_email = (found["commenter_email"] if is_member else comment["guest_email"] or "").lower()
        # Lowercased address -> (kind, address, what the payload adds); the first claim on an address wins.
        chosen: dict[str, tuple[str, str, dict[str, Any]]] = {}
        answered, email = found["answered_id"], found["answered_email"]
        if (answered is not None and answered != comment["author_id"] and found["answered_wants_replies"]
                and found["answered_may_read"] and email.lower() != author_email):
            chosen[email.lower()] = (REPLY, email, {"recipient_name": found["answered_name"],
                                                    "to_comment": comment["parent_id"] is not None})
        for email in found["subscribers"]:
            if email.lower() == author_email or email.lower() in chosen:
                continue
            chosen[email.lower()] = (NEW_COMMENT, email, {"email": email})
        if not chosen:
            return []  # nobody to tell, so no excerpt to render
        common = {
            "post_id": str(found["id"]),
            "post_title": found["title"],
            "comment_id": str(comment["id"]),
            "author_name": found["commenter_name"] if is_member else comment["guest_name"],
            "excerpt": excerpt(comment["body"], 400),
        }
        return [
            Letter(key=letter_key(comment["id"], email), kind=kind, recipient=email, payload={**common, **extra})
            for kind, email, extra in chosen.values()
        ]

    # Writing.

    @staticmethod
    def subscription_active(subscription_id: Any, active: bool) -> Statement:
        return (
            "UPDATE reply_mail_subscriptions SET active = %(active)s WHERE id = %(id)s",
            {"id": subscription_id, "active": active},
        )

    def remember(self, tracking: Tracking, statement: Statement, on_post: Any | None = None) -> None:
        self.dispatch(tracking, [statement], [], on_post)

    def dispatch(self, tracking: Tracking, statements: list[Statement], letters: list[Letter],
                 on_post: Any | None = None) -> None:
        """Change what decides who hears about a comment: the comments announced before this event are
        decided first, on what was true when they were posted. A change to one post's audience or title
        (`on_post`) decides only that post's comments first: the others' reads would find the same."""
        if on_post is None:
            catch_up(self.name)
        else:
            catch_up(self.name, lambda comment: comment["post_id"] == on_post)
        self.post(tracking, letters, statements)
