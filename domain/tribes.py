"""Tribes: the groups people gather in, who belongs to them, and who may read them.

Inputs are parsed here by the `parse_*` functions before a command is called;
the aggregate trusts its arguments, so stored events always replay even if the
rules for new input change later.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from cookout.domain.base import CookoutAggregate
from cookout.domain.errors import Conflict, Forbidden, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.text import clean_name, clean_text

ORGANISER = "organiser"
MODERATOR = "moderator"
MEMBER = "member"
ROLES = (ORGANISER, MODERATOR, MEMBER)

PUBLIC = "public"
MEMBERS_ONLY = "members"
VISIBILITIES = (PUBLIC, MEMBERS_ONLY)

SLUG = re.compile(r"[a-z0-9-]{3,40}")


def slug_key(slug: str) -> str:
    return f"tribe-slug:{slug}"


def parse_slug(value: str) -> str:
    slug = clean_text(value, "slug", one_line=True, what="A slug").lower()
    if not SLUG.fullmatch(slug):
        raise InvalidInput(
            "A slug is 3 to 40 characters: lowercase letters, digits and hyphens.", field="slug"
        )
    return slug


def parse_name(value: str) -> str:
    name = clean_name(value, "name", what="The tribe's name")
    if not 1 <= len(name) <= 80:
        raise InvalidInput("Give the tribe a name of 1 to 80 characters on one line.", field="name")
    return name


def parse_description(value: str) -> str:
    description = clean_text(value, "description", one_line=False, what="The description")
    if len(description) > 2000:
        raise InvalidInput("Keep the description under 2,000 characters.", field="description")
    return description


def parse_nickname(value: str) -> str:
    nickname = clean_name(value, "nickname", what="The nickname") or "members"
    if len(nickname) > 40:
        raise InvalidInput("Keep the nickname under 40 characters on one line.", field="nickname")
    return nickname


def parse_visibility(value: str) -> str:
    if value not in VISIBILITIES:
        raise InvalidInput("Choose public or members only.", field="visibility")
    return value


def parse_role(value: str) -> str:
    if value not in ROLES:
        raise InvalidInput("Choose organiser, moderator or member.", field="role")
    return value


class TribeRules:
    """Who may read a tribe and take part in it: the same rules for the whole tribe (`Tribe`) and for
    one member's place in it (`SeenBy`)."""

    name: str
    visibility: str
    role_of: Callable[[UUID | None], str | None]  # a member's role, or None: each kind knows it its own way

    def is_member(self, member_id: UUID | None) -> bool:
        return self.role_of(member_id) is not None

    def is_organiser(self, member_id: UUID | None) -> bool:
        return self.role_of(member_id) == ORGANISER

    def can_read(self, member_id: UUID | None) -> bool:
        return self.is_member(member_id) or self.visibility == PUBLIC

    def can_moderate(self, member_id: UUID | None) -> bool:
        return self.role_of(member_id) in (ORGANISER, MODERATOR)

    def check_can_read(self, member_id: UUID | None) -> None:
        # Outsiders get "not found", not "forbidden": they must not learn it exists.
        if not self.can_read(member_id):
            raise NotFound("No such tribe.")

    def check_can_take_part(self, member_id: UUID | None) -> None:
        self.check_can_read(member_id)
        if not self.is_member(member_id):
            raise Forbidden(f"Join {self.name} to take part.")

    def check_can_moderate(self, member_id: UUID | None) -> None:
        self.check_can_read(member_id)
        if not self.can_moderate(member_id):
            raise Forbidden(f"Only the moderators of {self.name} can do that.")

    def check_is_organiser(self, member_id: UUID | None) -> None:
        self.check_can_read(member_id)
        if not self.is_organiser(member_id):
            raise Forbidden(f"Only the organisers of {self.name} can do that.")


class Tribe(TribeRules, CookoutAggregate):
    @event("TribeFounded")
    def __init__(
        self,
        name: str,
        slug: str,
        description: str,
        nickname: str,
        visibility: str,
        founder_id: UUID,
    ):
        self.name = name
        self.slug = slug
        self.description = description
        self.nickname = nickname
        self.visibility = visibility
        self.founder_id = founder_id
        self.roles: dict[UUID, str] = {founder_id: ORGANISER}

    @event("TribeRevised")
    def revise(self, name: str, description: str, nickname: str, visibility: str) -> None:
        self.name = name
        self.description = description
        self.nickname = nickname
        self.visibility = visibility

    @event("MemberJoined")
    def join(self, member_id: UUID) -> None:
        if self.is_member(member_id):
            raise Conflict(f"Already one of the {self.nickname}.")
        self.roles[member_id] = MEMBER

    @event("MemberLeft")
    def leave(self, member_id: UUID) -> None:
        self.check_is_member(member_id)
        self.check_not_last_organiser(member_id)
        del self.roles[member_id]

    @event("RoleGranted")
    def grant_role(self, member_id: UUID, role: str) -> None:
        self.check_is_member(member_id)
        if self.roles[member_id] == role:
            raise Conflict(f"Already a {role}.", field="role")
        if role != ORGANISER:
            self.check_not_last_organiser(member_id)
        self.roles[member_id] = role

    @event("RoleRevoked")
    def revoke_role(self, member_id: UUID) -> None:
        self.check_is_member(member_id)
        if self.roles[member_id] == MEMBER:
            raise NotAllowedNow("They have no role to revoke.", field="role")
        self.check_not_last_organiser(member_id)
        self.roles[member_id] = MEMBER

    def role_of(self, member_id: UUID | None) -> str | None:
        return self.roles.get(member_id) if member_id else None

    @property
    def organisers(self) -> list[UUID]:
        return [member for member, role in self.roles.items() if role == ORGANISER]

    def check_is_member(self, member_id: UUID) -> None:
        if not self.is_member(member_id):
            raise NotAllowedNow(f"Not one of the {self.nickname}.")

    def check_not_last_organiser(self, member_id: UUID) -> None:
        if self.organisers == [member_id]:
            raise NotAllowedNow(
                f"{self.name} needs an organiser: make someone else organiser first.", field="role"
            )


class TribeAccess(CookoutAggregate):
    """What checking a member against a tribe needs of the tribe itself (its name and who may read it),
    kept beside the tribe and saved with it, so a comment or an answer never replays the tribe's joins.
    A tribe with none is from before it existed: it is read whole, and gets one at its next change."""

    @staticmethod
    def create_id(tribe_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/cookout/tribe-access/{tribe_id}")

    @event("TribeAccessRecorded")
    def __init__(self, tribe_id: UUID, name: str, visibility: str):
        self.tribe_id = tribe_id
        self.name = name
        self.visibility = visibility

    def follow(self, tribe: Tribe) -> bool:
        """Take the tribe's name and visibility; returns whether anything changed."""
        if (self.name, self.visibility) == (tribe.name, tribe.visibility):
            return False
        self._change(name=tribe.name, visibility=tribe.visibility)
        return True

    @event("TribeAccessChanged")
    def _change(self, name: str, visibility: str) -> None:
        self.name = name
        self.visibility = visibility


class Membership(CookoutAggregate):
    """One member's role in one tribe (None once they left), an index of the tribe's roles saved in the
    same save as the join, leave or role change; its id is derived from the tribe and the member."""

    @staticmethod
    def create_id(tribe_id: UUID, member_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/cookout/membership/{tribe_id}/{member_id}")

    @event("MembershipRecorded")
    def __init__(self, tribe_id: UUID, member_id: UUID, role: str | None):
        self.tribe_id = tribe_id
        self.member_id = member_id
        self.role = role

    def follow(self, role: str | None) -> bool:
        if role == self.role:
            return False
        self._change(role=role)
        return True

    @event("MembershipChanged")
    def _change(self, role: str | None) -> None:
        self.role = role


class SeenBy(TribeRules):
    """A tribe as the rules see it for one member: that member's role, and the tribe's access record,
    read only when a rule needs it (a member's role alone lets them read and take part)."""

    def __init__(self, tribe_id: UUID, member_id: UUID | None, role: str | None,
                 access: Callable[[], TribeAccess]):
        self.id = tribe_id
        self.member_id = member_id
        self.role = role
        self._access = access

    @functools.cached_property
    def access(self) -> TribeAccess:
        return self._access()

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.access.name

    @property
    def visibility(self) -> str:  # type: ignore[override]
        return self.access.visibility

    def role_of(self, member_id: UUID | None) -> str | None:
        return self.role if member_id is not None and member_id == self.member_id else None
