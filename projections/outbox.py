"""The outbox: every email the log calls for, written with tracking so none is lost or made twice.

The dispatcher turns events into outbox rows in the same transaction as its position; a Celery task
then delivers each row once. Replaying the log (a rebuild) finds the rows already there and adds none.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import singledispatchmethod
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.base import current_request_id
from cookout.domain.members import Member
from cookout.projections.base import CookoutProjection, Statement, View, after_commit

log = logging.getLogger(__name__)

DELIVER_ALL_TASK = "cookout.deliver_all"
LETTERS_PER_TASK = 20


@dataclass(frozen=True)
class Letter:
    """One email to one recipient; `key` makes it unique, whatever replays or retries happen."""

    key: str
    kind: str
    recipient: str
    payload: dict[str, Any] = field(default_factory=dict)
    # The request whose events called for it (the runner applies each event under its request id), so
    # the worker's log line for the letter names it too.
    request_id: str | None = field(default_factory=current_request_id.get)

    @property
    def message_id(self) -> str:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        return f"<{digest}@cookout>"


def letter_path(folder: Path, key: str) -> Path:
    """Where embedded mode keeps a letter as an .eml file."""
    return folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".eml")


def letter_statement(letter: Letter) -> Statement:
    """Post one letter; a letter already there (a replay, a retry) is left as it is."""
    return (
        """
        INSERT INTO outbox (key, kind, recipient, payload, message_id, request_id)
        VALUES (%(key)s, %(kind)s, %(recipient)s, %(payload)s, %(message_id)s, %(request_id)s)
        ON CONFLICT (key) DO NOTHING
        """,
        {
            "key": letter.key,
            "kind": letter.kind,
            "recipient": letter.recipient,
            "payload": json.dumps(letter.payload),
            "message_id": letter.message_id,
            "request_id": letter.request_id,
        },
    )


def letters_statement(letters: Sequence[Letter]) -> Statement:
    """Post several letters in one statement (a batch's letters cost one round trip, not one each); a
    letter already there is left as it is."""
    return (
        """
        INSERT INTO outbox (key, kind, recipient, payload, message_id, request_id)
        SELECT * FROM unnest(%(keys)s::text[], %(kinds)s::text[], %(recipients)s::text[], %(payloads)s::jsonb[],
                             %(message_ids)s::text[], %(request_ids)s::text[])
        ON CONFLICT (key) DO NOTHING
        """,
        {
            "keys": [letter.key for letter in letters],
            "kinds": [letter.kind for letter in letters],
            "recipients": [letter.recipient for letter in letters],
            "payloads": [json.dumps(letter.payload) for letter in letters],
            "message_ids": [letter.message_id for letter in letters],
            "request_ids": [letter.request_id for letter in letters],
        },
    )


class OutboxView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS outbox (
            key text PRIMARY KEY,
            kind text NOT NULL,
            recipient text NOT NULL,
            payload jsonb NOT NULL,
            message_id text NOT NULL,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz
        )
        """,
        "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (created_at) WHERE status = 'pending'",
        # When a letter the mail server could not take is tried again (see workers/mail.py).
        "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz",
        "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS request_id text",
        # The moment each letter was made, not its batch's start: letters of one batch keep the log's order.
        "ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp()",
    )
    # A rebuild keeps the rows: they are the record of what was sent.
    tables: ClassVar[tuple[str, ...]] = ()

    def post(self, tracking: Tracking, letters: Sequence[Letter], statements: Sequence[Statement] = ()) -> None:
        """The dispatcher's own rows, its letters and its position in one transaction."""
        self.apply(tracking, *statements, *([letters_statement(letters)] if letters else []))

    def pending_keys(self, older_than_seconds: float = 0) -> list[str]:
        found = self.rows(
            "SELECT key FROM outbox WHERE status = 'pending' "
            "AND created_at <= now() - make_interval(secs => %(age)s) ORDER BY created_at",
            {"age": older_than_seconds},
        )
        return [row["key"] for row in found]

    def due_keys(self, first_try_after_seconds: float = 0) -> list[str]:
        """Pending letters whose next try is due; one never tried is due a while after it was written."""
        found = self.rows(
            "SELECT key FROM outbox WHERE status = 'pending' AND coalesce(next_attempt_at, "
            "created_at + make_interval(secs => %(age)s)) <= now() ORDER BY created_at",
            {"age": first_try_after_seconds},
        )
        return [row["key"] for row in found]

    def make_due(self, failed_too: bool = False) -> list[str]:
        """By hand, after an outage: every pending letter is due now; with `failed_too`, the failed
        ones are pending again (their last error kept until the next try)."""
        statuses = ["pending", "failed"] if failed_too else ["pending"]
        with self.datastore.transaction(commit=True) as cursor:
            # Rows a worker or the dispatchers hold right now are skipped, not waited for: waiting while
            # holding others is how a bulk update deadlocks with them (and those are being handled anyway).
            cursor.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE key IN ("
                " SELECT key FROM outbox WHERE status = ANY(%s) ORDER BY key FOR UPDATE SKIP LOCKED"
                ") RETURNING key",
                (statuses,),
            )
            return [row["key"] for row in cursor.fetchall()]

    def letters(self, status: str | None = None, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM outbox WHERE %(status)s::text IS NULL OR status = %(status)s "
            "ORDER BY created_at DESC, key LIMIT %(n)s OFFSET %(offset)s",
            {"status": status, "n": limit, "offset": offset},
        )

    def letter(self, key: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM outbox WHERE key = %(key)s", {"key": key})

    def health(self) -> dict[str, Any]:
        """For /metrics: letters by status, the pending ones already tried, how long the oldest has waited."""
        counts = self.rows("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        [waiting] = self.rows(
            "SELECT count(*) FILTER (WHERE attempts > 0) AS retrying, "
            "coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS oldest "
            "FROM outbox WHERE status = 'pending'"
        )
        return {"statuses": {row["status"]: row["n"] for row in counts}, "retrying": waiting["retrying"],
                "oldest_pending_seconds": waiting["oldest"]}


# How letters reach the workers: given a list of letters' keys, it queues them for delivery.
Enqueue = Callable[[list[str]], None]


class Dispatcher(CookoutProjection):
    """Base of the projections that decide which emails an event calls for. Each feature has its own
    dispatcher (its own position in the log); all of them post into the one outbox."""

    view_class = OutboxView

    def __init__(self, view: OutboxView, enqueue: Enqueue | None = None):
        """Without `enqueue` (a rebuild, a test) the letters wait in the outbox for the periodic sweep."""
        super().__init__(view=view)
        self.enqueue = enqueue

    def send(self, tracking: Tracking, *letters: Letter) -> None:
        """Post the letters and record the position in one transaction, then wake a worker."""
        self.post(tracking, letters)

    def post(self, tracking: Tracking, letters: Sequence[Letter], statements: Sequence[Statement] = ()) -> None:
        """The dispatcher's own rows, its letters and its position in one transaction; once that has
        committed (a worker may look at once), the letters go to the workers, a whole batch's together.
        A letter to nobody (a former member's address, which the log no longer holds) is not posted."""
        letters = [letter for letter in letters if letter.recipient]
        self.view.post(tracking, letters, statements)
        self._hand_over_after_commit(letters)

    def post_letters(self, letters: Sequence[Letter]) -> None:
        """Post letters decided later in the batch than their event (see `put_off`); the position is the
        batch's already, and they commit with it."""
        if letters:
            self.view.execute(letters_statement(letters))
        self._hand_over_after_commit(letters)

    def _hand_over_after_commit(self, letters: Sequence[Letter]) -> None:
        if letters and self.enqueue is not None:
            after_commit("letters", [letter.key for letter in letters], functools.partial(hand_over, self.enqueue))


def hand_over(enqueue: Enqueue, keys: Sequence[str]) -> None:
    """Give the keys to the workers, a few per task: few broker messages when the log is busy, and a big
    round of invitations still spreads over every worker."""
    for start in range(0, len(keys), LETTERS_PER_TASK):
        chunk = list(keys[start:start + LETTERS_PER_TASK])
        try:
            enqueue(chunk)
        except Exception:  # the rows are safe in the outbox; the periodic sweep enqueues them again
            log.exception("could not enqueue %s; the outbox sweep will retry", ", ".join(chunk))


class Welcomes(Dispatcher):
    """A welcome letter for every member who joins."""

    name = "welcomes"
    topics = (
        get_topic(Member.Joined),
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def member_joined(self, event: Member.Joined, tracking: Tracking) -> None:
        self.send(
            tracking,
            Letter(
                key=f"welcome:{event.originator_id}",
                kind="welcome",
                recipient=event.email,
                payload={"display_name": event.display_name, "handle": event.handle},
            ),
        )
