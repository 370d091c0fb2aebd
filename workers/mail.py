"""Delivering the outbox: each letter is claimed, composed, sent and marked in one transaction.

A redelivered or retried task finds the letter already sent and does nothing; SMTP trouble is
retried with exponential backoff and jitter, then recorded as failed with the reason.
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from celery import shared_task

from cookout.platform.letters import compose
from cookout.platform.settings import Settings
from cookout.projections.outbox import DELIVER_ALL_TASK, OutboxView, letter_path
from cookout.workers.app import ContainerTask

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
DELIVER_TASK = "cookout.deliver"  # one letter, retried on its own


class DeliveryFailed(Exception):
    """SMTP refused or could not be reached; worth trying again later."""


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
        except (smtplib.SMTPException, OSError) as error:
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
        message = compose(row, settings)
        try:
            send(message, key)
        except DeliveryFailed as error:
            attempts = row["attempts"] + 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            cursor.execute(
                "UPDATE outbox SET attempts = %s, last_error = %s, status = %s WHERE key = %s",
                (attempts, str(error), status, key),
            )
            return status if status == "failed" else "retry"
        cursor.execute(
            "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, "
            "last_error = NULL WHERE key = %s",
            (key,),
        )
        return "sent"


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with full jitter: 2, 4, 8 ... seconds, spread so retries do not stampede."""
    return random.uniform(1, 2 ** (retries + 1))


@shared_task(name=DELIVER_TASK, bind=True, max_retries=MAX_ATTEMPTS)
def deliver(self: ContainerTask, key: str) -> str:
    status = deliver_letter(self.container.outbox, self.container.settings, key)
    if status == "retry":
        raise self.retry(countdown=backoff_seconds(self.request.retries))
    return status


@shared_task(name=DELIVER_ALL_TASK, bind=True)
def deliver_all(self: ContainerTask, keys: list[str]) -> dict[str, str]:
    """The letters a batch of events called for, one after another; a letter the server refused goes on
    to retry on its own, with backoff, so it holds up no other letter."""
    shared = self.container
    statuses = {}
    for key in keys:
        try:
            statuses[key] = deliver_letter(shared.outbox, shared.settings, key)
        except Exception:  # one broken letter must not hold back the others; the sweep offers it again
            log.exception("could not deliver %s", key)
            statuses[key] = "error"
        if statuses[key] == "retry":
            self.app.send_task(DELIVER_TASK, args=[key], countdown=backoff_seconds(0))
    return statuses


@shared_task(name="cookout.sweep_outbox", bind=True)
def sweep_outbox(self: ContainerTask) -> int:
    """Enqueue letters still pending a while after they were written (a lost enqueue, a dead worker)."""
    keys = self.container.outbox.pending_keys(older_than_seconds=30)
    for key in keys:
        self.app.send_task(DELIVER_TASK, args=[key])
    return len(keys)
