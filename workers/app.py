"""The Celery application: broker from COOKOUT_BROKER_URL, or a broker in files under the data dir; its
tasks reach the data through the container the app is built with."""

from __future__ import annotations

from pathlib import Path

from celery import Celery, Task
from celery.signals import setup_logging

from cookout.platform.container import Container
from cookout.platform.logs import configure_logging
from cookout.platform.settings import Settings
from cookout.projections.outbox import DELIVER_ALL_TASK

# A lost task (the filesystem broker forgets what a killed worker had reserved) is found by the sweep:
# letters pending 30 s, every 30 s, come back within a minute.
OUTBOX_SWEEP_SECONDS = 30.0
REMINDER_SWEEP_SECONDS = 300.0
TASK_MODULES = ["cookout.workers.mail", "cookout.workers.reminders"]


# With acks late, Redis hands a task a worker reserved but never acknowledged (the worker was killed) to
# another worker after this long; kombu looks for such tasks every 5 s. Letters claimed FOR UPDATE SKIP
# LOCKED stay sent once even if a slow task is handed out twice.
VISIBILITY_TIMEOUT_SECONDS = 45


def broker_options(settings: Settings) -> dict[str, object]:
    if settings.broker_url:
        options: dict[str, object] = {"broker_url": settings.broker_url}
        if settings.broker_url.startswith(("redis://", "rediss://")):
            options["broker_transport_options"] = {
                "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
                "unacked_restore_interval": 5,
                "unacked_restore_throttle": 1,
            }
        return options
    # Embedded: kombu's filesystem transport needs no server; every process shares the folder.
    queue = settings.data_path / "broker" / "queue"
    processed = settings.data_path / "broker" / "processed"
    control = settings.data_path / "broker" / "control"
    for folder in (queue, processed, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport": "cookout.workers.broker:Transport",  # kombu's, writing each message atomically
        "broker_transport_options": {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "store_processed": False,
            "control_folder": str(control),
            # The transport polls its folder; its default of once a second caps a worker at a few
            # letters a second, which a meetup's thousand invitations would feel.
            "polling_interval": 0.05,
        },
    }


def configure(app: Celery, settings: Settings) -> None:
    settings.data_path.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule there
    app.conf.update(
        **broker_options(settings),
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "sweep-outbox": {"task": "cookout.sweep_outbox", "schedule": OUTBOX_SWEEP_SECONDS},
            "meetup-reminders": {"task": "cookout.send_reminders", "schedule": REMINDER_SWEEP_SECONDS},
        },
        beat_schedule_filename=str(Path(settings.data_path) / "celerybeat-schedule"),
        beat_scheduler="cookout.workers.beat:OneBeat",
        timezone="UTC",
    )


class ContainerTask(Task):
    """Base of Cookout's tasks: they reach the data through the app that runs them, which was built with
    the process's container. No module global: a test's worker and the CLI's each use the container they
    bootstrapped, and a process that only sends tasks (`projections run`) builds an app without one."""

    @property
    def container(self) -> Container:
        container = self.app.container  # type: ignore[attr-defined]
        if container is None:
            raise RuntimeError("this Celery app sends tasks only: build it with a container to run them")
        return container


class CookoutCelery(Celery):
    """Cookout's Celery app, for the settings given. The tasks are `shared_task`s, so each app built here
    (the worker's, the sender's, a test's) has them without any app being a module global."""

    def __init__(self, settings: Settings, container: Container | None = None, queue: str | None = None,
                 logs: bool = False):
        """With `logs` (a worker or beat process of its own), the process logs as every Cookout process
        does (COOKOUT_LOG_FORMAT), rather than in Celery's format."""
        super().__init__("cookout", task_cls=ContainerTask, include=TASK_MODULES, set_as_current=False)
        self.container = container
        self.settings = settings
        configure(self, settings)
        if queue:  # test processes may share one broker (Redis in CI): each consumes only its own tasks
            self.conf.task_default_queue = queue
        if logs:
            setup_logging.connect(self.configure_logging, weak=False)

    def configure_logging(self, **_: object) -> None:
        """Celery's `setup_logging` signal: while it has a receiver, Celery leaves logging to it."""
        configure_logging(self.settings.log_format)

    def enqueue(self, keys: list[str]) -> None:
        """How the dispatchers' letters reach the workers: one task for a few letters."""
        self.send_task(DELIVER_ALL_TASK, args=[keys])
