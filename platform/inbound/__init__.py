"""Receiving calendar answers (iTIP REPLY): over SMTP or from an IMAP mailbox, as COOKOUT_INBOUND_URL says.

`replies` reads and applies one message; `smtp` and `imap` bring messages to it. Only the CLI
starts this (`cookout inbound`, or `cookout serve` with the variable set); web and workers never import it.
"""

from __future__ import annotations

import signal
import threading
from functools import partial
from urllib.parse import urlsplit

from cookout.platform.inbound.imap import watch_mailbox
from cookout.platform.inbound.replies import receive
from cookout.platform.inbound.smtp import smtp_server
from cookout.platform.container import bootstrap
from cookout.platform.settings import ConfigurationError, Settings


def run(settings: Settings) -> None:
    """Receive answers until SIGTERM or Ctrl-C."""
    if not settings.inbound_url:
        raise ConfigurationError("COOKOUT_INBOUND_URL is not set: say where calendar answers arrive, "
                                 "as in smtp://0.0.0.0:2525 or imaps://user:password@mail.example.org/INBOX")
    container = bootstrap(settings)
    apply = partial(receive, container)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    parts = urlsplit(settings.inbound_url)
    try:
        if parts.scheme == "smtp":
            server = smtp_server(settings, apply, parts.hostname or "127.0.0.1", parts.port or 25)
            server.start()
            print(f"Receiving calendar answers over SMTP on {parts.hostname}:{server.port}.", flush=True)
            try:
                while not stop.wait(1):
                    pass
            finally:
                server.stop()
        else:
            print(f"Receiving calendar answers from the mailbox at {parts.hostname}.", flush=True)
            watch_mailbox(settings.inbound_url, apply, stop)
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
