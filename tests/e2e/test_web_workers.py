"""`cookout web --workers N`: every process counts into one metrics folder, and logs JSON lines when asked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from email.message import Message
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from cookout.platform.settings import Settings
from tests.e2e.test_serve import free_port

REQUESTS = 24


def get(url: str, **headers: str) -> tuple[int, Message, str]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read().decode()


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            get(f"{url}/healthz")
            return
        except OSError:
            assert process.poll() is None, "cookout web stopped"
            time.sleep(0.3)
    raise AssertionError("cookout web did not answer within 90 s")


def requests_counted(metrics: str, path: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(metrics) for sample in family.samples
               if sample.name == "cookout_requests_total" and sample.labels.get("path") == path)


def test_two_web_processes_report_the_requests_of_both_and_log_json_lines(tmp_path: Path, settings: Settings) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stale = tmp_path / "var" / "metrics" / "counter_999999999.db"  # a dead process's counts, from a run before
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COOKOUT_") and key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(COOKOUT_DATABASE_URL=settings.database_url or "", COOKOUT_SMTP_URL="off",
               COOKOUT_SECRET_KEY="test-secret-key-not-for-production-use", COOKOUT_DATA_DIR=str(tmp_path / "var"),
               COOKOUT_LOG_FORMAT="json")
    process = subprocess.Popen(
        [sys.executable, "-m", "cookout.platform.cli", "web", "--workers", "2", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        wait_until_up(url, process)
        assert not stale.exists()
        for n in range(REQUESTS):
            status, headers, _ = get(f"{url}/login", **{"X-Request-ID": f"multi-{n}"})
            assert (status, headers["X-Request-ID"]) == (200, f"multi-{n}")
        # Whichever process answers the scrape, it adds up what both counted.
        scrapes = [requests_counted(get(f"{url}/metrics")[2], "/login") for _ in range(6)]
        assert scrapes == [REQUESTS] * 6
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines, output
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    served = [line for line in lines if line["logger"] == "cookout.web" and line["request_id"] == "multi-7"]
    assert [(line["method"], line["route"], line["status"]) for line in served] == [("GET", "/login", 200)]
