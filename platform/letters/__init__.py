"""The emails Cookout sends: one module per kind of letter (welcome, replies, invitations), each
declaring its `LETTERS`, and `compose`, which turns any outbox row into the email to send."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from cookout.platform.letters import accounts, invitations, replies, welcome
from cookout.platform.letters.kind import LetterKind
from cookout.platform.settings import Settings
from cookout.platform.templating import mail_templates

LETTERS: dict[str, LetterKind] = {
    letter.kind: letter for module in (welcome, replies, invitations, accounts) for letter in module.LETTERS
}


def compose(row: dict[str, Any], settings: Settings, now: datetime | None = None) -> EmailMessage:
    """The email for an outbox row: text and HTML alternatives from the kind's templates, the envelope
    (the Message-ID is the row's, so a resend is the same email), the kind's headers, and its calendar
    part stamped `now`."""
    letter = LETTERS[row["kind"]]
    now = now or datetime.now(UTC)
    context = letter.context(row["payload"], settings)
    message = EmailMessage()
    message["Subject"] = letter.subject(context)
    message["From"] = settings.mail_from
    message["To"] = row["recipient"]
    message["Date"] = format_datetime(now)
    message["Message-ID"] = row["message_id"]
    for name, value in letter.headers(context).items():
        message[name] = value
    message.set_content(mail_templates.get_template(f"email/{letter.template}.txt").render(context))
    message.add_alternative(
        mail_templates.get_template(f"email/{letter.template}.html").render(context), subtype="html"
    )
    if letter.calendar is not None:
        part = letter.calendar(context, now)
        message.add_alternative(
            part.text.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": part.method, "charset": "UTF-8"},
        )
        # As Gmail and Outlook send it: clients that skip the alternative still find the event.
        message.add_attachment(part.text.encode("utf-8"), maintype="application", subtype="ics",
                               filename="invite.ics")
    return message
