"""The Tribes service: founding and revising tribes, joining and leaving them, and their roles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from cookout.domain.base import Index
from cookout.domain.errors import Conflict
from cookout.domain.service import TribeService, acting_member, command
from cookout.domain.tribes import (
    PUBLIC,
    Membership,
    Tribe,
    TribeAccess,
    parse_description,
    parse_name,
    parse_nickname,
    parse_role,
    parse_slug,
    parse_visibility,
    slug_key,
)


class Tribes(TribeService):
    @command("found a tribe")
    def found_tribe(
        self,
        founder: UUID,
        name: str,
        slug: str,
        description: str = "",
        nickname: str = "",
        visibility: str = PUBLIC,
    ) -> UUID:
        slug = parse_slug(slug)
        tribe = Tribe(
            name=parse_name(name),
            slug=slug,
            description=parse_description(description),
            nickname=parse_nickname(nickname),
            visibility=parse_visibility(visibility),
            founder_id=founder,
        )
        index = self._find_index(slug_key(slug))
        if index is None:
            index = Index(slug_key(slug), tribe.id)
        elif index.ref is None:
            index.reclaim(tribe.id)
        else:
            raise Conflict("Another tribe already uses that slug.", field="slug")
        self._save(tribe, [founder], index)
        return tribe.id

    @command("change a tribe")
    def revise_tribe(
        self, organiser: UUID, tribe_id: UUID, name: str, description: str, nickname: str, visibility: str
    ) -> None:
        name, description = parse_name(name), parse_description(description)
        nickname, visibility = parse_nickname(nickname), parse_visibility(visibility)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.revise(name, description, nickname, visibility)
        self._save(tribe, [])

    @command("join a tribe")
    def join_tribe(self, member: UUID, tribe_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.join(member)
        self._save(tribe, [member])

    @command("admit members")
    def admit_member(self, moderator: UUID, tribe_id: UUID, member_id: UUID) -> None:
        """Lets an organiser or moderator bring someone into a members-only tribe."""
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_moderate(moderator)
        tribe.join(member_id)
        self._save(tribe, [member_id])

    @command("leave a tribe")
    def leave_tribe(self, member: UUID, tribe_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.leave(member)
        self._save(tribe, [member])

    @command("grant roles")
    def grant_role(self, organiser: UUID, tribe_id: UUID, member_id: UUID, role: str) -> None:
        role = parse_role(role)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.grant_role(member_id, role)
        self._save(tribe, [member_id])

    @command("revoke roles")
    def revoke_role(self, organiser: UUID, tribe_id: UUID, member_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.revoke_role(member_id)
        self._save(tribe, [member_id])

    def _save(self, tribe: Tribe, member_ids: Iterable[UUID], *others: Any) -> None:
        """Saves the tribe with the index aggregates that follow it: its access record and the memberships
        of `member_ids`. A tribe from before them gets its access record and every membership now."""
        access = self._find(TribeAccess.create_id(tribe.id))
        indexes: list[Any] = []
        if access is None:
            indexes.append(TribeAccess(tribe.id, tribe.name, tribe.visibility))
            indexes += [Membership(tribe.id, member, role) for member, role in tribe.roles.items()]
        else:
            if access.follow(tribe):
                indexes.append(access)
            for member in dict.fromkeys(member_ids):
                membership = self._find(Membership.create_id(tribe.id, member))
                role = tribe.role_of(member)
                if membership is None:
                    if role is not None:
                        indexes.append(Membership(tribe.id, member, role))
                elif membership.follow(role):
                    indexes.append(membership)
        self.save(tribe, *others, *indexes)

    def get_tribe(self, tribe_id: UUID) -> Tribe:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(acting_member())
        return tribe
