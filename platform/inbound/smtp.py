"""Calendar answers over SMTP: a small server (aiosmtpd) that sits behind the site's mail server.

It takes mail only for our rsvp+… addresses (others: 550), at most `MAX_BYTES` (552), and says 250
only once the answer is recorded or known to need nothing; when that cannot be done now (the
database is away) it says 451, and the sending server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from cookout.platform.inbound.replies import MAX_BYTES, Outcome
from cookout.platform.links import read_rsvp_address
from cookout.platform.settings import Settings

log = logging.getLogger("cookout.inbound")

Apply = Callable[[EmailMessage, list[str]], Outcome]


class ReplyHandler:
    def __init__(self, settings: Settings, apply: Apply):
        self.settings = settings
        self.apply = apply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if read_rsvp_address(self.settings, address) is None:
            return "550 5.1.1 No such mailbox: this server takes only calendar answers to rsvp+ addresses"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(
                None, self.apply, message, list(envelope.rcpt_tos)
            )
        except Exception:
            # Never accept what we could not record: the sender keeps it and tries again.
            log.exception("calendar answer not recorded; asked the sender to retry")
            return "451 4.3.0 Cannot record the answer just now; try again later"
        # Refused answers are accepted too: a 5xx would make the sending server bounce to a forged sender.
        return f"250 2.0.0 {outcome.status}: {outcome.reason}"


def smtp_server(settings: Settings, apply: Apply, host: str, port: int) -> Controller:
    """Not started yet: `.start()` listens in a thread of its own, `.stop()` ends it."""
    return Controller(ReplyHandler(settings, apply), hostname=host, port=port, data_size_limit=MAX_BYTES,
                      enable_SMTPUTF8=True)
