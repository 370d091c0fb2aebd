"""Email driven by the log: written once per letter, delivered once, retried on SMTP trouble."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker

from cookout.platform import cli
from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.platform.settings import Settings, load_settings
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


class Refusing(Inbox):
    """A mail server that answers `reply` to the first `times` letters, then takes them."""

    def __init__(self, reply: str, times: int = 1_000_000) -> None:
        super().__init__()
        self.reply, self.times = reply, times

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        if self.times > 0:
            self.times -= 1
            return self.reply
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def sink(handler: Inbox) -> Iterator[str]:
    """An SMTP server with `handler` on a free port; yields its COOKOUT_SMTP_URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def change_letter(container: Container, assignment: str, key: str) -> None:
    """Move a letter in time, as the clock would."""
    with container.outbox.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"UPDATE outbox SET {assignment} WHERE key = %s", (key,))


def smtp_settings(container: Container, url: str) -> Settings:
    return load_settings(database_url=container.settings.database_url, smtp_url=url)


def test_a_mail_server_that_is_down_then_busy_delays_a_letter_but_never_fails_it(container: Container) -> None:
    key, handle = join(container)
    down = [mail.deliver_letter(container.outbox, smtp_settings(container, "smtp://127.0.0.1:9"), key) for _ in range(5)]
    assert down == ["retry"] * 5
    assert "ConnectionRefusedError" in container.outbox.letter(key)["last_error"]
    busy = Refusing("421 4.3.2 Service shutting down, try later", times=5)
    with sink(busy) as url:
        tries = [mail.deliver_letter(container.outbox, smtp_settings(container, url), key) for _ in range(6)]
    assert tries == ["retry"] * 5 + ["sent"]
    letter = container.outbox.letter(key)
    assert (letter["status"], letter["attempts"], letter["last_error"]) == ("sent", 11, None)
    assert busy.messages[0]["To"] == f"{handle}@example.org"


def test_a_letter_tried_again_waits_longer_each_time(container: Container) -> None:
    key, _ = join(container)
    waits = []
    with sink(Refusing("451 4.3.0 Temporary trouble")) as url:
        for _ in range(12):
            tried_at = container.outbox.row("SELECT now() AS t")["t"]
            assert mail.deliver_letter(container.outbox, smtp_settings(container, url), key) == "retry"
            # From when the try began: on a loaded machine a short wait may be over before it is read.
            waits.append(container.outbox.row(
                "SELECT extract(epoch FROM next_attempt_at - %(t)s) AS wait FROM outbox WHERE key = %(k)s",
                {"k": key, "t": tried_at})["wait"])
    assert all(0 <= wait <= mail.LONGEST_RETRY_SECONDS for wait in waits)
    assert max(waits[:2]) <= 2 * mail.FIRST_RETRY_SECONDS
    assert max(waits[-4:]) > 3600  # hours apart by then: a long outage is outlasted
    assert container.outbox.letter(key)["status"] == "pending"


def test_a_permanent_refusal_fails_the_letter_at_once_with_the_reason(container: Container) -> None:
    key, _ = join(container)
    with sink(Refusing("550 5.1.1 Mailbox does not exist")) as url:
        assert mail.deliver_letter(container.outbox, smtp_settings(container, url), key) == "failed"
    letter = container.outbox.letter(key)
    assert letter["status"] == "failed"
    assert "550" in letter["last_error"] and "Mailbox does not exist" in letter["last_error"]
    assert mail.deliver_letter(container.outbox, container.settings, key) == "skipped"


def test_a_letter_the_server_keeps_deferring_fails_after_two_days(container: Container) -> None:
    key, _ = join(container)
    # Two days of trouble, without waiting them out: the letter was written three days ago.
    change_letter(container, "created_at = now() - interval '3 days'", key)
    with sink(Refusing("421 4.4.5 Try again later")) as url:
        assert mail.deliver_letter(container.outbox, smtp_settings(container, url), key) == "failed"
    assert "421" in container.outbox.letter(key)["last_error"]


def test_the_sweep_offers_a_deferred_letter_again_only_when_it_is_due(container: Container) -> None:
    key, _ = join(container)
    with sink(Refusing("421 4.3.2 Busy")) as url:
        assert mail.deliver_letter(container.outbox, smtp_settings(container, url), key) == "retry"
    change_letter(container, "next_attempt_at = now() + interval '1 minute'", key)
    assert key not in container.outbox.due_keys()
    change_letter(container, "next_attempt_at = now() - interval '1 second'", key)
    assert key in container.outbox.due_keys()


def test_outbox_retry_failed_sends_letters_refused_for_good_once_the_cause_is_fixed(
    container: Container, worker_app: CookoutCelery, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key, _ = join(container)
    with sink(Refusing("550 5.7.1 Relaying denied")) as url:
        assert mail.deliver_letter(container.outbox, smtp_settings(container, url), key) == "failed"
    monkeypatch.setenv("COOKOUT_DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("COOKOUT_SMTP_URL", "off")
    monkeypatch.setattr(cli, "CookoutCelery", lambda settings: worker_app)  # the test's own queue
    # The retry hands over every letter due in this test process's database, not only this test's.
    with start_worker(worker_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10):
        assert cli.main(["outbox", "retry"]) == 0
        assert container.outbox.letter(key)["status"] == "failed"  # without --failed, left alone
        assert cli.main(["outbox", "retry", "--failed"]) == 0
        for _ in range(1800):  # up to 90 s: a loaded machine starts the worker slowly
            if container.outbox.letter(key)["status"] == "sent":
                break
            threading.Event().wait(0.05)
    assert container.outbox.letter(key)["status"] == "sent"
    assert letter_path(container.settings.outbox_dir, key).exists()
    assert "handed to the workers again" in capsys.readouterr().out


def test_backoff_grows_and_is_jittered() -> None:
    early = [mail.backoff_seconds(0) for _ in range(50)]
    late = [mail.backoff_seconds(12) for _ in range(50)]
    assert max(early) <= mail.FIRST_RETRY_SECONDS
    assert max(late) > mail.FIRST_RETRY_SECONDS and max(late) <= mail.LONGEST_RETRY_SECONDS
    assert len(set(late)) > 1


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
    assert worker_app.tasks[DELIVER_ALL_TASK]([sent, refused]) == {sent: "sent", refused: "retry"}
    assert container.outbox.letter(sent)["status"] == "sent"
    assert container.outbox.letter(refused)["status"] == "pending"  # the sweep offers it when it is due


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
