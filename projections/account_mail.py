"""Account letters: the emails about a member's own account (confirming the address, a change of address, a password reset link), decided from the log.

It keeps each member's address and name from the member events, so a letter goes to the address the
member has now."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.members import Member
from cookout.domain.personal import FORMER_MEMBER
from cookout.projections.outbox import Dispatcher, Letter, OutboxView


class AccountMailView(OutboxView):
    ddl = (
        *OutboxView.ddl,
        """
        CREATE TABLE IF NOT EXISTS account_mail_members (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            display_name text NOT NULL
        )
        """,
        # Every address a member had or asked for, so their letters can go when they leave.
        """
        CREATE TABLE IF NOT EXISTS account_mail_addresses (
            member_id uuid NOT NULL,
            email text NOT NULL,
            PRIMARY KEY (member_id, email)
        )
        """,
    )
    # A rebuild keeps the outbox (the record of what was sent) and replays the members.
    tables: ClassVar[tuple[str, ...]] = ("account_mail_members", "account_mail_addresses")

    def member(self, member_id: Any) -> dict[str, Any] | None:
        return self.row("SELECT * FROM account_mail_members WHERE id = %(id)s", {"id": member_id})


class AccountMail(Dispatcher):
    name = "account_mail"
    topics = (
        get_topic(Member.Joined),
        get_topic(Member.Renamed),
        get_topic(Member.PasswordResetRequested),
        get_topic(Member.EmailConfirmationAsked),
        get_topic(Member.EmailChangeRequested),
        get_topic(Member.EmailChanged),
        get_topic(Member.LeftCookout),
    )
    view_class = AccountMailView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.post(tracking, [], [(
            "INSERT INTO account_mail_members (id, email, display_name) VALUES (%(id)s, %(email)s, %(name)s)",
            {"id": event.originator_id, "email": event.email, "name": event.display_name},
        ), address_statement(event.originator_id, event.email)])

    @process_event.register
    def member_left_cookout(self, event: Member.LeftCookout, tracking: Tracking) -> None:
        """The letters to a former member's addresses go from the outbox (those to an address someone else
        holds now stay), and so do their address and name here."""
        member = {"id": event.originator_id, "name": FORMER_MEMBER}
        self.post(tracking, [], [
            ("DELETE FROM outbox WHERE lower(recipient) IN ("
             " SELECT lower(email) FROM account_mail_addresses WHERE member_id = %(id)s"
             " EXCEPT SELECT lower(email) FROM account_mail_members WHERE id <> %(id)s)", member),
            ("DELETE FROM account_mail_addresses WHERE member_id = %(id)s", member),
            ("UPDATE account_mail_members SET email = '', display_name = %(name)s WHERE id = %(id)s", member),
        ])

    @process_event.register
    def member_renamed(self, event: Member.Renamed, tracking: Tracking) -> None:
        self.post(tracking, [], [(
            "UPDATE account_mail_members SET display_name = %(name)s WHERE id = %(id)s",
            {"id": event.originator_id, "name": event.display_name},
        )])

    @process_event.register
    def member_password_reset_requested(self, event: Member.PasswordResetRequested, tracking: Tracking) -> None:
        member = self.view.member(event.originator_id)
        if member is None:
            self.view.insert_tracking(tracking)
            return
        self.send(tracking, Letter(
            key=f"password-reset:{event.originator_id}:{event.originator_version}",
            kind="password_reset",
            recipient=member["email"],
            payload={
                "member_id": str(event.originator_id),
                "display_name": member["display_name"],
                "requested_at": event.originator_version,
                "issued": event.timestamp.isoformat(),
            },
        ))

    @process_event.register
    def member_email_confirmation_asked(self, event: Member.EmailConfirmationAsked, tracking: Tracking) -> None:
        member = self.view.member(event.originator_id)
        if member is None:
            self.view.insert_tracking(tracking)
            return
        self.send(tracking, Letter(
            key=f"confirm-email:{event.originator_id}:{event.originator_version}",
            kind="confirm_email",
            recipient=member["email"],
            payload={"member_id": str(event.originator_id), "display_name": member["display_name"],
                     "asked_at": event.originator_version},
        ))

    @process_event.register
    def member_email_change_requested(self, event: Member.EmailChangeRequested, tracking: Tracking) -> None:
        """The confirmation link goes to the new address: following it proves the member reads it."""
        member = self.view.member(event.originator_id)
        if member is None:
            self.view.insert_tracking(tracking)
            return
        self.post(tracking, [Letter(
            key=f"confirm-email:{event.originator_id}:{event.originator_version}",
            kind="confirm_email",
            recipient=event.email,
            payload={"member_id": str(event.originator_id), "display_name": member["display_name"],
                     "asked_at": event.originator_version},
        )], [address_statement(event.originator_id, event.email)])

    @process_event.register
    def member_email_changed(self, event: Member.EmailChanged, tracking: Tracking) -> None:
        """From now on letters go to the new address; the old one is told, in case it was not its owner's doing."""
        member = self.view.member(event.originator_id)
        statement = ("UPDATE account_mail_members SET email = %(email)s WHERE id = %(id)s",
                     {"id": event.originator_id, "email": event.email})
        letters = [] if member is None else [Letter(
            key=f"email-changed:{event.originator_id}:{event.originator_version}",
            kind="email_changed",
            recipient=event.previous,
            payload={"display_name": member["display_name"], "email": event.email},
        )]
        self.post(tracking, letters, [statement, address_statement(event.originator_id, event.email)])


def address_statement(member_id: Any, email: str) -> tuple[str, dict[str, Any]]:
    return ("INSERT INTO account_mail_addresses (member_id, email) VALUES (%(id)s, %(email)s) ON CONFLICT DO NOTHING",
            {"id": member_id, "email": email})
