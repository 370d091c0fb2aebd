"""Calendar invitations by email: which letters each meetup event calls for, and to whom.

The dispatcher keeps its own copy of what it needs (meetups, sessions, who holds which calendar
entry, everyone's address) in tables written in the same transaction as its letters and its
position, so a replay of the log finds the same state, makes the same keys and adds no letter.
Letters carry everything their email says; the worker adds only the send time and the links.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg.types.json import Jsonb
from eventsourcing.utils import get_topic

from cookout.domain.meetups import GOING, INVITED, MAYBE, NOT_GOING, PARTSTAT, WAITLISTED, Meetup, calendar_change
from cookout.domain.members import Member
from cookout.domain.personal import FORMER_MEMBER
from cookout.projections.base import Statement
from cookout.projections.outbox import Dispatcher, Letter, OutboxView, letter_statement

INVITATION = "meetup_invitation"
PROMOTION = "meetup_promotion"
UPDATE = "meetup_update"
CANCELLATION = "meetup_cancellation"
REMOVAL = "meetup_removal"
REMINDER = "meetup_reminder"

# A session's entry sits in the calendars of those who chose it and are going or may go.
SESSION_HOLDERS = (GOING, MAYBE)
REMINDER_AHEAD = timedelta(hours=24)


class InvitationsView(OutboxView):
    ddl = (
        *OutboxView.ddl,
        """
        CREATE TABLE IF NOT EXISTS invitation_meetups (
            id uuid PRIMARY KEY,
            uid text NOT NULL,
            sequence integer NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            starts_at timestamptz NOT NULL,
            ends_at timestamptz NOT NULL,
            timezone text NOT NULL,
            venue text NOT NULL,
            address text NOT NULL,
            online_url text NOT NULL,
            cancelled boolean NOT NULL DEFAULT false
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS invitation_sessions (
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
        """
        CREATE TABLE IF NOT EXISTS invitation_states (
            meetup_id uuid NOT NULL,
            member_id uuid NOT NULL,
            state text NOT NULL,
            PRIMARY KEY (meetup_id, member_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS invitation_choices (
            session_id uuid NOT NULL,
            member_id uuid NOT NULL,
            PRIMARY KEY (session_id, member_id)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS invitation_people (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            display_name text NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS outbox_by_meetup ON outbox ((payload->>'meetup_id'))",
        # Until a member confirms their address, no invitation goes to it.
        "ALTER TABLE invitation_people ADD COLUMN IF NOT EXISTS confirmed boolean NOT NULL DEFAULT true",
        # The meetup version that set the state: a reminder's "can't make it" link names it.
        "ALTER TABLE invitation_states ADD COLUMN IF NOT EXISTS since integer NOT NULL DEFAULT 0",
        # The meetup as attendees last heard of it, kept from its first change until `Revised` says
        # the save is over, so the one update tells what it was and what it is now.
        "ALTER TABLE invitation_meetups ADD COLUMN IF NOT EXISTS announced jsonb",
        # Who scheduled the meetup: invitations name them as the ORGANIZER's CN.
        "ALTER TABLE invitation_meetups ADD COLUMN IF NOT EXISTS organiser_id uuid",
        # A member's private feed asks for the SEQUENCE each of their entries was last sent at.
        "CREATE INDEX IF NOT EXISTS outbox_by_member ON outbox ((payload->>'member_id'))",
        # A session as its holders last heard of it, while it moves with its meetup in one save.
        "ALTER TABLE invitation_sessions ADD COLUMN IF NOT EXISTS announced jsonb",
    )
    # The outbox rows stay (they record what was sent); the dispatcher's own state is rebuilt.
    tables: ClassVar[tuple[str, ...]] = (
        "invitation_meetups",
        "invitation_sessions",
        "invitation_states",
        "invitation_choices",
        "invitation_people",
    )

    # Reading the dispatcher's state

    def meetup(self, meetup_id: UUID) -> dict[str, Any]:
        found = self.row("SELECT * FROM invitation_meetups WHERE id = %(id)s", {"id": meetup_id})
        if found is None:
            raise LookupError(f"the invitations dispatcher has no meetup {meetup_id}")
        return found

    def session(self, session_id: UUID) -> dict[str, Any]:
        found = self.row("SELECT * FROM invitation_sessions WHERE id = %(id)s", {"id": session_id})
        if found is None:
            raise LookupError(f"the invitations dispatcher has no session {session_id}")
        return found

    def sessions(self, meetup_id: UUID) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM invitation_sessions WHERE meetup_id = %(id)s ORDER BY starts_at, id",
            {"id": meetup_id},
        )

    def organiser_name(self, meetup_id: UUID) -> str:
        """The display name of the member who scheduled the meetup ("" if not known)."""
        found = self.row(
            "SELECT p.display_name FROM invitation_meetups m JOIN invitation_people p ON p.id = m.organiser_id "
            "WHERE m.id = %(id)s",
            {"id": meetup_id},
        )
        return found["display_name"] if found else ""

    def sequences_sent(self, member_id: UUID) -> dict[str, int]:
        """Entry UID → the highest SEQUENCE any letter to this member carried about it."""
        found = self.rows(
            "SELECT payload->'entry'->>'uid' AS uid, max((payload->'entry'->>'sequence')::integer) AS sequence "
            "FROM outbox WHERE payload->>'member_id' = %(m)s AND payload ? 'entry' GROUP BY 1",
            {"m": str(member_id)},
        )
        return {row["uid"]: row["sequence"] for row in found}

    def people(self, member_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
        found = self.rows(
            "SELECT * FROM invitation_people WHERE id = ANY(%(ids)s)", {"ids": list(member_ids)}
        )
        return {row["id"]: row for row in found}

    def holders(self, meetup_id: UUID) -> list[dict[str, Any]]:
        """Everyone whose calendar holds the meetup, with their state, in a stable order."""
        return self.rows(
            "SELECT member_id, state FROM invitation_states "
            "WHERE meetup_id = %(id)s AND state IN (%(i)s, %(g)s, %(m)s) ORDER BY member_id",
            {"id": meetup_id, "i": INVITED, "g": GOING, "m": MAYBE},
        )

    def state(self, meetup_id: UUID, member_id: UUID) -> str | None:
        found = self.row(
            "SELECT state FROM invitation_states WHERE meetup_id = %(id)s AND member_id = %(m)s",
            {"id": meetup_id, "m": member_id},
        )
        return found["state"] if found else None

    def session_holders(self, session_id: UUID) -> list[UUID]:
        found = self.rows(
            """
            SELECT c.member_id FROM invitation_choices c
            JOIN invitation_sessions s ON s.id = c.session_id
            JOIN invitation_states st ON st.meetup_id = s.meetup_id AND st.member_id = c.member_id
            WHERE c.session_id = %(id)s AND st.state IN (%(g)s, %(m)s) ORDER BY c.member_id
            """,
            {"id": session_id, "g": GOING, "m": MAYBE},
        )
        return [row["member_id"] for row in found]

    def chosen_sessions(self, meetup_id: UUID, member_id: UUID) -> list[dict[str, Any]]:
        return self.rows(
            """
            SELECT s.* FROM invitation_sessions s
            JOIN invitation_choices c ON c.session_id = s.id AND c.member_id = %(m)s
            WHERE s.meetup_id = %(id)s ORDER BY s.starts_at, s.id
            """,
            {"id": meetup_id, "m": member_id},
        )

    # Reminders, and what organisers see

    def write_reminders(self, now: datetime) -> list[str]:
        """One reminder per going member of each meetup starting within a day; returns new keys.

        The meetups are locked for share while the letters are written, so a cancellation being
        recorded at the same moment either comes first (no reminder) or withdraws them.
        """
        written: list[str] = []
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "SELECT * FROM invitation_meetups WHERE NOT cancelled "
                "AND starts_at > %(now)s AND starts_at <= %(until)s ORDER BY starts_at FOR SHARE",
                {"now": now, "until": now + REMINDER_AHEAD},
            )
            for meetup in cursor.fetchall():
                cursor.execute(
                    "SELECT s.member_id, s.since, p.email, p.display_name FROM invitation_states s "
                    "JOIN invitation_people p ON p.id = s.member_id "
                    "WHERE s.meetup_id = %(id)s AND s.state = %(g)s AND p.confirmed ORDER BY s.member_id",
                    {"id": meetup["id"], "g": GOING},
                )
                for person in cursor.fetchall():
                    letter = Letter(
                        key=f"{REMINDER}:{meetup['id']}:{person['member_id']}",
                        kind=REMINDER,
                        recipient=person["email"],
                        payload=payload(meetup_entry(meetup), meetup["id"], person, "ACCEPTED",
                                        since=person["since"]),
                    )
                    sql, params = letter_statement(letter)
                    cursor.execute(sql + " RETURNING key", params)  # type: ignore[arg-type]
                    if cursor.fetchone():
                        written.append(letter.key)
        return written

    def last_sequence_sent(self, meetup_id: UUID, member_id: UUID, uid: str) -> int | None:
        """The highest SEQUENCE of the entry `uid` any letter to this member carried; None if none did."""
        found = self.row(
            "SELECT max((payload->'entry'->>'sequence')::integer) AS sequence FROM outbox "
            "WHERE payload->>'meetup_id' = %(id)s AND payload->>'member_id' = %(m)s "
            "AND payload->'entry'->>'uid' = %(uid)s",
            {"id": str(meetup_id), "m": str(member_id), "uid": uid},
        )
        return found["sequence"] if found else None

    def first_message_id(self, meetup_id: UUID, member_id: UUID, uid: str) -> str | None:
        """The Message-ID of the first letter this member got about the entry `uid`: later ones thread to it."""
        found = self.row(
            "SELECT message_id FROM outbox WHERE payload->>'meetup_id' = %(id)s "
            "AND payload->>'member_id' = %(m)s AND payload->'entry'->>'uid' = %(uid)s "
            "ORDER BY created_at, key LIMIT 1",
            {"id": str(meetup_id), "m": str(member_id), "uid": uid},
        )
        return found["message_id"] if found else None

    def letters_of(self, meetup_id: UUID) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT key, kind, recipient, payload->>'member_id' AS member_id, status, attempts, last_error, "
            "created_at, sent_at FROM outbox WHERE payload->>'meetup_id' = %(id)s ORDER BY created_at, key",
            {"id": str(meetup_id)},
        )

    def letter_counts(self, meetup_id: UUID) -> dict[str, int]:
        found = self.rows(
            "SELECT status, count(*) AS n FROM outbox WHERE payload->>'meetup_id' = %(id)s "
            "GROUP BY status",
            {"id": str(meetup_id)},
        )
        return {row["status"]: int(row["n"]) for row in found}


def meetup_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": row["uid"],
        "sequence": row["sequence"],
        "title": row["title"],
        "description": row["description"],
        "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(),
        "timezone": row["timezone"],
        "venue": row["venue"],
        "address": row["address"],
        "online_url": row["online_url"],
        "cancelled": row["cancelled"],
        "path": f"/m/{row['id']}",
    }


def before_row(meetup: dict[str, Any], announced: dict[str, Any]) -> dict[str, Any]:
    """The meetup row as it was when `announced` (its meetup_entry) was taken."""
    return {
        **meetup,
        **{name: announced[name] for name in ("title", "description", "timezone", "venue", "address",
                                               "online_url", "sequence")},
        "starts_at": datetime.fromisoformat(announced["starts_at"]),
        "ends_at": datetime.fromisoformat(announced["ends_at"]),
    }


def session_times(session: dict[str, Any]) -> dict[str, Any]:
    return {"starts_at": session["starts_at"].isoformat(), "ends_at": session["ends_at"].isoformat(),
            "sequence": session["sequence"]}


def before_session(session: dict[str, Any]) -> dict[str, Any]:
    """The session row as its holders last heard of it (before it moved with its meetup)."""
    announced = session.get("announced")
    if not announced:
        return session
    return {**session, "sequence": announced["sequence"],
            "starts_at": datetime.fromisoformat(announced["starts_at"]),
            "ends_at": datetime.fromisoformat(announced["ends_at"])}


def session_entry(meetup: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    return {
        **meetup_entry(meetup),
        "uid": session["uid"],
        "sequence": session["sequence"],
        "session": {
            "title": session["title"],
            "room": session["room"],
            "speaker": session["speaker"],
        },
        "starts_at": session["starts_at"].isoformat(),
        "ends_at": session["ends_at"].isoformat(),
        "path": f"/m/{meetup['id']}/sessions/{session['id']}",
    }


def payload(
    entry: dict[str, Any],
    meetup_id: UUID,
    person: dict[str, Any],
    partstat: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "meetup_id": str(meetup_id),
        "member_id": str(person.get("member_id") or person["id"]),
        "entry": entry,
        "attendee": {"email": person["email"], "name": person["display_name"], "partstat": partstat},
        **extra,
    }


def member_of(actor: str) -> UUID | None:
    """The member an event's actor names; None for the system."""
    try:
        return UUID(actor)
    except (TypeError, ValueError):
        return None


def state_statement(meetup_id: UUID, member_id: UUID, state: str, since: int) -> Statement:
    return (
        """
        INSERT INTO invitation_states (meetup_id, member_id, state, since)
        VALUES (%(id)s, %(m)s, %(s)s, %(since)s)
        ON CONFLICT (meetup_id, member_id) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since
        """,
        {"id": meetup_id, "m": member_id, "s": state, "since": since},
    )


def withdraw_reminders(meetup_id: UUID, member_id: UUID | None = None) -> Statement:
    """Pending reminders for a meetup (or one member of it) that must not go out any more."""
    return (
        "UPDATE outbox SET status = 'withdrawn' WHERE kind = %(kind)s AND status = 'pending' "
        "AND payload->>'meetup_id' = %(id)s "
        "AND (%(m)s::text IS NULL OR payload->>'member_id' = %(m)s)",
        {"kind": REMINDER, "id": str(meetup_id), "m": str(member_id) if member_id else None},
    )


class Invitations(Dispatcher):
    """Invitations, updates and cancellations, one letter per calendar entry and attendee."""

    name = "invitations"
    topics = (
        get_topic(Member.Joined),
        get_topic(Member.Renamed),
        get_topic(Member.EmailConfirmationAsked),
        get_topic(Member.EmailConfirmed),
        get_topic(Member.EmailChanged),
        get_topic(Member.LeftCookout),
        get_topic(Meetup.Scheduled),
        get_topic(Meetup.DetailsEdited),
        get_topic(Meetup.Rescheduled),
        get_topic(Meetup.Relocated),
        get_topic(Meetup.Revised),
        get_topic(Meetup.Cancelled),
        get_topic(Meetup.MembersInvited),
        get_topic(Meetup.MemberWentGoing),
        get_topic(Meetup.MemberWaitlisted),
        get_topic(Meetup.MemberAnsweredMaybe),
        get_topic(Meetup.MemberDeclined),
        get_topic(Meetup.MemberWithdrew),
        get_topic(Meetup.WaitlistedMemberPromoted),
        get_topic(Meetup.SessionAdded),
        get_topic(Meetup.SessionEdited),
        get_topic(Meetup.SessionShifted),
        get_topic(Meetup.SessionRemoved),
        get_topic(Meetup.SessionChosen),
        get_topic(Meetup.SessionDropped),
    )
    view_class = InvitationsView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    # People

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.record(
            tracking,
            [
                (
                    "INSERT INTO invitation_people (id, email, display_name) "
                    "VALUES (%(id)s, %(email)s, %(name)s) ON CONFLICT (id) DO NOTHING",
                    {"id": event.originator_id, "email": event.email, "name": event.display_name},
                )
            ],
        )

    @process_event.register
    def member_renamed(self, event: Member.Renamed, tracking: Tracking) -> None:
        self.record(
            tracking,
            [
                (
                    "UPDATE invitation_people SET display_name = %(name)s WHERE id = %(id)s",
                    {"id": event.originator_id, "name": event.display_name},
                )
            ],
        )

    @process_event.register
    def member_email_confirmation_asked(self, event: Member.EmailConfirmationAsked, tracking: Tracking) -> None:
        self.record(tracking, [("UPDATE invitation_people SET confirmed = false WHERE id = %(id)s",
                                {"id": event.originator_id})])

    @process_event.register
    def member_email_confirmed(self, event: Member.EmailConfirmed, tracking: Tracking) -> None:
        self.record(tracking, [("UPDATE invitation_people SET confirmed = true WHERE id = %(id)s",
                                {"id": event.originator_id})])

    @process_event.register
    def member_email_changed(self, event: Member.EmailChanged, tracking: Tracking) -> None:
        self.record(tracking, [("UPDATE invitation_people SET email = %(email)s, confirmed = true WHERE id = %(id)s",
                                {"id": event.originator_id, "email": event.email})])

    @process_event.register
    def member_left_cookout(self, event: Member.LeftCookout, tracking: Tracking) -> None:
        """No invitation or reminder goes to a former member, and their address and name are not kept."""
        self.record(tracking, [("UPDATE invitation_people SET email = '', display_name = %(name)s, confirmed = false "
                                "WHERE id = %(id)s", {"id": event.originator_id, "name": FORMER_MEMBER})])

    # The meetup itself

    @process_event.register
    def meetup_scheduled(self, event: Meetup.Scheduled, tracking: Tracking) -> None:
        self.record(
            tracking,
            [
                (
                    """
                    INSERT INTO invitation_meetups (id, uid, sequence, title, description,
                        starts_at, ends_at, timezone, venue, address, online_url, organiser_id)
                    VALUES (%(id)s, %(uid)s, 0, %(title)s, %(description)s, %(starts_at)s,
                        %(ends_at)s, %(timezone)s, %(venue)s, %(address)s, %(online_url)s, %(organiser)s)
                    ON CONFLICT (id) DO NOTHING
                    """,
                    {
                        "id": event.originator_id,
                        "uid": event.uid,
                        "title": event.title,
                        "description": event.description,
                        "starts_at": event.starts_at,
                        "ends_at": event.ends_at,
                        "timezone": event.timezone,
                        "venue": event.venue,
                        "address": event.address,
                        "online_url": event.online_url,
                        "organiser": member_of(event.actor),
                    },
                )
            ],
        )

    @process_event.register
    def meetup_details_edited(self, event: Meetup.DetailsEdited, tracking: Tracking) -> None:
        self.changed(event, tracking, title=event.title, description=event.description)

    @process_event.register
    def meetup_rescheduled(self, event: Meetup.Rescheduled, tracking: Tracking) -> None:
        self.changed(
            event,
            tracking,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            sequence=event.sequence,
        )

    @process_event.register
    def meetup_relocated(self, event: Meetup.Relocated, tracking: Tracking) -> None:
        self.changed(
            event,
            tracking,
            venue=event.venue,
            address=event.address,
            online_url=event.online_url,
            sequence=event.sequence,
        )

    def changed(self, event: Meetup.Event, tracking: Tracking, **columns: Any) -> None:
        """One field group of a save: noted, and the state before the save kept; no letter yet."""
        before = self.view.meetup(event.originator_id)
        assignments = ", ".join(f"{name} = %({name})s" for name in columns)
        self.record(
            tracking,
            [
                (
                    f"UPDATE invitation_meetups SET {assignments}, "
                    "announced = COALESCE(announced, %(before)s) WHERE id = %(id)s",
                    {"id": event.originator_id, "before": Jsonb(meetup_entry(before)), **columns},
                )
            ],
        )

    @process_event.register
    def meetup_revised(self, event: Meetup.Revised, tracking: Tracking) -> None:
        """The save is over: everyone holding the entry gets one update with the whole new state."""
        meetup = self.view.meetup(event.originator_id)
        after = meetup_entry(meetup)
        before = meetup["announced"] or after
        letters: list[Letter] = []
        if before != after:
            holders = self.view.holders(event.originator_id)
            people = self.view.people([h["member_id"] for h in holders])
            letters = [
                self.letter(UPDATE, event, after, people[h["member_id"]], PARTSTAT[h["state"]], before=before)
                for h in holders
                if h["member_id"] in people
            ]
            # A session's entry shows the meetup's title and place: its holders get it anew.
            for session in self.view.sessions(event.originator_id):
                was = session_entry(before_row(meetup, before), before_session(session))
                now = session_entry(meetup, session)
                if {**was, "description": ""} == {**now, "description": ""}:
                    continue  # the meetup's description and time are not part of a session's entry
                holding = self.view.people(self.view.session_holders(session["id"]))
                letters += [
                    self.letter(UPDATE, event, now, person, "ACCEPTED", before=was)
                    for person in sorted(holding.values(), key=lambda p: p["id"])
                ]
        self.record(
            tracking,
            [("UPDATE invitation_meetups SET announced = NULL WHERE id = %(id)s", {"id": event.originator_id}),
             ("UPDATE invitation_sessions SET announced = NULL WHERE meetup_id = %(id)s",
              {"id": event.originator_id})],
            letters,
        )

    @process_event.register
    def meetup_cancelled(self, event: Meetup.Cancelled, tracking: Tracking) -> None:
        """Everyone holding the meetup or one of its sessions gets a cancellation of each."""
        meetup = {**self.view.meetup(event.originator_id), "sequence": event.sequence, "cancelled": True}
        holders = self.view.holders(event.originator_id)
        sessions = self.view.sessions(event.originator_id)
        session_holders = {s["id"]: self.view.session_holders(s["id"]) for s in sessions}
        everyone = [h["member_id"] for h in holders] + [m for ms in session_holders.values() for m in ms]
        people = self.view.people(everyone)
        letters = [
            self.letter(
                CANCELLATION, event, meetup_entry(meetup), people[h["member_id"]],
                PARTSTAT[h["state"]], message=event.message,
            )
            for h in holders
            if h["member_id"] in people
        ]
        for session in sessions:
            cancelled = {**session, "sequence": session["sequence"] + 1}
            letters += [
                self.letter(
                    CANCELLATION, event, session_entry(meetup, cancelled), people[member_id],
                    "ACCEPTED", message=event.message,
                )
                for member_id in session_holders[session["id"]]
                if member_id in people
            ]
        self.record(
            tracking,
            [
                (
                    "UPDATE invitation_meetups SET cancelled = true, sequence = %(s)s "
                    "WHERE id = %(id)s",
                    {"id": event.originator_id, "s": event.sequence},
                ),
                withdraw_reminders(event.originator_id),
            ],
            letters,
        )

    # Who comes

    @process_event.register
    def meetup_members_invited(self, event: Meetup.MembersInvited, tracking: Tracking) -> None:
        meetup = self.view.meetup(event.originator_id)
        people = self.view.people(event.member_ids)
        letters = [
            self.letter(INVITATION, event, meetup_entry(meetup), people[m], PARTSTAT[INVITED])
            for m in event.member_ids
            if m in people
        ]
        self.record(
            tracking,
            [state_statement(event.originator_id, m, INVITED, event.originator_version) for m in event.member_ids],
            letters,
        )

    @process_event.register
    def meetup_member_went_going(self, event: Meetup.MemberWentGoing, tracking: Tracking) -> None:
        self.moved(event, tracking, event.previous, GOING)

    @process_event.register
    def meetup_member_waitlisted(self, event: Meetup.MemberWaitlisted, tracking: Tracking) -> None:
        self.moved(event, tracking, event.previous, WAITLISTED, waitlist_position=event.position)

    @process_event.register
    def meetup_member_answered_maybe(self, event: Meetup.MemberAnsweredMaybe, tracking: Tracking) -> None:
        self.moved(event, tracking, event.previous, MAYBE)

    @process_event.register
    def meetup_member_declined(self, event: Meetup.MemberDeclined, tracking: Tracking) -> None:
        self.moved(event, tracking, event.previous, NOT_GOING)

    @process_event.register
    def meetup_member_withdrew(self, event: Meetup.MemberWithdrew, tracking: Tracking) -> None:
        self.moved(event, tracking, event.previous, event.answer)

    @process_event.register
    def meetup_waitlisted_member_promoted(self, event: Meetup.WaitlistedMemberPromoted, tracking: Tracking) -> None:
        self.moved(event, tracking, WAITLISTED, GOING, kind=PROMOTION)

    def moved(
        self,
        event: Any,
        tracking: Tracking,
        previous: str | None,
        current: str,
        kind: str = INVITATION,
        waitlist_position: int | None = None,
    ) -> None:
        """A member's answer changed: their copy of the meetup (and their sessions) follow. Someone
        moved to the waitlist is told their place rather than that they are not going."""
        meetup_id, member_id = event.originator_id, event.member_id
        meetup = self.view.meetup(meetup_id)
        person = self.view.people([member_id]).get(member_id)
        letters: list[Letter] = []
        statements = [state_statement(meetup_id, member_id, current, event.originator_version)]
        change = calendar_change(previous, current)
        if person is not None and change == "request":
            letters.append(self.letter(kind, event, meetup_entry(meetup), person, PARTSTAT[current]))
        elif person is not None and change == "cancel":
            why = {"waitlist_position": waitlist_position} if waitlist_position else {"reason": "declined"}
            letters.append(self.letter(REMOVAL, event, meetup_entry(meetup), person, "DECLINED", **why))
        if current != GOING:
            statements.append(withdraw_reminders(meetup_id, member_id))
        held_before, held_now = previous in SESSION_HOLDERS, current in SESSION_HOLDERS
        if person is not None and held_before != held_now:
            for session in self.view.chosen_sessions(meetup_id, member_id):
                entry = session_entry(meetup, session)
                letters.append(
                    self.letter(INVITATION, event, entry, person, "ACCEPTED")
                    if held_now
                    else self.letter(REMOVAL, event, entry, person, "DECLINED", reason="not coming")
                )
        self.record(tracking, statements, letters)

    # The agenda

    @process_event.register
    def meetup_session_added(self, event: Meetup.SessionAdded, tracking: Tracking) -> None:
        self.record(
            tracking,
            [
                (
                    """
                    INSERT INTO invitation_sessions (id, meetup_id, uid, sequence, title,
                        starts_at, ends_at, room, speaker)
                    VALUES (%(id)s, %(meetup_id)s, %(uid)s, 0, %(title)s, %(starts_at)s,
                        %(ends_at)s, %(room)s, %(speaker)s)
                    ON CONFLICT (id) DO NOTHING
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
                )
            ],
        )

    @process_event.register
    def meetup_session_edited(self, event: Meetup.SessionEdited, tracking: Tracking) -> None:
        meetup = self.view.meetup(event.originator_id)
        before = self.view.session(event.session_id)
        after = {
            **before,
            "title": event.title,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "room": event.room,
            "speaker": event.speaker,
            "sequence": event.sequence,
        }
        letters: list[Letter] = []
        shown = ("title", "starts_at", "ends_at", "room", "speaker", "sequence")
        # A new title, room or speaker is on the calendar too: an update at the same SEQUENCE (RFC 5546
        # lets a minor change keep it; the newer DTSTAMP tells clients it replaces what they hold).
        if any(after[name] != before[name] for name in shown):
            people = self.view.people(self.view.session_holders(event.session_id))
            letters = [
                self.letter(
                    UPDATE, event, session_entry(meetup, after), person, "ACCEPTED",
                    before=session_entry(meetup, before),
                )
                for person in sorted(people.values(), key=lambda p: p["id"])
            ]
        self.record(
            tracking,
            [
                (
                    """
                    UPDATE invitation_sessions SET title = %(title)s, starts_at = %(starts_at)s,
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
                )
            ],
            letters,
        )

    @process_event.register
    def meetup_session_shifted(self, event: Meetup.SessionShifted, tracking: Tracking) -> None:
        """The session moved with its meetup: noted, with what its holders last heard; the meetup's
        `Revised`, later in the same save, sends the one update."""
        before = self.view.session(event.session_id)
        self.record(
            tracking,
            [
                (
                    "UPDATE invitation_sessions SET starts_at = %(starts_at)s, ends_at = %(ends_at)s, "
                    "sequence = %(sequence)s, announced = COALESCE(announced, %(before)s) WHERE id = %(id)s",
                    {"id": event.session_id, "starts_at": event.starts_at, "ends_at": event.ends_at,
                     "sequence": event.sequence, "before": Jsonb(session_times(before))},
                )
            ],
        )

    @process_event.register
    def meetup_session_removed(self, event: Meetup.SessionRemoved, tracking: Tracking) -> None:
        meetup = self.view.meetup(event.originator_id)
        session = {**self.view.session(event.session_id), "sequence": event.sequence}
        people = self.view.people(self.view.session_holders(event.session_id))
        entry = {**session_entry(meetup, session), "cancelled": True}
        letters = [
            self.letter(CANCELLATION, event, entry, person, "ACCEPTED")
            for person in sorted(people.values(), key=lambda p: p["id"])
        ]
        self.record(
            tracking,
            [
                ("DELETE FROM invitation_choices WHERE session_id = %(id)s", {"id": event.session_id}),
                ("DELETE FROM invitation_sessions WHERE id = %(id)s", {"id": event.session_id}),
            ],
            letters,
        )

    @process_event.register
    def meetup_session_chosen(self, event: Meetup.SessionChosen, tracking: Tracking) -> None:
        self.session_choice(event, tracking, chosen=True)

    @process_event.register
    def meetup_session_dropped(self, event: Meetup.SessionDropped, tracking: Tracking) -> None:
        self.session_choice(event, tracking, chosen=False)

    def session_choice(self, event: Any, tracking: Tracking, chosen: bool) -> None:
        meetup = self.view.meetup(event.originator_id)
        session = self.view.session(event.session_id)
        person = self.view.people([event.member_id]).get(event.member_id)
        letters: list[Letter] = []
        if person is not None and self.view.state(meetup["id"], event.member_id) in SESSION_HOLDERS:
            entry = session_entry(meetup, session)
            letters.append(
                self.letter(INVITATION, event, entry, person, "ACCEPTED")
                if chosen
                else self.letter(REMOVAL, event, entry, person, "DECLINED", reason="dropped")
            )
        statement: Statement = (
            (
                "INSERT INTO invitation_choices (session_id, member_id) VALUES (%(s)s, %(m)s) "
                "ON CONFLICT DO NOTHING",
                {"s": event.session_id, "m": event.member_id},
            )
            if chosen
            else (
                "DELETE FROM invitation_choices WHERE session_id = %(s)s AND member_id = %(m)s",
                {"s": event.session_id, "m": event.member_id},
            )
        )
        self.record(tracking, [statement], letters)

    # Plumbing

    def letter(
        self,
        kind: str,
        event: Any,
        entry: dict[str, Any],
        person: dict[str, Any],
        partstat: str,
        **extra: Any,
    ) -> Letter:
        """Keyed by (event, attendee, entry and its sequence, kind): a replay makes the same key.

        `since`, the version of the event the letter is for, binds its "can't make it" link to it."""
        key = (
            f"{kind}:{event.originator_id}@{event.originator_version}:"
            f"{entry['uid']}:{person['id']}:{entry['sequence']}"
        )
        entry = {**entry, "sequence": self.sequence_for(event.originator_id, person["id"], entry, kind)}
        first = self.view.first_message_id(event.originator_id, person["id"], entry["uid"])
        if first is not None and first != Letter(key, kind, person["email"]).message_id:
            extra["thread"] = first
        if organiser := self.view.organiser_name(event.originator_id):
            extra["organiser_name"] = organiser
        return Letter(
            key=key,
            kind=kind,
            recipient=person["email"],
            payload=payload(entry, event.originator_id, person, partstat, since=event.originator_version, **extra),
        )

    def sequence_for(self, meetup_id: UUID, member_id: UUID, entry: dict[str, Any], kind: str) -> int:
        """The SEQUENCE this member's copy gets. A strict client (RFC 5546 §2.1.4) applies a REQUEST only
        at or above the SEQUENCE it holds and a CANCEL only above it, so a letter never goes below what
        this member was last sent, and taking them out (or cancelling) goes one above it. The key keeps
        the entry's own sequence, so a replay makes the same key whatever was sent since."""
        last = self.view.last_sequence_sent(meetup_id, member_id, entry["uid"])
        if last is None:
            return entry["sequence"]
        takes_out = kind in (REMOVAL, CANCELLATION)
        return max(entry["sequence"], last + 1 if takes_out else last)

    def record(
        self, tracking: Tracking, statements: list[Statement], letters: list[Letter] | None = None
    ) -> None:
        self.post(tracking, self.to_confirmed(letters or []), statements)

    def to_confirmed(self, letters: list[Letter]) -> list[Letter]:
        """The letters whose recipient has confirmed their address: an unconfirmed one gets nothing."""
        if not letters:
            return letters
        unconfirmed = {row["email"].lower() for row in self.view.rows(
            "SELECT email FROM invitation_people WHERE NOT confirmed AND lower(email) = ANY(%(emails)s)",
            {"emails": [letter.recipient.lower() for letter in letters]},
        )}
        return [letter for letter in letters if letter.recipient.lower() not in unconfirmed]
