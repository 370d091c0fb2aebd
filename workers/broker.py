"""The embedded broker: kombu's filesystem transport, with each message written whole before it appears.

kombu's own creates the message file and then writes it; a worker polling the folder in between takes
the empty file and stops with "Unrecoverable error: JSONDecodeError". Here the message is written under
a name the readers skip and renamed into place, which is atomic.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        try:
            # A leading dot: `_get` takes only files named <stamp>_<id>.<queue>.msg.
            handle, temporary = tempfile.mkstemp(dir=self.data_folder_out, prefix=".incoming-")
            with os.fdopen(handle, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as error:
            raise ChannelError(f"Cannot add file {name!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
