"""Reminders a day before a meetup: written once per going member, then delivered like any letter."""

from __future__ import annotations

from celery import shared_task

from cookout.projections.invitations import Invitations
from cookout.workers.app import ContainerTask
from cookout.workers.mail import DELIVER_TASK


@shared_task(name="cookout.send_reminders", bind=True)
def send_reminders(self: ContainerTask) -> int:
    container = self.container
    keys = container.view(Invitations).write_reminders(container.clock())
    for key in keys:
        self.app.send_task(DELIVER_TASK, args=[key])
    return len(keys)
