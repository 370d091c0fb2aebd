"""Reminders a day before a meetup: written once per going member, then delivered like any letter."""

from __future__ import annotations

from celery import shared_task

from cookout.projections.invitations import Invitations
from cookout.projections.outbox import DELIVER_TASK
from cookout.workers.app import ContainerTask


@shared_task(name="cookout.send_reminders", bind=True)
def send_reminders(self: ContainerTask) -> int:
    container = self.container
    keys = container.view(Invitations).write_reminders(container.clock())
    for key in keys:
        self.app.send_task(DELIVER_TASK, args=[key])
    return len(keys)
