"""The one-click "can't make it" link in invitations and reminders: a signed token naming a member
and a meetup, so the link works without signing in and cannot be forged for someone else."""

from __future__ import annotations

from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer

from cookout.domain.errors import NotFound
from cookout.platform.settings import Settings

SALT = "cookout.meetups.cant-make-it"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret, salt=SALT)


def cant_make_it_token(settings: Settings, meetup_id: UUID | str, member_id: UUID | str) -> str:
    return str(_serializer(settings).dumps([str(meetup_id), str(member_id)]))


def cant_make_it_url(settings: Settings, meetup_id: UUID | str, member_id: UUID | str) -> str:
    return f"{settings.base_url}/rsvp/{cant_make_it_token(settings, meetup_id, member_id)}"


def read_cant_make_it_token(settings: Settings, token: str) -> tuple[UUID, UUID]:
    """The (meetup, member) a token names; a tampered or foreign token is simply not found."""
    try:
        meetup_id, member_id = _serializer(settings).loads(token)
        return UUID(meetup_id), UUID(member_id)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("That link is not one we sent, or it was mistyped.") from None
