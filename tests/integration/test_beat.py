"""One Celery beat at a time: a second scheduler stands by, and takes over when the first is gone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from celery.utils.imports import symbol_by_name

from cookout.workers.app import CookoutCelery


class Beat(threading.Thread):
    """A scheduler ticking in a thread, as `worker --beat` runs one in a process of its own."""

    def __init__(self, app: CookoutCelery, name: str):
        super().__init__(name=name, daemon=True)
        self.scheduler = symbol_by_name(app.conf.beat_scheduler)(
            app=app, schedule_filename=f"{app.conf.beat_schedule_filename}-{name}")
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.stopping.wait(min(self.scheduler.tick(), 0.05))

    def die(self) -> None:
        """Gone, as a killed process is: no goodbye, its connections simply drop."""
        self.stopping.set()
        self.join(timeout=10)
        lock = getattr(self.scheduler, "_lock", None)
        if lock is not None:
            lock.close()


def test_two_beats_send_the_schedule_once_and_the_second_takes_over_when_the_first_dies(
    worker_app: CookoutCelery, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_app.conf.beat_schedule = {"sweep": {"task": "cookout.sweep_outbox", "schedule": 0.2}}
    sent: Counter[str] = Counter()

    def send_task(name: str, *args: Any, **kwargs: Any) -> None:
        sent[threading.current_thread().name] += 1

    monkeypatch.setattr(worker_app, "send_task", send_task)
    first, second = Beat(worker_app, "first"), Beat(worker_app, "second")
    first.start()
    time.sleep(0.5)  # the first is up before the second starts, as after a restart
    second.start()
    try:
        time.sleep(3)
        assert sent["first"] >= 5
        assert sent["second"] == 0
        first.die()
        before = sent["first"]
        deadline = time.monotonic() + 20
        while sent["second"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sent["second"] >= 3
        assert sent["first"] == before
    finally:
        first.die()
        second.die()
