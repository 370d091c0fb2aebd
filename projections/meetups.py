"""The meetups pages read: meetups, who answered what, waitlist order, agendas, check-ins and who met
whom, plus the tribes' slugs and roles those pages need to decide what a visitor may see."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.meetups import GOING, INVITED, MAYBE, NOT_GOING, WAITLISTED, Meetup
from cookout.domain.tribes import Tribe
from cookout.domain.text import storable
from cookout.projections.base import CookoutProjection, Statement, View

ATTENDANCE_ORDER = f"""
    CASE a.state WHEN '{GOING}' THEN 0 WHEN '{WAITLISTED}' THEN 1 WHEN '{MAYBE}' THEN 2
                 WHEN '{INVITED}' THEN 3 ELSE 4 END
"""

# Who answered a meetup (or was invited), with each waitlisted member's place in the queue; `which` narrows it.
ATTENDANCE = f"""
    SELECT a.member_id, a.state, m.handle, m.display_name,
           CASE WHEN a.state = 'waitlisted' THEN
               row_number() OVER (PARTITION BY a.state = 'waitlisted' ORDER BY a.since)
           END AS position,
           EXISTS (SELECT 1 FROM meetup_check_ins c
                   WHERE c.meetup_id = a.meetup_id AND c.member_id = a.member_id)
               AS checked_in
    FROM meetup_attendance a JOIN members m ON m.id = a.member_id
    WHERE a.meetup_id = %(id)s {{which}}
    ORDER BY {ATTENDANCE_ORDER}, a.since
"""

COMING = "AND (a.state IN ('going', 'maybe', 'waitlisted') OR a.member_id = %(viewer)s)"

# A meetup with its tribe, its head counts, and the viewer's role in the tribe (NULL for a visitor or an outsider).
MEETUP = """
    SELECT m.*, t.slug AS tribe_slug, t.name AS tribe_name,
           t.visibility AS tribe_visibility, r.role AS viewer_role,
           (SELECT count(*) FROM meetup_attendance a
            WHERE a.meetup_id = m.id AND a.state = 'going') AS going_count,
           (SELECT count(*) FROM meetup_attendance a
            WHERE a.meetup_id = m.id AND a.state = 'waitlisted') AS waitlist_count
    FROM meetups m JOIN meetup_tribes t ON t.id = m.tribe_id
    LEFT JOIN meetup_tribe_roles r ON r.tribe_id = m.tribe_id AND r.member_id = %(viewer)s
    WHERE m.id = %(id)s
"""

# A meetup's agenda, with how many chose each session and whether the viewer did.
SESSIONS = """
    SELECT s.*,
           (SELECT count(*) FROM meetup_choices c WHERE c.session_id = s.id) AS chosen_by,
           EXISTS (SELECT 1 FROM meetup_choices c
                   WHERE c.session_id = s.id AND c.member_id = %(viewer)s) AS chosen
    FROM meetup_sessions s WHERE s.meetup_id = %(id)s ORDER BY s.starts_at, s.title
"""


class MeetupsView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS meetups (
            id uuid PRIMARY KEY,
            tribe_id uuid NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            timezone text NOT NULL,
            venue text NOT NULL,
            address text NOT NULL,
            online_url text NOT NULL,
            capacity integer,
            rsvp_deadline timestamptz,
            uid text NOT NULL,
            sequence integer NOT NULL,
            check_in_code text NOT NULL,
            cancelled boolean NOT NULL DEFAULT false,
            cancel_message text NOT NULL DEFAULT '',
            scheduled_by text NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS meetups_by_tribe ON meetups (tribe_id, starts_at)",
        """
        CREATE TABLE IF NOT EXISTS meetup_attendance (
            meetup_id uuid NOT NULL,
            member_id uuid NOT NULL,
            state text NOT NULL,
            since bigint NOT NULL,
            PRIMARY KEY (meetup_id, member_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS meetup_attendance_by_member ON meetup_attendance (member_id)",
        """
        CREATE TABLE IF NOT EXISTS meetup_sessions (
            id uuid PRIMARY KEY,
            meetup_id uuid NOT NULL,
            uid text NOT NULL,
            sequence integer NOT NULL,
            title text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            room text NOT NULL,
            speaker text NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS meetup_sessions_by_meetup ON meetup_sessions (meetup_id, starts_at)",
        """
        CREATE TABLE IF NOT EXISTS meetup_choices (
            session_id uuid NOT NULL,
            member_id uuid NOT NULL,
            meetup_id uuid NOT NULL,
            PRIMARY KEY (session_id, member_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS meetup_check_ins (
            meetup_id uuid NOT NULL,
            member_id uuid NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (meetup_id, member_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS meetup_check_ins_by_member ON meetup_check_ins (member_id)",
        """
        CREATE TABLE IF NOT EXISTS meetup_tribes (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            visibility text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS meetup_tribe_roles (
            tribe_id uuid NOT NULL,
            member_id uuid NOT NULL,
            role text NOT NULL,
            PRIMARY KEY (tribe_id, member_id)
        )
        """,
        # A calendar's answer names its entry by UID only.
        "CREATE INDEX IF NOT EXISTS meetups_by_uid ON meetups (uid)",
        "CREATE INDEX IF NOT EXISTS meetup_sessions_by_uid ON meetup_sessions (uid)",
    )
    tables = (
        "meetups",
        "meetup_attendance",
        "meetup_sessions",
        "meetup_choices",
        "meetup_check_ins",
        "meetup_tribes",
        "meetup_tribe_roles",
    )

    # Writing

    def scheduled(self, tracking: Tracking, event: Meetup.Scheduled) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO meetups (id, tribe_id, title, description, starts_at, ends_at, timezone,
                    venue, address, online_url, capacity, rsvp_deadline, uid, sequence,
                    check_in_code, scheduled_by)
                VALUES (%(id)s, %(tribe_id)s, %(title)s, %(description)s, %(starts_at)s,
                    %(ends_at)s, %(timezone)s, %(venue)s, %(address)s, %(online_url)s,
                    %(capacity)s, %(rsvp_deadline)s, %(uid)s, 0, %(check_in_code)s, %(actor)s)
                """,
                {
                    "id": event.originator_id,
                    "tribe_id": event.tribe_id,
                    "title": event.title,
                    "description": event.description,
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                    "timezone": event.timezone,
                    "venue": event.venue,
                    "address": event.address,
                    "online_url": event.online_url,
                    "capacity": event.capacity,
                    "rsvp_deadline": event.rsvp_deadline,
                    "uid": event.uid,
                    "check_in_code": event.check_in_code,
                    "actor": event.actor,
                },
            ),
        )

    def change_meetup(self, tracking: Tracking, meetup_id: UUID, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.apply(
            tracking,
            (f"UPDATE meetups SET {assignments} WHERE id = %(id)s", {"id": meetup_id, **columns}),
        )

    def set_states(
        self, tracking: Tracking, meetup_id: UUID, member_ids: list[UUID], state: str
    ) -> None:
        self.apply(
            tracking,
            *(
                (
                    """
                    INSERT INTO meetup_attendance (meetup_id, member_id, state, since)
                    VALUES (%(meetup_id)s, %(member_id)s, %(state)s, %(since)s)
                    ON CONFLICT (meetup_id, member_id)
                    DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since
                    """,
                    {
                        "meetup_id": meetup_id,
                        "member_id": member_id,
                        "state": state,
                        "since": tracking.notification_id,
                    },
                )
                for member_id in member_ids
            ),
        )

    def add_session(self, tracking: Tracking, event: Meetup.SessionAdded) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO meetup_sessions (id, meetup_id, uid, sequence, title, starts_at,
                    ends_at, room, speaker)
                VALUES (%(id)s, %(meetup_id)s, %(uid)s, 0, %(title)s, %(starts_at)s, %(ends_at)s,
                    %(room)s, %(speaker)s)
                """,
                {
                    "id": event.session_id,
                    "meetup_id": event.originator_id,
                    "uid": event.uid,
                    "title": event.title,
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                    "room": event.room,
                    "speaker": event.speaker,
                },
            ),
        )

    def shift_session(self, tracking: Tracking, event: Meetup.SessionShifted) -> None:
        self.apply(
            tracking,
            (
                "UPDATE meetup_sessions SET starts_at = %(starts_at)s, ends_at = %(ends_at)s, "
                "sequence = %(sequence)s WHERE id = %(id)s",
                {"id": event.session_id, "starts_at": event.starts_at, "ends_at": event.ends_at,
                 "sequence": event.sequence},
            ),
        )

    def edit_session(self, tracking: Tracking, event: Meetup.SessionEdited) -> None:
        self.apply(
            tracking,
            (
                """
                UPDATE meetup_sessions SET title = %(title)s, starts_at = %(starts_at)s,
                    ends_at = %(ends_at)s, room = %(room)s, speaker = %(speaker)s,
                    sequence = %(sequence)s
                WHERE id = %(id)s
                """,
                {
                    "id": event.session_id,
                    "title": event.title,
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                    "room": event.room,
                    "speaker": event.speaker,
                    "sequence": event.sequence,
                },
            ),
        )

    def remove_session(self, tracking: Tracking, session_id: UUID) -> None:
        self.apply(
            tracking,
            ("DELETE FROM meetup_choices WHERE session_id = %(id)s", {"id": session_id}),
            ("DELETE FROM meetup_sessions WHERE id = %(id)s", {"id": session_id}),
        )

    def choose(self, tracking: Tracking, event: Meetup.SessionChosen) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO meetup_choices (session_id, member_id, meetup_id)
                VALUES (%(session_id)s, %(member_id)s, %(meetup_id)s) ON CONFLICT DO NOTHING
                """,
                {
                    "session_id": event.session_id,
                    "member_id": event.member_id,
                    "meetup_id": event.originator_id,
                },
            ),
        )

    def drop(self, tracking: Tracking, event: Meetup.SessionDropped) -> None:
        self.apply(
            tracking,
            (
                "DELETE FROM meetup_choices WHERE session_id = %(s)s AND member_id = %(m)s",
                {"s": event.session_id, "m": event.member_id},
            ),
        )

    def check_in(self, tracking: Tracking, event: Meetup.MemberCheckedIn) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO meetup_check_ins (meetup_id, member_id, at)
                VALUES (%(meetup_id)s, %(member_id)s, %(at)s) ON CONFLICT DO NOTHING
                """,
                {
                    "meetup_id": event.originator_id,
                    "member_id": event.member_id,
                    "at": event.timestamp,
                },
            ),
        )

    def tribe_founded(self, tracking: Tracking, event: Tribe.TribeFounded) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO meetup_tribes (id, slug, name, visibility)
                VALUES (%(id)s, %(slug)s, %(name)s, %(visibility)s)
                """,
                {
                    "id": event.originator_id,
                    "slug": event.slug,
                    "name": event.name,
                    "visibility": event.visibility,
                },
            ),
            role_statement(event.originator_id, event.founder_id, "organiser"),
        )

    def tribe_revised(self, tracking: Tracking, event: Tribe.TribeRevised) -> None:
        self.apply(
            tracking,
            (
                "UPDATE meetup_tribes SET name = %(name)s, visibility = %(visibility)s "
                "WHERE id = %(id)s",
                {"id": event.originator_id, "name": event.name, "visibility": event.visibility},
            ),
        )

    def set_role(self, tracking: Tracking, tribe_id: UUID, member_id: UUID, role: str) -> None:
        self.apply(tracking, role_statement(tribe_id, member_id, role))

    def remove_role(self, tracking: Tracking, tribe_id: UUID, member_id: UUID) -> None:
        self.apply(
            tracking,
            (
                "DELETE FROM meetup_tribe_roles WHERE tribe_id = %(t)s AND member_id = %(m)s",
                {"t": tribe_id, "m": member_id},
            ),
        )

    # Queries pages make

    def tribe_by_slug(self, slug: str) -> dict[str, Any] | None:
        if not storable(slug):
            return None
        return self.row("SELECT * FROM meetup_tribes WHERE slug = %(s)s", {"s": slug.lower()})

    def tribe(self, tribe_id: UUID) -> dict[str, Any] | None:
        return self.row("SELECT * FROM meetup_tribes WHERE id = %(id)s", {"id": tribe_id})

    def role_of(self, tribe_id: UUID, member_id: UUID | None) -> str | None:
        if member_id is None:
            return None
        found = self.row(
            "SELECT role FROM meetup_tribe_roles WHERE tribe_id = %(t)s AND member_id = %(m)s",
            {"t": tribe_id, "m": member_id},
        )
        return found["role"] if found else None

    def tribe_members(self, tribe_id: UUID) -> list[dict[str, Any]]:
        return self.rows(
            """
            SELECT r.member_id, r.role, m.handle, m.display_name, m.email
            FROM meetup_tribe_roles r JOIN members m ON m.id = r.member_id
            WHERE r.tribe_id = %(t)s ORDER BY m.display_name
            """,
            {"t": tribe_id},
        )

    def meetup(self, meetup_id: UUID, viewer: UUID | None = None) -> dict[str, Any] | None:
        """The meetup with its tribe, its head counts, and `viewer_role`: the viewer's role in the tribe
        (None for a visitor or an outsider)."""
        return self.row(MEETUP, {"id": meetup_id, "viewer": viewer})

    def of_tribe(self, tribe_id: UUID, now: datetime, upcoming: bool, limit: int = 50) -> list[dict[str, Any]]:
        order = "ASC" if upcoming else "DESC"
        return self.rows(
            f"""
            SELECT m.*,
                   (SELECT count(*) FROM meetup_attendance a
                    WHERE a.meetup_id = m.id AND a.state = 'going') AS going_count
            FROM meetups m
            WHERE m.tribe_id = %(t)s AND (m.ends_at > %(now)s) = %(upcoming)s
            ORDER BY m.starts_at {order} LIMIT %(n)s
            """,
            {"t": tribe_id, "now": now, "upcoming": upcoming, "n": limit},
        )

    def tribe_feed(self, tribe_id: UUID, now: datetime) -> list[dict[str, Any]]:
        """Every meetup of a tribe, except cancelled ones that are over."""
        return self.rows(
            "SELECT * FROM meetups WHERE tribe_id = %(t)s AND (NOT cancelled OR ends_at > %(now)s) "
            "ORDER BY starts_at",
            {"t": tribe_id, "now": now},
        )

    def attendance(self, meetup_id: UUID) -> list[dict[str, Any]]:
        """Everyone who answered or was invited, with their waitlist position, in a useful order."""
        return self.rows(ATTENDANCE.format(which=""), {"id": meetup_id})

    def coming(self, meetup_id: UUID, viewer: UUID | None) -> list[dict[str, Any]]:
        """`attendance` as the meetup page shows it: who is going, maybe or waitlisted, and the viewer's own
        answer whatever it is; not everyone merely invited (in a big tribe, most of it)."""
        return self.rows(ATTENDANCE.format(which=COMING), {"id": meetup_id, "viewer": viewer})

    def state_of(self, meetup_id: UUID, member_id: UUID | None) -> dict[str, Any] | None:
        """A member's answer and, when waitlisted, their place in the queue."""
        if member_id is None:
            return None
        return self.row(
            """
            SELECT a.state,
                   CASE WHEN a.state = 'waitlisted' THEN
                       (SELECT count(*) FROM meetup_attendance w
                        WHERE w.meetup_id = a.meetup_id AND w.state = 'waitlisted'
                          AND w.since <= a.since)
                   END AS position
            FROM meetup_attendance a WHERE a.meetup_id = %(id)s AND a.member_id = %(m)s
            """,
            {"id": meetup_id, "m": member_id},
        )

    def sessions(self, meetup_id: UUID, member_id: UUID | None = None) -> list[dict[str, Any]]:
        return self.rows(SESSIONS, {"id": meetup_id, "viewer": member_id})

    def session_attendees(self, session_id: UUID) -> list[dict[str, Any]]:
        """Who chose the session and is coming (going, maybe or waitlisted), by name."""
        return self.rows(
            """
            SELECT m.handle, m.display_name FROM meetup_choices c
            JOIN meetup_sessions s ON s.id = c.session_id
            JOIN meetup_attendance a ON a.meetup_id = s.meetup_id AND a.member_id = c.member_id
            JOIN members m ON m.id = c.member_id
            WHERE c.session_id = %(id)s AND a.state IN ('going', 'maybe', 'waitlisted')
            ORDER BY m.display_name, m.handle
            """,
            {"id": session_id},
        )

    def session(self, session_id: UUID) -> dict[str, Any] | None:
        return self.row("SELECT * FROM meetup_sessions WHERE id = %(id)s", {"id": session_id})

    def entry_by_uid(self, uid: str) -> dict[str, Any] | None:
        """The meetup (session_id None) or session a calendar UID names: {meetup_id, session_id}."""
        return self.row(
            "SELECT id AS meetup_id, NULL::uuid AS session_id FROM meetups WHERE uid = %(uid)s "
            "UNION ALL SELECT meetup_id, id FROM meetup_sessions WHERE uid = %(uid)s LIMIT 1",
            {"uid": uid},
        )

    def member_feed(self, member_id: UUID, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The meetups a member is invited to, going to or may go to, and the sessions they chose there."""
        meetups = self.rows(
            """
            SELECT m.*, a.state AS my_state FROM meetups m JOIN meetup_attendance a ON a.meetup_id = m.id
            WHERE a.member_id = %(m)s AND a.state IN ('invited', 'going', 'maybe')
              AND (NOT m.cancelled OR m.ends_at > %(now)s)
            ORDER BY m.starts_at
            """,
            {"m": member_id, "now": now},
        )
        sessions = self.rows(
            """
            SELECT s.*, m.id AS meetup_id FROM meetup_sessions s
            JOIN meetup_choices c ON c.session_id = s.id
            JOIN meetups m ON m.id = s.meetup_id
            JOIN meetup_attendance a ON a.meetup_id = m.id AND a.member_id = c.member_id
            WHERE c.member_id = %(m)s AND a.state IN ('going', 'maybe')
              AND (NOT m.cancelled OR m.ends_at > %(now)s)
            ORDER BY s.starts_at
            """,
            {"m": member_id, "now": now},
        )
        return meetups, sessions

    def met_in_real_life(self, member_id: UUID, public_only: bool = True) -> list[dict[str, Any]]:
        """The people a member checked in beside, and the meetups where they met (only those of
        public tribes unless `public_only` is off, as it is for the member themselves)."""
        return self.rows(
            """
            SELECT o.handle, o.display_name, m.id AS meetup_id, m.title, m.starts_at, m.timezone,
                   m.venue, m.online_url
            FROM meetup_check_ins mine
            JOIN meetup_check_ins theirs
                 ON theirs.meetup_id = mine.meetup_id AND theirs.member_id <> mine.member_id
            JOIN meetups m ON m.id = mine.meetup_id
            JOIN meetup_tribes t ON t.id = m.tribe_id
            JOIN members o ON o.id = theirs.member_id
            WHERE mine.member_id = %(m)s AND (NOT %(public_only)s OR t.visibility = 'public')
            ORDER BY o.display_name, m.starts_at DESC
            """,
            {"m": member_id, "public_only": public_only},
        )

    def held_places(self, member_id: UUID) -> list[UUID]:
        """The meetups, not over yet, where the member is going, maybe going or waiting for a seat."""
        found = self.rows(
            "SELECT m.id FROM meetup_attendance a JOIN meetups m ON m.id = a.meetup_id WHERE a.member_id = %(m)s "
            "AND a.state IN (%(g)s, %(y)s, %(w)s) AND NOT m.cancelled AND m.ends_at > now() ORDER BY m.starts_at",
            {"m": member_id, "g": GOING, "y": MAYBE, "w": WAITLISTED},
        )
        return [row["id"] for row in found]

    def answers_of(self, member_id: UUID) -> dict[str, list[dict[str, Any]]]:
        """A member's answers to meetups, the sessions they chose and where they checked in, for their
        data export."""
        return {
            "rsvps": self.rows(
                "SELECT m.id AS meetup_id, m.title, m.starts_at, m.timezone, a.state FROM meetup_attendance a "
                "JOIN meetups m ON m.id = a.meetup_id WHERE a.member_id = %(m)s ORDER BY m.starts_at, m.id",
                {"m": member_id},
            ),
            "sessions": self.rows(
                "SELECT s.meetup_id, s.id AS session_id, s.title, s.starts_at FROM meetup_choices c "
                "JOIN meetup_sessions s ON s.id = c.session_id WHERE c.member_id = %(m)s ORDER BY s.starts_at, s.id",
                {"m": member_id},
            ),
            "check_ins": self.rows(
                "SELECT m.id AS meetup_id, m.title, c.at FROM meetup_check_ins c JOIN meetups m ON m.id = c.meetup_id "
                "WHERE c.member_id = %(m)s ORDER BY c.at, m.id",
                {"m": member_id},
            ),
        }

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        keys = {
            "meetups": "id",
            "meetup_attendance": "meetup_id, member_id",
            "meetup_sessions": "id",
            "meetup_choices": "session_id, member_id",
            "meetup_check_ins": "meetup_id, member_id",
            "meetup_tribes": "id",
            "meetup_tribe_roles": "tribe_id, member_id",
        }
        return {table: self.rows(f"SELECT * FROM {table} ORDER BY {key}") for table, key in keys.items()}


def role_statement(tribe_id: UUID, member_id: UUID, role: str) -> Statement:
    return (
        """
        INSERT INTO meetup_tribe_roles (tribe_id, member_id, role) VALUES (%(t)s, %(m)s, %(r)s)
        ON CONFLICT (tribe_id, member_id) DO UPDATE SET role = EXCLUDED.role
        """,
        {"t": tribe_id, "m": member_id, "r": role},
    )


class Meetups(CookoutProjection):
    name = "meetups"
    topics = (
        get_topic(Meetup.Scheduled),
        get_topic(Meetup.DetailsEdited),
        get_topic(Meetup.Rescheduled),
        get_topic(Meetup.Relocated),
        get_topic(Meetup.Cancelled),
        get_topic(Meetup.MembersInvited),
        get_topic(Meetup.MemberWentGoing),
        get_topic(Meetup.WaitlistedMemberPromoted),
        get_topic(Meetup.MemberWaitlisted),
        get_topic(Meetup.MemberAnsweredMaybe),
        get_topic(Meetup.MemberDeclined),
        get_topic(Meetup.MemberWithdrew),
        get_topic(Meetup.SessionAdded),
        get_topic(Meetup.SessionEdited),
        get_topic(Meetup.SessionShifted),
        get_topic(Meetup.SessionRemoved),
        get_topic(Meetup.SessionChosen),
        get_topic(Meetup.SessionDropped),
        get_topic(Meetup.MemberCheckedIn),
        get_topic(Tribe.TribeFounded),
        get_topic(Tribe.TribeRevised),
        get_topic(Tribe.MemberJoined),
        get_topic(Tribe.RoleGranted),
        get_topic(Tribe.RoleRevoked),
        get_topic(Tribe.MemberLeft),
    )
    view_class = MeetupsView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def meetup_scheduled(self, event: Meetup.Scheduled, tracking: Tracking) -> None:
        self.view.scheduled(tracking, event)

    @process_event.register
    def meetup_details_edited(self, event: Meetup.DetailsEdited, tracking: Tracking) -> None:
        self.view.change_meetup(
            tracking,
            event.originator_id,
            title=event.title,
            description=event.description,
            capacity=event.capacity,
            rsvp_deadline=event.rsvp_deadline,
        )

    @process_event.register
    def meetup_rescheduled(self, event: Meetup.Rescheduled, tracking: Tracking) -> None:
        self.view.change_meetup(
            tracking,
            event.originator_id,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            sequence=event.sequence,
        )

    @process_event.register
    def meetup_relocated(self, event: Meetup.Relocated, tracking: Tracking) -> None:
        self.view.change_meetup(
            tracking,
            event.originator_id,
            venue=event.venue,
            address=event.address,
            online_url=event.online_url,
            sequence=event.sequence,
        )

    @process_event.register
    def meetup_cancelled(self, event: Meetup.Cancelled, tracking: Tracking) -> None:
        self.view.change_meetup(
            tracking,
            event.originator_id,
            cancelled=True,
            cancel_message=event.message,
            sequence=event.sequence,
        )

    @process_event.register
    def meetup_members_invited(self, event: Meetup.MembersInvited, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, event.member_ids, INVITED)

    @process_event.register
    def meetup_member_went_going(self, event: Meetup.MemberWentGoing, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], GOING)

    @process_event.register
    def meetup_waitlisted_member_promoted(self, event: Meetup.WaitlistedMemberPromoted, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], GOING)

    @process_event.register
    def meetup_member_waitlisted(self, event: Meetup.MemberWaitlisted, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], WAITLISTED)

    @process_event.register
    def meetup_member_answered_maybe(self, event: Meetup.MemberAnsweredMaybe, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], MAYBE)

    @process_event.register
    def meetup_member_declined(self, event: Meetup.MemberDeclined, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], NOT_GOING)

    @process_event.register
    def meetup_member_withdrew(self, event: Meetup.MemberWithdrew, tracking: Tracking) -> None:
        self.view.set_states(tracking, event.originator_id, [event.member_id], event.answer)

    @process_event.register
    def meetup_session_added(self, event: Meetup.SessionAdded, tracking: Tracking) -> None:
        self.view.add_session(tracking, event)

    @process_event.register
    def meetup_session_edited(self, event: Meetup.SessionEdited, tracking: Tracking) -> None:
        self.view.edit_session(tracking, event)

    @process_event.register
    def meetup_session_shifted(self, event: Meetup.SessionShifted, tracking: Tracking) -> None:
        self.view.shift_session(tracking, event)

    @process_event.register
    def meetup_session_removed(self, event: Meetup.SessionRemoved, tracking: Tracking) -> None:
        self.view.remove_session(tracking, event.session_id)

    @process_event.register
    def meetup_session_chosen(self, event: Meetup.SessionChosen, tracking: Tracking) -> None:
        self.view.choose(tracking, event)

    @process_event.register
    def meetup_session_dropped(self, event: Meetup.SessionDropped, tracking: Tracking) -> None:
        self.view.drop(tracking, event)

    @process_event.register
    def meetup_member_checked_in(self, event: Meetup.MemberCheckedIn, tracking: Tracking) -> None:
        self.view.check_in(tracking, event)

    @process_event.register
    def tribe_founded(self, event: Tribe.TribeFounded, tracking: Tracking) -> None:
        self.view.tribe_founded(tracking, event)

    @process_event.register
    def tribe_revised(self, event: Tribe.TribeRevised, tracking: Tracking) -> None:
        self.view.tribe_revised(tracking, event)

    @process_event.register
    def tribe_member_joined(self, event: Tribe.MemberJoined, tracking: Tracking) -> None:
        self.view.set_role(tracking, event.originator_id, event.member_id, "member")

    @process_event.register
    def tribe_role_granted(self, event: Tribe.RoleGranted, tracking: Tracking) -> None:
        self.view.set_role(tracking, event.originator_id, event.member_id, event.role)

    @process_event.register
    def tribe_role_revoked(self, event: Tribe.RoleRevoked, tracking: Tracking) -> None:
        self.view.set_role(tracking, event.originator_id, event.member_id, "member")

    @process_event.register
    def tribe_member_left(self, event: Tribe.MemberLeft, tracking: Tracking) -> None:
        self.view.remove_role(tracking, event.originator_id, event.member_id)
