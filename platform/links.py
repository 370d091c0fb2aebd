"""The signed links our emails carry: "can't make it" in invitations, confirming and ending a guest's emails,
resetting a password, confirming a member's address,
and the per-recipient organiser address (`rsvp+<token>@domain`) a calendar app sends its answer to.

The token is encrypted and authenticated (Fernet, with a key derived from the instance secret), so
the URL shows neither the meetup nor the member, and nobody can make one for someone else. Inside
it is the meetup's version when the letter was made: the meetup refuses the link once the member's
answer has changed after that (by this link or on the site), and answers close when it is over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeSerializer

from cookout.domain.errors import NotAllowedNow, NotFound
from cookout.platform.settings import Settings

SALT = "cookout.meetups.cant-make-it.v2"


class Expired(NotAllowedNow):
    """A link that was good once and is too old now."""

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


# A password reset link: the member and the version of their reset request, encrypted, stamped with the
# time of the request. It expires after RESET_SECONDS and is used up once the password changes (the member
# refuses a request older than the last change).
RESET_SALT = "cookout.password-reset.v1"
RESET_PATH = "/password/reset"
RESET_SECONDS = 3600
RESET_PAYLOAD_BYTES = 16 + 8
RESET_INVALID = "That reset link is not one we sent, or it was cut short. Copy the whole link from the email."
RESET_EXPIRED = "That reset link has expired: links work for an hour. Ask for a new one."


@dataclass(frozen=True)
class PasswordReset:
    member_id: UUID
    requested_at: int  # the member's version when the link was asked for


def _reset_fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(f"{RESET_SALT}:{settings.secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def password_reset_url(settings: Settings, member_id: UUID | str, requested_at: int, issued: datetime) -> str:
    data = UUID(str(member_id)).bytes + requested_at.to_bytes(8, "big")
    token = _reset_fernet(settings).encrypt_at_time(data, int(issued.timestamp())).decode().rstrip("=")
    return f"{settings.base_url}{RESET_PATH}/{token}"


def read_password_reset_token(settings: Settings, token: str, now: datetime) -> PasswordReset:
    """What a reset token says; a tampered or foreign one is not found, an old one has expired."""
    fernet = _reset_fernet(settings)
    padded = token + "=" * (-len(token) % 4)
    try:
        data = fernet.decrypt_at_time(padded, RESET_SECONDS, int(now.timestamp()))
    except InvalidToken:
        try:
            fernet.decrypt_at_time(padded, 10 * 365 * 24 * 3600, int(now.timestamp()))
        except (InvalidToken, ValueError):
            raise NotFound(RESET_INVALID) from None
        raise Expired(RESET_EXPIRED) from None
    except ValueError:
        raise NotFound(RESET_INVALID) from None
    if len(data) != RESET_PAYLOAD_BYTES:
        raise NotFound(RESET_INVALID)
    return PasswordReset(UUID(bytes=data[:16]), int.from_bytes(data[16:], "big"))


# A member's email confirmation link: the member and the version of the confirmation asked for, encrypted;
# the member accepts only the newest one, once.
CONFIRM_EMAIL_SALT = "cookout.email-confirm.v1"
CONFIRM_EMAIL_PATH = "/account/confirm"
CONFIRM_EMAIL_INVALID = "That confirmation link is not one we sent, or it was cut short. Copy the whole link from the email."


def _confirm_fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(f"{CONFIRM_EMAIL_SALT}:{settings.secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def email_confirmation_url(settings: Settings, member_id: UUID | str, asked_at: int) -> str:
    data = UUID(str(member_id)).bytes + asked_at.to_bytes(8, "big")
    return f"{settings.base_url}{CONFIRM_EMAIL_PATH}/{_confirm_fernet(settings).encrypt(data).decode().rstrip('=')}"


def read_email_confirmation_token(settings: Settings, token: str) -> tuple[UUID, int]:
    """The member and version a confirmation token names; a tampered or foreign one is not found."""
    try:
        data = _confirm_fernet(settings).decrypt(token + "=" * (-len(token) % 4))
    except (InvalidToken, ValueError):
        raise NotFound(CONFIRM_EMAIL_INVALID) from None
    if len(data) != RESET_PAYLOAD_BYTES:
        raise NotFound(CONFIRM_EMAIL_INVALID)
    return UUID(bytes=data[:16]), int.from_bytes(data[16:], "big")


# The organiser address of an invitation: `rsvp+<token>@<domain>`, one per recipient and calendar entry.
# The token is the member's id and an HMAC over (UID, member): nobody can make one for someone else or
# another entry, and it is the same in every message about that UID (no time inside), so the address a
# calendar stored with the first invitation still works after every update. Base32 in lower case
# because some mail servers lower-case local parts; 28 bytes make 45 letters, within the 64 a local part may have.
RSVP_SALT = b"cookout.rsvp.v1"
RSVP_PREFIX = "rsvp+"
RSVP_MAC_BYTES = 12


@dataclass(frozen=True)
class RsvpToken:
    member_id: UUID
    mac: bytes

    def is_for(self, settings: Settings, uid: str) -> bool:
        """Whether the token was made for this calendar entry (and this member)."""
        return hmac.compare_digest(self.mac, _rsvp_mac(settings, uid, self.member_id))


def _rsvp_mac(settings: Settings, uid: str, member_id: UUID) -> bytes:
    key = hashlib.sha256(RSVP_SALT + settings.secret.encode()).digest()
    return hmac.new(key, f"{uid}\n{member_id}".encode(), hashlib.sha256).digest()[:RSVP_MAC_BYTES]


def reply_domain(settings: Settings) -> str:
    """Where answers go: COOKOUT_REPLY_DOMAIN, or the domain of COOKOUT_MAIL_FROM."""
    if settings.reply_domain:
        return settings.reply_domain.lower()
    return (parseaddr(settings.mail_from)[1] or "cookout@localhost").rpartition("@")[2].lower() or "localhost"


def rsvp_token(settings: Settings, uid: str, member_id: UUID | str) -> str:
    member = UUID(str(member_id))
    data = member.bytes + _rsvp_mac(settings, uid, member)
    return base64.b32encode(data).decode().rstrip("=").lower()


def rsvp_address(settings: Settings, uid: str, member_id: UUID | str) -> str:
    return f"{RSVP_PREFIX}{rsvp_token(settings, uid, member_id)}@{reply_domain(settings)}"


def read_rsvp_address(settings: Settings, address: str) -> RsvpToken | None:
    """The token an `rsvp+…@our domain` address carries (not yet checked against a UID); None for any other."""
    address = address.strip().lower().removeprefix("mailto:")
    local, at, domain = address.rpartition("@")
    if not at or domain != reply_domain(settings) or not local.startswith(RSVP_PREFIX):
        return None
    token = local.removeprefix(RSVP_PREFIX)
    try:
        data = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except ValueError:
        return None
    if len(data) != 16 + RSVP_MAC_BYTES:
        return None
    return RsvpToken(UUID(bytes=data[:16]), data[16:])
