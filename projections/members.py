"""The member directory: who has joined, under which handle and email, for profiles and sign-in."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.members import Member
from cookout.domain.personal import FORMER_MEMBER, former_handle
from cookout.domain.text import storable
from cookout.projections.base import CookoutProjection, Statement, View
from cookout.projections.viewers import CHANNEL as VIEWER_CHANNEL, VIEWER_COLUMNS


class MemberDirectoryView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS members (
            id uuid PRIMARY KEY,
            handle text NOT NULL UNIQUE,
            display_name text NOT NULL,
            email text NOT NULL,
            password_hash text NOT NULL,
            roles text[] NOT NULL DEFAULT '{}',
            joined_at timestamptz NOT NULL
        )
        """,
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS reply_emails boolean NOT NULL DEFAULT true",
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS calendar_token text UNIQUE",
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS session_epoch integer NOT NULL DEFAULT 0",
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS password_changed_at integer NOT NULL DEFAULT 0",
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS email_confirmed boolean NOT NULL DEFAULT true",
        "ALTER TABLE members ADD COLUMN IF NOT EXISTS time_zone text",
        "CREATE INDEX IF NOT EXISTS members_joined ON members (joined_at DESC)",
        # How many members there are, kept as they join, so the home page counts none of them.
        "CREATE TABLE IF NOT EXISTS member_total (one boolean PRIMARY KEY DEFAULT true CHECK (one), n bigint NOT NULL)",
        "INSERT INTO member_total (one, n) SELECT true, count(*) FROM members ON CONFLICT (one) DO NOTHING",
        # Former members have no address: only the addresses members have now are unique (the index before
        # former members, `members_email_key`, is dropped).
        "DROP INDEX IF EXISTS members_email_key",
        "CREATE UNIQUE INDEX IF NOT EXISTS members_live_email_key ON members (lower(email)) WHERE email <> ''",
    )
    tables = ("members", "member_total")

    def joined(self, tracking: Tracking, event: Member.Joined) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO members (id, handle, display_name, email, password_hash, joined_at)
                VALUES (%(id)s, %(handle)s, %(display_name)s, %(email)s, %(password_hash)s, %(at)s)
                """,
                {
                    "id": event.originator_id,
                    "handle": event.handle,
                    "display_name": event.display_name,
                    "email": event.email,
                    "password_hash": event.password_hash,
                    "at": event.timestamp,
                },
            ),
            ("INSERT INTO member_total (one, n) VALUES (true, 1) ON CONFLICT (one) DO UPDATE SET n = member_total.n + 1",
             {}),
        )

    def update(self, tracking: Tracking, member_id: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        statements: list[Statement] = [
            (f"UPDATE members SET {assignments} WHERE id = %(id)s", {"id": member_id, **columns})]
        if VIEWER_COLUMNS & columns.keys():  # processes that keep the row in memory drop it when this commits
            statements.append(("SELECT pg_notify(%(channel)s, %(id)s)", {"channel": VIEWER_CHANNEL, "id": str(member_id)}))
        self.apply(tracking, *statements)

    def left(self, tracking: Tracking, member_id: Any) -> None:
        """A former member: no handle, name, address or password of theirs is kept, as a replay of the log
        (which can no longer read them) would show."""
        self.update(tracking, member_id, handle=former_handle(member_id), display_name=FORMER_MEMBER, email="",
                    password_hash="", calendar_token=None, reply_emails=False)

    def add_role(self, tracking: Tracking, member_id: Any, role: str) -> None:
        self.apply(
            tracking,
            (
                "UPDATE members SET roles = array_append(roles, %(role)s) "
                "WHERE id = %(id)s AND NOT %(role)s = ANY(roles)",
                {"id": member_id, "role": role},
            ),
        )

    # Queries pages make.

    def by_handle(self, handle: str) -> dict[str, Any] | None:
        if not storable(handle):
            return None
        return self.row(f"SELECT {PUBLIC_COLUMNS} FROM members WHERE handle = %(h)s", {"h": handle.lower()})

    def by_id(self, member_id: Any) -> dict[str, Any] | None:
        return self.row(f"SELECT {PUBLIC_COLUMNS} FROM members WHERE id = %(id)s", {"id": member_id})

    def by_ids(self, member_ids: list[Any]) -> list[dict[str, Any]]:
        return self.rows(
            f"SELECT {PUBLIC_COLUMNS} FROM members WHERE id = ANY(%(ids)s) ORDER BY display_name",
            {"ids": list(member_ids)},
        )

    def by_handles(self, handles: list[str]) -> list[dict[str, Any]]:
        return self.rows(
            f"SELECT {PUBLIC_COLUMNS} FROM members WHERE handle = ANY(%(h)s) ORDER BY handle",
            {"h": [h.lower() for h in handles if storable(h)]},
        )

    def by_calendar_token(self, token: str) -> dict[str, Any] | None:
        if not storable(token):
            return None
        return self.row(f"SELECT {PUBLIC_COLUMNS} FROM members WHERE calendar_token = %(t)s", {"t": token})

    def private_settings(self, member_id: Any) -> dict[str, Any] | None:
        """What only the member sees: their settings, including the secret feed token."""
        return self.row(f"SELECT {PUBLIC_COLUMNS}, calendar_token, time_zone FROM members WHERE id = %(id)s",
                        {"id": member_id})

    def time_zone(self, member_id: Any) -> str | None:
        """The zone the member chose for reading times, or None (their browser's)."""
        found = self.row("SELECT time_zone FROM members WHERE id = %(id)s", {"id": member_id})
        return found["time_zone"] if found else None

    def password_hash(self, member_id: Any) -> str:
        found = self.row("SELECT password_hash FROM members WHERE id = %(id)s", {"id": member_id})
        return found["password_hash"] if found else ""

    def reset_is_open(self, member_id: Any, requested_at: int) -> bool:
        """Whether a reset link asked for at that version is still unused: the password has not changed since."""
        found = self.row("SELECT password_changed_at FROM members WHERE id = %(id)s", {"id": member_id})
        return found is not None and requested_at > int(found["password_changed_at"])

    def viewer(self, member_id: Any) -> dict[str, Any] | None:
        """What every request of a signed-in member needs of them, in one read: the session epoch (sessions
        carrying an older one are ended), the zone they read times in, and whether their email is confirmed."""
        return self.row("SELECT session_epoch, time_zone, email_confirmed FROM members WHERE id = %(id)s",
                        {"id": member_id})

    def credentials(self, login: str) -> dict[str, Any] | None:
        """The member a sign-in names, by handle or by email (any case)."""
        if not storable(login):
            return None
        return self.row(
            f"SELECT {PUBLIC_COLUMNS}, password_hash, session_epoch FROM members "
            "WHERE password_hash <> '' AND (handle = lower(%(login)s) OR lower(email) = lower(%(login)s))",
            {"login": login.strip()},
        )

    def newest(self, limit: int = 12) -> list[dict[str, Any]]:
        return self.rows(
            f"SELECT {PUBLIC_COLUMNS} FROM members ORDER BY joined_at DESC LIMIT %(n)s", {"n": limit}
        )

    def snapshot(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM members ORDER BY id")


PUBLIC_COLUMNS = "id, handle, display_name, email, roles, joined_at, reply_emails"


class MemberDirectory(CookoutProjection):
    name = "member_directory"
    topics = (
        get_topic(Member.Joined),
        get_topic(Member.Renamed),
        get_topic(Member.PasswordChanged),
        get_topic(Member.ReplyEmailsChosen),
        get_topic(Member.CalendarFeedIssued),
        get_topic(Member.CalendarFeedRevoked),
        get_topic(Member.SessionsEnded),
        get_topic(Member.RoleGranted),
        get_topic(Member.EmailConfirmationAsked),
        get_topic(Member.EmailConfirmed),
        get_topic(Member.EmailChanged),
        get_topic(Member.TimeZoneChosen),
        get_topic(Member.LeftCookout),
    )
    view_class = MemberDirectoryView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.view.joined(tracking, event)

    @process_event.register
    def member_renamed(self, event: Member.Renamed, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, display_name=event.display_name)

    @process_event.register
    def member_password_changed(self, event: Member.PasswordChanged, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, password_hash=event.password_hash,
                         password_changed_at=event.originator_version)

    @process_event.register
    def member_reply_emails_chosen(self, event: Member.ReplyEmailsChosen, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, reply_emails=event.enabled)

    @process_event.register
    def member_calendar_feed_issued(self, event: Member.CalendarFeedIssued, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, calendar_token=event.token)

    @process_event.register
    def member_calendar_feed_revoked(self, event: Member.CalendarFeedRevoked, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, calendar_token=None)

    @process_event.register
    def member_sessions_ended(self, event: Member.SessionsEnded, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, session_epoch=event.session_epoch)

    @process_event.register
    def member_role_granted(self, event: Member.RoleGranted, tracking: Tracking) -> None:
        self.view.add_role(tracking, event.originator_id, event.role)

    @process_event.register
    def member_email_confirmation_asked(self, event: Member.EmailConfirmationAsked, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, email_confirmed=False)

    @process_event.register
    def member_email_confirmed(self, event: Member.EmailConfirmed, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, email_confirmed=True)

    @process_event.register
    def member_email_changed(self, event: Member.EmailChanged, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, email=event.email, email_confirmed=True)

    @process_event.register
    def member_time_zone_chosen(self, event: Member.TimeZoneChosen, tracking: Tracking) -> None:
        self.view.update(tracking, event.originator_id, time_zone=event.time_zone)

    @process_event.register
    def member_left_cookout(self, event: Member.LeftCookout, tracking: Tracking) -> None:
        self.view.left(tracking, event.originator_id)
