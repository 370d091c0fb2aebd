"""Calendar answers from a mailbox (IMAP, IMAPClient): each unseen message is applied, then marked \\Seen.

IDLE waits for new mail where the server has it; otherwise the mailbox is looked at every
`POLL_SECONDS`. A message whose answer could not be recorded stays unseen and is tried again after
reconnecting (tenacity, with backoff), so a dropped connection or a database restart loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.imapclient import SEEN
from tenacity import Retrying, retry_if_exception_type, stop_never, wait_exponential

from cookout.platform.inbound.replies import MAX_BYTES, Outcome, delivered_to

log = logging.getLogger("cookout.inbound")

POLL_SECONDS = 60

Apply = Callable[[EmailMessage, list[str]], Outcome]


def watch_mailbox(url: str, apply: Apply, stop: threading.Event, connect: Callable[..., Any] = IMAPClient) -> None:
    """Until `stop` is set: apply every unseen message of the mailbox the URL names, as it arrives."""
    parts = urlsplit(url)
    tls = parts.scheme == "imaps"
    folder = unquote(parts.path.lstrip("/")) or "INBOX"

    def session() -> None:
        with connect(parts.hostname, port=parts.port or (993 if tls else 143), ssl=tls) as client:
            client.login(unquote(parts.username or ""), unquote(parts.password or ""))
            client.select_folder(folder)
            idle = b"IDLE" in client.capabilities()
            while not stop.is_set():
                drain(client, apply)
                if idle:
                    client.idle()
                    client.idle_check(timeout=POLL_SECONDS)
                    client.idle_done()
                else:
                    stop.wait(POLL_SECONDS)

    retrying = Retrying(
        retry=retry_if_exception_type(Exception), stop=stop_never, wait=wait_exponential(max=POLL_SECONDS),
        sleep=stop.wait,
        before_sleep=lambda state: log.warning("mailbox %s: %s; reconnecting", folder, state.outcome.exception()),
    )
    retrying(session)


def drain(client: Any, apply: Apply) -> int:
    """Apply the unseen messages; returns how many were marked seen. An error leaves the rest unseen."""
    done = 0
    unseen = client.search(["UNSEEN"])
    for uid, data in client.fetch(unseen, ["RFC822.SIZE"]).items() if unseen else []:
        if data[b"RFC822.SIZE"] > MAX_BYTES:
            log.warning("calendar answer refused (too-large): %s bytes in message %s", data[b"RFC822.SIZE"], uid)
        else:
            raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
            message = BytesParser(policy=policy.default).parsebytes(raw)
            apply(message, delivered_to(message))
        client.add_flags([uid], [SEEN])
        done += 1
    return done
