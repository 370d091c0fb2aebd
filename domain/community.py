"""The Tribes service: founding and revising tribes, joining and leaving them, and their roles."""

from __future__ import annotations

from uuid import UUID

from cookout.domain.base import Index
from cookout.domain.errors import Conflict
from cookout.domain.service import TribeService, acting_member, command
from cookout.domain.tribes import (
    PUBLIC,
    Tribe,
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
        self.save(tribe, index)
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
        self.save(tribe)

    @command("join a tribe")
    def join_tribe(self, member: UUID, tribe_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.join(member)
        self.save(tribe)

    @command("admit members")
    def admit_member(self, moderator: UUID, tribe_id: UUID, member_id: UUID) -> None:
        """Lets an organiser or moderator bring someone into a members-only tribe."""
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_moderate(moderator)
        tribe.join(member_id)
        self.save(tribe)

    @command("leave a tribe")
    def leave_tribe(self, member: UUID, tribe_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(member)
        tribe.leave(member)
        self.save(tribe)

    @command("grant roles")
    def grant_role(self, organiser: UUID, tribe_id: UUID, member_id: UUID, role: str) -> None:
        role = parse_role(role)
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.grant_role(member_id, role)
        self.save(tribe)

    @command("revoke roles")
    def revoke_role(self, organiser: UUID, tribe_id: UUID, member_id: UUID) -> None:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_is_organiser(organiser)
        tribe.revoke_role(member_id)
        self.save(tribe)

    def get_tribe(self, tribe_id: UUID) -> Tribe:
        tribe = self._get(tribe_id, Tribe, "tribe")
        tribe.check_can_read(acting_member())
        return tribe
