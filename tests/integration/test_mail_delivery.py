"""Email driven by the log: written once per letter, delivered once, retried on SMTP trouble."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker

from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.platform.settings import load_settings
from cookout.projections.outbox import DELIVER_ALL_TASK, Welcomes, letter_path
from cookout.workers import mail
from cookout.workers.app import CookoutCelery
from tests.conftest import Workers
from tests.helpers import PASSWORD, rebuilding, unique


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[attr-defined]
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def join(container: Container) -> tuple[str, str]:
    handle = unique()
    member_id = container.accounts.sign_up(handle, "Mail Person", f"{handle}@example.org", PASSWORD)
    assert container.wait_for(container.log_position(), (Welcomes,))
    return f"welcome:{member_id}", handle


def test_joining_writes_exactly_one_welcome_letter(container: Container) -> None:
    key, handle = join(container)
    letter = container.outbox.letter(key)
    assert letter["recipient"] == f"{handle}@example.org"
    assert letter["status"] == "pending"
    assert letter["payload"]["handle"] == handle


def test_a_letter_is_sent_once_however_often_the_task_is_delivered(container: Container) -> None:
    key, handle = join(container)
    sent: list[EmailMessage] = []
    view = container.outbox

    def send(message: EmailMessage, _key: str) -> None:
        sent.append(message)

    assert mail.deliver_letter(view, container.settings, key, send) == "sent"
    assert mail.deliver_letter(view, container.settings, key, send) == "skipped"
    assert len(sent) == 1
    assert sent[0]["To"] == f"{handle}@example.org"
    assert sent[0]["Message-ID"] == view.letter(key)["message_id"]
    assert f"/members/{handle}" in sent[0].get_body(("plain",)).get_content()


def test_replaying_the_log_writes_no_second_letter(container: Container) -> None:
    key, _ = join(container)
    mail.deliver_letter(container.outbox, container.settings, key, lambda message, k: None)
    with rebuilding(container) as other:
        rebuild(other, Welcomes)
    rows = container.outbox.rows("SELECT status FROM outbox WHERE key = %(k)s", {"k": key})
    assert rows == [{"status": "sent"}]


def test_smtp_trouble_is_retried_then_recorded_as_failed(container: Container) -> None:
    key, _ = join(container)
    view = container.outbox

    def refuse(message: EmailMessage, _key: str) -> None:
        raise mail.DeliveryFailed("SMTPServerDisconnected: the server went away")

    outcomes = [mail.deliver_letter(view, container.settings, key, refuse) for _ in range(mail.MAX_ATTEMPTS)]
    assert outcomes == ["retry"] * (mail.MAX_ATTEMPTS - 1) + ["failed"]
    letter = view.letter(key)
    assert letter["status"] == "failed"
    assert "server went away" in letter["last_error"]
    assert mail.deliver_letter(view, container.settings, key, refuse) == "skipped"


def test_backoff_grows_and_is_jittered() -> None:
    early = [mail.backoff_seconds(0) for _ in range(50)]
    late = [mail.backoff_seconds(5) for _ in range(50)]
    assert max(early) <= 2 and min(early) >= 1
    assert max(late) > 2 and len(set(late)) > 1


def test_letters_go_out_through_a_real_smtp_server(container: Container, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    key, handle = join(container)
    settings = load_settings(database_url=container.settings.database_url, smtp_url=f"smtp://127.0.0.1:{port}")
    assert mail.deliver_letter(container.outbox, settings, key) == "sent"
    assert inbox.received.wait(5)
    message = inbox.messages[-1]
    assert message["To"] == f"{handle}@example.org"
    assert message["Subject"] == "Welcome to Cookout, Mail Person"


def test_an_unreachable_smtp_server_is_a_retry_not_a_crash(container: Container) -> None:
    key, _ = join(container)
    settings = load_settings(database_url=container.settings.database_url, smtp_url="smtp://127.0.0.1:9")
    assert mail.deliver_letter(container.outbox, settings, key) == "retry"
    assert "ConnectionRefusedError" in container.outbox.letter(key)["last_error"]


def test_mail_switched_off_lands_in_the_outbox_folder(container: Container) -> None:
    key, handle = join(container)
    assert mail.deliver_letter(container.outbox, container.settings, key) == "sent"
    path = letter_path(container.settings.outbox_dir, key)
    assert path.exists()
    assert message_from_bytes(path.read_bytes(), policy=policy.default)["To"] == f"{handle}@example.org"


def test_a_real_celery_worker_delivers_what_the_dispatcher_enqueues(
    container: Container, workers: Workers, worker_app: CookoutCelery
) -> None:
    with (workers.listening(worker_app.enqueue),
          start_worker(worker_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10)):
        key, _ = join(container)
        path: Path = letter_path(container.settings.outbox_dir, key)
        for _ in range(200):
            if container.outbox.letter(key)["status"] == "sent":
                break
            threading.Event().wait(0.05)
        assert container.outbox.letter(key)["status"] == "sent"
        assert path.exists()


def test_deliver_all_sends_each_letter_and_leaves_a_refused_one_to_retry_on_its_own(
    container: Container, worker_app: CookoutCelery, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sent, _), (refused, _) = join(container), join(container)
    real = mail.deliver_letter
    monkeypatch.setattr(mail, "deliver_letter", lambda view, settings, key, send=None: (
        "retry" if key == refused else real(view, settings, key, send)))
    retried: list[tuple[list[str], float]] = []
    monkeypatch.setattr(worker_app, "send_task", lambda name, args, countdown: retried.append((args, countdown)))
    assert worker_app.tasks[DELIVER_ALL_TASK]([sent, refused]) == {sent: "sent", refused: "retry"}
    assert container.outbox.letter(sent)["status"] == "sent"
    assert [args for args, _ in retried] == [[refused]]
    assert 1 <= retried[0][1] <= 2


def test_one_broken_letter_does_not_hold_back_the_rest_of_its_task(
    container: Container, worker_app: CookoutCelery, monkeypatch: pytest.MonkeyPatch
) -> None:
    (broken, _), (fine, _) = join(container), join(container)
    real = mail.deliver_letter

    def deliver_letter(view: object, settings: object, key: str, send: object = None) -> str:
        if key == broken:
            raise KeyError("a builder bug")
        return real(view, settings, key, send)  # type: ignore[arg-type]

    monkeypatch.setattr(mail, "deliver_letter", deliver_letter)
    assert worker_app.tasks[DELIVER_ALL_TASK]([broken, fine]) == {broken: "error", fine: "sent"}
    assert container.outbox.letter(broken)["status"] == "pending"  # the sweep offers it again
