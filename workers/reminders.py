"""Reminders a day before a meetup: written once per going member, then delivered like any letter."""

from __future__ import annotations

from datetime import UTC, datetime

from cookout.projections.invitations import Invitations
from cookout.workers.app import celery_app, runtime
from cookout.workers.mail import deliver


@celery_app.task(name="cookout.send_reminders")
def send_reminders() -> int:
    keys = runtime().view(Invitations).write_reminders(datetime.now(UTC))
    for key in keys:
        deliver.delay(key)
    return len(keys)
