"""Delivering the outbox: each letter is claimed, composed, sent and marked in one transaction.

A redelivered or retried task finds the letter already sent and does nothing. Like a mail server's
queue, trouble that may pass (a refused connection, a 4xx reply) is retried with exponential backoff
and jitter, from a minute up to six hours apart, for two days; only a permanent 5xx refusal (or two
days of trouble) marks a letter failed, with the reason. The next try's time is kept on the outbox row
and the periodic sweep enqueues letters that are due: a countdown of hours held in the broker would
outlast its visibility timeout and be handed out twice.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from cookout.domain.base import serving_request
from cookout.platform.letters import compose
from cookout.platform.settings import Settings
from cookout.projections.outbox import DELIVER_ALL_TASK, OutboxView, letter_path
from cookout.workers.app import ContainerTask

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 6 * 3600
GIVE_UP_AFTER_SECONDS = 2 * 24 * 3600
DELIVER_TASK = "cookout.deliver"  # one letter


class DeliveryFailed(Exception):
    """SMTP refused or could not be reached; worth trying again later."""


class DeliveryRefused(DeliveryFailed):
    """The server refused the letter for good (a 5xx reply): trying again would get the same answer."""


def permanent(error: smtplib.SMTPException) -> bool:
    """Whether every answer in an SMTP error is a 5xx refusal; a 4xx or a lost connection may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
    elif isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    else:
        return False
    return bool(codes) and all(500 <= code < 600 for code in codes)


def transport(settings: Settings) -> Callable[[EmailMessage, str], None]:
    target = settings.smtp()
    if target is None:
        return lambda message, key: write_to_outbox_dir(settings.outbox_dir, message, key)

    def send(message: EmailMessage, key: str) -> None:
        try:
            if target.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=30, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(target.host, target.port, timeout=30)
            with client:
                if target.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if target.user:
                    client.login(target.user, target.password or "")
                client.send_message(message)
        except smtplib.SMTPException as error:
            kind = DeliveryRefused if permanent(error) else DeliveryFailed
            raise kind(f"{type(error).__name__}: {error}") from error
        except OSError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error

    return send


def write_to_outbox_dir(folder: Path, message: EmailMessage, key: str) -> None:
    """Embedded mode's mail: one .eml file per letter, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(message.as_bytes())
    os.replace(temporary, letter_path(folder, key))


def deliver_letter(view: OutboxView, settings: Settings, key: str,
                   send: Callable[[EmailMessage, str], None] | None = None) -> str:
    """Send one letter if it is still pending. Returns its status afterwards."""
    send = send or transport(settings)
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(
            "SELECT * FROM outbox WHERE key = %s AND status = 'pending' FOR UPDATE SKIP LOCKED", (key,)
        )
        row = cursor.fetchone()
        if row is None:
            return "skipped"  # already sent, failed for good, or being sent by another worker
        # Its log lines name the request whose events called for the letter.
        with serving_request(row.get("request_id")):
            return send_claimed(cursor, row, settings, send)


def send_claimed(cursor: Any, row: dict[str, Any], settings: Settings,
                 send: Callable[[EmailMessage, str], None]) -> str:
    key = row["key"]
    message = compose(row, settings)
    letter = {"letter": key, "kind": row["kind"], "request_id": row.get("request_id")}
    try:
        send(message, key)
    except DeliveryRefused as error:
        cursor.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s, status = 'failed' WHERE key = %s",
            (str(error), key),
        )
        log.error("letter %s refused for good: %s", key, error, extra=letter)
        return "failed"
    except DeliveryFailed as error:
        wait = backoff_seconds(row["attempts"])
        cursor.execute(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s,
                status = CASE WHEN created_at < now() - make_interval(secs => %(give_up)s)
                    THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => %(wait)s)
            WHERE key = %(key)s RETURNING status
            """,
            {"error": str(error), "give_up": GIVE_UP_AFTER_SECONDS, "key": key, "wait": wait},
        )
        if cursor.fetchone()["status"] == "failed":
            log.error("letter %s given up after two days of trouble: %s", key, error, extra=letter)
            return "failed"
        log.warning("letter %s not sent, next try in %.0f s: %s", key, wait, error, extra=letter)
        return "retry"
    cursor.execute(
        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, "
        "last_error = NULL WHERE key = %s",
        (key,),
    )
    log.info("letter %s sent (%s)", key, row["kind"], extra=letter)
    return "sent"


def backoff_seconds(retries: int) -> float:
    """Celery's exponential backoff with full jitter, 1 min, 2 min ... up to 6 h: letters refused
    together do not all come back together."""
    return get_exponential_backoff_interval(FIRST_RETRY_SECONDS, retries, LONGEST_RETRY_SECONDS, full_jitter=True)


@shared_task(name=DELIVER_TASK, bind=True)
def deliver(self: ContainerTask, key: str) -> str:
    """One letter; if the server could not take it, the outbox row says when the sweep offers it again."""
    return deliver_letter(self.container.outbox, self.container.settings, key)


@shared_task(name=DELIVER_ALL_TASK, bind=True)
def deliver_all(self: ContainerTask, keys: list[str]) -> dict[str, str]:
    """The letters a batch of events called for, one after another; a letter the server could not take
    waits for its next try in the outbox, so it holds up no other letter."""
    shared = self.container
    statuses = {}
    for key in keys:
        try:
            statuses[key] = deliver_letter(shared.outbox, shared.settings, key)
        except Exception:  # one broken letter must not hold back the others; the sweep offers it again
            log.exception("could not deliver %s", key)
            statuses[key] = "error"
    return statuses


@shared_task(name="cookout.sweep_outbox", bind=True)
def sweep_outbox(self: ContainerTask) -> int:
    """Enqueue letters whose next try is due, and those still pending a while after they were written
    (a lost enqueue, a dead worker)."""
    keys = self.container.outbox.due_keys(first_try_after_seconds=30)
    for key in keys:
        self.app.send_task(DELIVER_TASK, args=[key])
    return len(keys)
