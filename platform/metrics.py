"""Prometheus metrics: where each process keeps its counters, and what the database says at scrape time.

Counters a process keeps (request latency, calendar answers) go into files in one folder when several
processes share a host (prometheus-client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR, or
DATA_DIR/metrics as `cookout serve` and `cookout web` set it); /metrics adds them up. What lives in the
database (each projection's lag, parked events, the outbox) is read at scrape time by `DatabaseCollector`,
so every web process reports the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from cookout.platform.container import Container
from cookout.platform.settings import Settings
from cookout.projections.registry import PROJECTIONS
from cookout.projections.runner import running

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
LETTER_STATUSES = ("pending", "sent", "failed", "withdrawn")

INBOUND_REPLIES = Counter(
    "cookout_inbound_replies", "Calendar answers received by email, by what became of them and why",
    ["status", "reason"],
)


def metrics_folder(settings: Settings) -> Path:
    return Path(os.environ.get(MULTIPROCESS_VARIABLE) or settings.data_path / "metrics")


def prepare_metrics_folder(settings: Settings, env: MutableMapping[str, str] = os.environ) -> Path:
    """Before a process tree starts: the folder exists, holds nothing from processes that are gone, and
    `env` (the children's environment) names it, which prometheus-client reads when it is imported."""
    folder = metrics_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for file in folder.glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if not (pid.isdigit() and alive(int(pid))):
            file.unlink(missing_ok=True)
    env[MULTIPROCESS_VARIABLE] = str(folder)
    return folder


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_multiprocess_mode() -> bool:
    """Whether this process keeps its values in the shared folder: prometheus-client decided when it was
    imported, from the environment it found then."""
    return values.ValueClass is not values.MutexValue


class DatabaseCollector:
    """The values that live in the database, read when Prometheus asks."""

    def __init__(self, container: Container):
        self.container = container

    def collect(self) -> Iterator[Metric]:
        container = self.container
        head = container.log_position()
        parked = container.parked.counts()
        with container.datastore.transaction(commit=False) as cursor:
            alive_now = running(cursor, [projection.name for projection in PROJECTIONS])
        log = GaugeMetricFamily("cookout_log_position", "Position of the newest event in the log")
        log.add_metric([], head)
        yield log
        applied = CounterMetricFamily(
            "cookout_projection_events", "Events each projection has applied (its position); rate() gives events/s",
            labels=["projection"],
        )
        lag = GaugeMetricFamily("cookout_projection_lag_events", "Events in the log a projection has not applied yet",
                                labels=["projection"])
        stuck = GaugeMetricFamily("cookout_projection_parked_events", "Events a projection could not apply",
                                  labels=["projection"])
        runs = GaugeMetricFamily("cookout_projection_running", "1 while some process runs the projection",
                                 labels=["projection"])
        for projection in PROJECTIONS:
            position = container.view(projection).position()
            applied.add_metric([projection.name], position)
            lag.add_metric([projection.name], max(head - position, 0))
            stuck.add_metric([projection.name], parked.get(projection.name, 0))
            runs.add_metric([projection.name], 1 if projection.name in alive_now else 0)
        yield from (applied, lag, stuck, runs)
        outbox = container.outbox.health()
        letters = GaugeMetricFamily("cookout_letters", "Letters in the outbox, by status", labels=["status"])
        for status in sorted({*LETTER_STATUSES, *outbox["statuses"]}):
            letters.add_metric([status], outbox["statuses"].get(status, 0))
        yield letters
        retrying = GaugeMetricFamily("cookout_letters_retrying",
                                     "Pending letters the mail server could not take yet, waiting for their next try")
        retrying.add_metric([], outbox["retrying"])
        yield retrying
        oldest = GaugeMetricFamily("cookout_oldest_pending_letter_age_seconds",
                                   "How long the oldest pending letter has waited (0 when none waits)")
        oldest.add_metric([], outbox["oldest_pending_seconds"])
        yield oldest


def exposition(container: Container) -> bytes:
    """The text Prometheus scrapes: this host's processes' counters, then the database's values."""
    if in_multiprocess_mode():
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector(container))
    return generate_latest(processes) + generate_latest(database)
