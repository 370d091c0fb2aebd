"""`cookout serve` with COOKOUT_INBOUND_URL=smtp://…: a calendar's answer, sent over SMTP to the ORGANIZER
of the invitation a member received, comes back to them as the letter of their new answer."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

from icalendar import Calendar

from tests.e2e.test_serve import free_port, ignore_sigint
from tests.integration.test_calendar_answers import reply_text


def calendar_letters(outbox: Path, recipient: str) -> list[tuple[Path, dict[str, str]]]:
    """Each .eml to `recipient` with its calendar part's METHOD, ORGANIZER, UID, SEQUENCE and PARTSTAT."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        part = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
        if message["To"] != recipient or part is None:
            continue
        calendar = Calendar.from_ical(part.get_content())
        event = calendar.walk("VEVENT")[0]
        found.append((path, {
            "method": str(calendar["METHOD"]),
            "organizer": str(event["ORGANIZER"]).removeprefix("mailto:"),
            "uid": str(event["UID"]),
            "sequence": str(event["SEQUENCE"]),
            "partstat": str(event["ATTENDEE"].params["PARTSTAT"]),
        }))
    return found


def wait_until(condition, seconds: float, process: subprocess.Popen[str]):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_serve_with_an_smtp_inbound_url_takes_a_gmail_yes_for_the_invitations_organizer(tree_dir: Path) -> None:
    port, inbound_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOKOUT_")}
    env["COOKOUT_INBOUND_URL"] = f"smtp://127.0.0.1:{inbound_port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "cookout.platform.cli", "serve", "--demo", "--port", str(port)],
        cwd=tree_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=ignore_sigint,
    )
    outbox = tree_dir / "var" / "outbox"
    teo = {"email": "teo@example.org", "display_name": "Teo Lindqvist"}
    try:
        # The demo's Teo said maybe: his letter holds the meetup, tentatively, with his own ORGANIZER.
        _, maybe = wait_until(lambda: calendar_letters(outbox, teo["email"]), 90, process)[0]
        assert maybe["partstat"] == "TENTATIVE" and maybe["organizer"].startswith("rsvp+")
        yes = reply_text("gmail", maybe, teo, "ACCEPTED")

        def send() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", inbound_port, timeout=20) as client:
                client.ehlo()
                client.mail(teo["email"])
                assert client.rcpt(maybe["organizer"])[0] == 250
                return client.data(yes)

        assert wait_until(lambda: _connects(inbound_port), 60, process)
        assert send() == (250, b"2.0.0 applied: accepted")
        letters = wait_until(lambda: [l for _, l in calendar_letters(outbox, teo["email"])
                                      if l["partstat"] == "ACCEPTED"], 30, process)
        assert letters[0]["uid"] == maybe["uid"] and letters[0]["organizer"] == maybe["organizer"]
        assert send() == (250, b"2.0.0 duplicate: duplicate")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "Receiving calendar answers over SMTP" in output


def _connects(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2):
            return True
    except OSError:
        return False


def test_cookout_inbound_without_the_variable_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOKOUT_")}
    result = subprocess.run([sys.executable, "-m", "cookout.platform.cli", "inbound"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("cookout: COOKOUT_INBOUND_URL is not set")
