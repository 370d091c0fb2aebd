"""A request id follows a command: the web's log line, the events it recorded, the letter they caused."""

from __future__ import annotations

import io
import json
import logging
import re
from email.message import EmailMessage

import pytest
from litestar.testing import TestClient

from cookout.domain.base import serving_request
from cookout.platform.container import Container
from cookout.platform.logs import JSON, TEXT, logging_config
from cookout.projections.outbox import Welcomes
from cookout.workers import mail
from tests.helpers import PASSWORD, post_form, unique


def web_lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[tuple[str, str, int]]:
    return [(r.method, r.route, r.status) for r in caplog.records
            if r.name == "cookout.web" and getattr(r, "request_id", None) == request_id]


def test_a_request_id_follows_a_sign_up_into_its_events_and_the_welcome_letter_sent(
    client: TestClient, container: Container, caplog: pytest.LogCaptureFixture,
) -> None:
    request_id = f"test-{unique()}"
    handle = unique()
    with caplog.at_level(logging.INFO, logger="cookout.web"):
        joined = post_form(client, "/signup", {"handle": handle, "display_name": "Traced Person",
                                               "email": f"{handle}@example.org", "password": PASSWORD},
                           headers={"X-Request-ID": request_id})
    assert joined.status_code == 303
    assert joined.headers["X-Request-ID"] == request_id
    assert web_lines(caplog, request_id) == [("POST", "/signup", 303)]

    member_id = container.accounts.member_id_for_handle(handle)
    events = list(container.accounts.events.get(member_id))
    assert events
    assert {event.request_id for event in events} == {request_id}

    assert container.wait_for(container.log_position(), (Welcomes,))
    key = f"welcome:{member_id}"
    assert container.outbox.letter(key)["request_id"] == request_id
    sent: list[EmailMessage] = []
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cookout.workers.mail"):
        assert mail.deliver_letter(container.outbox, container.settings, key, lambda m, _k: sent.append(m)) == "sent"
    [line] = [r for r in caplog.records if r.name == "cookout.workers.mail"]
    assert (line.request_id, line.letter, line.levelname) == (request_id, key, "INFO")
    assert len(sent) == 1


def test_a_request_without_a_usable_id_gets_a_new_one(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cookout.web"):
        plain = client.get("/")
        forged = client.get("/", headers={"X-Request-ID": "two\tlines and \"quotes\""})
    assert plain.headers["X-Request-ID"] != forged.headers["X-Request-ID"]
    for answer in (plain, forged):
        assert len(answer.headers["X-Request-ID"]) == 32
        assert web_lines(caplog, answer.headers["X-Request-ID"]) == [("GET", "/", 200)]


def log_through(log_format: str, record_request_id: str | None) -> str:
    """What one record looks like through the handler every process gets."""
    config = logging_config(log_format)
    formatter = config["formatters"][log_format]["()"]()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    handler.addFilter(config["filters"]["request_id"]["()"]())
    logger = logging.getLogger(f"cookout.test.{unique()}")
    logger.propagate = False
    logger.setLevel(logging.INFO)  # whatever level a Celery worker started earlier gave the root logger
    logger.addHandler(handler)
    with serving_request(record_request_id):
        logger.warning("letter %s not sent", "welcome:1", extra={"letter": "welcome:1"})
    return handler.stream.getvalue()  # type: ignore[attr-defined]


def test_json_log_lines_carry_time_level_logger_message_and_request_id() -> None:
    line = json.loads(log_through(JSON, "req-1"))
    assert {key: line[key] for key in ("level", "message", "request_id", "letter")} == {
        "level": "WARNING", "message": "letter welcome:1 not sent", "request_id": "req-1", "letter": "welcome:1",
    }
    assert line["logger"].startswith("cookout.test.")
    assert line["time"].endswith("Z") and "T" in line["time"]
    assert json.loads(log_through(JSON, None))["request_id"] is None


def test_readable_log_lines_name_the_request_when_there_is_one() -> None:
    line = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING cookout\.test\.\w+: letter welcome:1 not sent"
    assert re.fullmatch(line + r" \[request req-2\]\n", log_through(TEXT, "req-2"))
    assert re.fullmatch(line + r"\n", log_through(TEXT, None))
