"""The Celery application: broker from COOKOUT_BROKER_URL, or a broker in files under the data dir."""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from celery.signals import worker_process_shutdown

from cookout.platform.runtime import Runtime
from cookout.platform.settings import Settings, load_settings

OUTBOX_SWEEP_SECONDS = 60.0
REMINDER_SWEEP_SECONDS = 300.0


def broker_options(settings: Settings) -> dict[str, object]:
    if settings.broker_url:
        return {"broker_url": settings.broker_url}
    # Embedded: kombu's filesystem transport needs no server; every process shares the folder.
    queue = settings.data_path / "broker" / "queue"
    processed = settings.data_path / "broker" / "processed"
    control = settings.data_path / "broker" / "control"
    for folder in (queue, processed, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
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
        timezone="UTC",
    )


celery_app = Celery("cookout", include=["cookout.workers.mail", "cookout.workers.reminders"])


@celery_app.on_configure.connect
def _configure(sender: Celery, **_: object) -> None:
    # Read the settings when Celery first needs them, not at import.
    configure(sender, load_settings())


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The worker's connection to the data, opened on first use."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(load_settings())
    return _runtime


def use_runtime(shared: Runtime) -> None:
    """Share a runtime already open in this process (`cookout serve` children, tests)."""
    global _runtime
    _runtime = shared


@worker_process_shutdown.connect
def _close_runtime(**_: object) -> None:
    if _runtime is not None:
        _runtime.close()
