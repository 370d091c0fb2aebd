"""The one-click "can't make it" link in invitations, updates and reminders.

The token is encrypted and authenticated (Fernet, with a key derived from the instance secret), so
the URL shows neither the meetup nor the member, and nobody can make one for someone else. Inside
it is the meetup's version when the letter was made: the meetup refuses the link once the member's
answer has changed after that (by this link or on the site), and answers close when it is over.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken

from cookout.domain.errors import NotFound
from cookout.platform.settings import Settings

SALT = "cookout.meetups.cant-make-it.v2"
PAYLOAD_BYTES = 16 + 16 + 8


@dataclass(frozen=True)
class CantMakeIt:
    meetup_id: UUID
    member_id: UUID
    since: int  # the meetup's version when the letter was made


def _fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(f"{SALT}:{settings.secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def cant_make_it_token(settings: Settings, meetup_id: UUID | str, member_id: UUID | str, since: int) -> str:
    data = UUID(str(meetup_id)).bytes + UUID(str(member_id)).bytes + since.to_bytes(8, "big")
    return _fernet(settings).encrypt(data).decode().rstrip("=")  # padding is noise in a URL


def cant_make_it_url(settings: Settings, meetup_id: UUID | str, member_id: UUID | str, since: int) -> str:
    return f"{settings.base_url}/rsvp/{cant_make_it_token(settings, meetup_id, member_id, since)}"


def read_cant_make_it_token(settings: Settings, token: str) -> CantMakeIt:
    """What a token says; a tampered, truncated or foreign token is simply not found."""
    try:
        data = _fernet(settings).decrypt(token + "=" * (-len(token) % 4))
    except (InvalidToken, ValueError):
        raise NotFound("That link is not one we sent, or it was mistyped.") from None
    if len(data) != PAYLOAD_BYTES:
        raise NotFound("That link is not one we sent, or it was mistyped.")
    return CantMakeIt(UUID(bytes=data[:16]), UUID(bytes=data[16:32]), int.from_bytes(data[32:], "big"))
