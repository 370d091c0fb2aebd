"""The signed links our emails carry: "can't make it" in invitations, confirming and ending a guest's emails.

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
from itsdangerous import BadSignature, URLSafeSerializer

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


# A guest's comment emails: confirming them, and ending them. Each token names the post and the
# address, signed with the instance secret (one salt per purpose); they stay valid, like any unsubscribe link.
UNSUBSCRIBE_SALT = "cookout.unsubscribe"
PATH = "/unsubscribe"
CONFIRM_SALT = "cookout.subscription.confirm"
CONFIRM_PATH = "/subscriptions/confirm"


def unsubscribe_token(settings: Settings, post_id: UUID | str, email: str) -> str:
    return URLSafeSerializer(settings.secret, salt=UNSUBSCRIBE_SALT).dumps([str(post_id), email])


def unsubscribe_url(settings: Settings, post_id: UUID | str, email: str) -> str:
    return f"{settings.base_url}{PATH}/{unsubscribe_token(settings, post_id, email)}"


def read_token(settings: Settings, token: str) -> tuple[UUID, str]:
    try:
        post_id, email = URLSafeSerializer(settings.secret, salt=UNSUBSCRIBE_SALT).loads(token)
        return UUID(post_id), str(email)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("This unsubscribe link is not valid. Copy the whole link from the email.") from None


def confirm_url(settings: Settings, post_id: UUID | str, email: str) -> str:
    token = URLSafeSerializer(settings.secret, salt=CONFIRM_SALT).dumps([str(post_id), email])
    return f"{settings.base_url}{CONFIRM_PATH}/{token}"


def read_confirm_token(settings: Settings, token: str) -> tuple[UUID, str]:
    try:
        post_id, email = URLSafeSerializer(settings.secret, salt=CONFIRM_SALT).loads(token)
        return UUID(post_id), str(email)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("This confirmation link is not valid. Copy the whole link from the email.") from None
