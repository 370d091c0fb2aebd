"""The tribe directory: every tribe, who belongs to it and in which role."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from cookout.domain.tribes import MEMBER, ORGANISER, PUBLIC, Tribe
from cookout.domain.text import storable
from cookout.projections.base import CookoutProjection, View


ROSTER_ORDER = "array_position(ARRAY['organiser', 'moderator', 'member']::text[], role)"

# A tribe as one viewer (a member id, or NULL for a visitor) reads it: their role, and, for an organiser,
# how many organisers there are (the only one can't leave). One read where a page needed three.
TRIBE_FOR_VIEWER = """
    SELECT t.*, m.role AS viewer_role,
           CASE WHEN m.role = %(organiser)s THEN
               (SELECT count(*) FROM tribe_members o WHERE o.tribe_id = t.id AND o.role = %(organiser)s)
           END AS organiser_count
    FROM tribes t LEFT JOIN tribe_members m ON m.tribe_id = t.id AND m.member_id = %(member)s
    WHERE {where}
"""


class TribeDirectoryView(View):
    ddl = (
        """
        CREATE TABLE IF NOT EXISTS tribes (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            description text NOT NULL,
            nickname text NOT NULL,
            visibility text NOT NULL,
            founded_at timestamptz NOT NULL,
            member_count integer NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS tribe_members (
            tribe_id uuid NOT NULL,
            member_id uuid NOT NULL,
            role text NOT NULL,
            joined_at timestamptz NOT NULL,
            PRIMARY KEY (tribe_id, member_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS tribe_members_member ON tribe_members (member_id)",
        f"CREATE INDEX IF NOT EXISTS tribe_members_roster ON tribe_members (tribe_id, ({ROSTER_ORDER}), joined_at, member_id)",
        "CREATE INDEX IF NOT EXISTS tribes_biggest ON tribes (member_count DESC, name, id)",
    )
    tables = ("tribes", "tribe_members")

    def founded(self, tracking: Tracking, event: Tribe.TribeFounded) -> None:
        self.apply(
            tracking,
            (
                """
                INSERT INTO tribes (id, slug, name, description, nickname, visibility, founded_at, member_count)
                VALUES (%(id)s, %(slug)s, %(name)s, %(description)s, %(nickname)s, %(visibility)s, %(at)s, 1)
                """,
                {
                    "id": event.originator_id, "slug": event.slug, "name": event.name,
                    "description": event.description, "nickname": event.nickname,
                    "visibility": event.visibility, "at": event.timestamp,
                },
            ),
            self._add_member(event.originator_id, event.founder_id, ORGANISER, event.timestamp),
        )

    def revised(self, tracking: Tracking, event: Tribe.TribeRevised) -> None:
        self.apply(
            tracking,
            (
                "UPDATE tribes SET name = %(name)s, description = %(description)s, nickname = %(nickname)s, "
                "visibility = %(visibility)s WHERE id = %(id)s",
                {
                    "id": event.originator_id, "name": event.name, "description": event.description,
                    "nickname": event.nickname, "visibility": event.visibility,
                },
            ),
        )

    def joined(self, tracking: Tracking, event: Tribe.MemberJoined) -> None:
        self.apply(
            tracking,
            self._add_member(event.originator_id, event.member_id, MEMBER, event.timestamp),
            self._recount(event.originator_id),
        )

    def left(self, tracking: Tracking, event: Tribe.MemberLeft) -> None:
        self.apply(
            tracking,
            (
                "DELETE FROM tribe_members WHERE tribe_id = %(tribe)s AND member_id = %(member)s",
                {"tribe": event.originator_id, "member": event.member_id},
            ),
            self._recount(event.originator_id),
        )

    def set_role(self, tracking: Tracking, tribe_id: Any, member_id: Any, role: str) -> None:
        self.apply(
            tracking,
            (
                "UPDATE tribe_members SET role = %(role)s WHERE tribe_id = %(tribe)s AND member_id = %(member)s",
                {"tribe": tribe_id, "member": member_id, "role": role},
            ),
        )

    @staticmethod
    def _add_member(tribe_id: Any, member_id: Any, role: str, at: Any) -> tuple[str, dict[str, Any]]:
        return (
            "INSERT INTO tribe_members (tribe_id, member_id, role, joined_at) "
            "VALUES (%(tribe)s, %(member)s, %(role)s, %(at)s)",
            {"tribe": tribe_id, "member": member_id, "role": role, "at": at},
        )

    @staticmethod
    def _recount(tribe_id: Any) -> tuple[str, dict[str, Any]]:
        return (
            "UPDATE tribes SET member_count = (SELECT count(*) FROM tribe_members WHERE tribe_id = %(tribe)s) "
            "WHERE id = %(tribe)s",
            {"tribe": tribe_id},
        )

    # Queries pages make.

    def by_slug(self, slug: str, viewer: Any | None = None) -> dict[str, Any] | None:
        """The tribe, with `viewer_role` and `organiser_count` (see TRIBE_FOR_VIEWER)."""
        if not storable(slug):
            return None
        return self.row(TRIBE_FOR_VIEWER.format(where="t.slug = %(slug)s"),
                        {"slug": slug.lower(), "member": viewer, "organiser": ORGANISER})

    def by_id(self, tribe_id: Any, viewer: Any | None = None) -> dict[str, Any] | None:
        return self.row(TRIBE_FOR_VIEWER.format(where="t.id = %(id)s"),
                        {"id": tribe_id, "member": viewer, "organiser": ORGANISER})

    def readable_by(self, member_id: Any | None, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Public tribes, and the members-only tribes this member belongs to; the biggest first."""
        return self.rows(
            """
            SELECT t.*, m.role FROM tribes t
            LEFT JOIN tribe_members m ON m.tribe_id = t.id AND m.member_id = %(member)s
            WHERE t.visibility = %(public)s OR m.member_id IS NOT NULL
            ORDER BY t.member_count DESC, t.name, t.id
            LIMIT %(limit)s OFFSET %(skip)s
            """,
            {"member": member_id, "public": PUBLIC, "limit": limit, "skip": offset},
        )

    def front(self, member_id: Any | None, limit: int) -> tuple[list[dict[str, Any]], int]:
        """For the home page in one read: `readable_by`'s first tribes, and how many members Cookout has
        (the member directory's kept total)."""
        rows = self.rows(
            """
            SELECT total.n AS member_total, t.*
            FROM (SELECT coalesce((SELECT n FROM member_total), 0) AS n) total
            LEFT JOIN LATERAL (
                SELECT t.*, m.role FROM tribes t
                LEFT JOIN tribe_members m ON m.tribe_id = t.id AND m.member_id = %(member)s
                WHERE t.visibility = %(public)s OR m.member_id IS NOT NULL
                ORDER BY t.member_count DESC, t.name, t.id
                LIMIT %(limit)s
            ) t ON true
            """,
            {"member": member_id, "public": PUBLIC, "limit": limit},
        )
        tribes = [{k: v for k, v in row.items() if k != "member_total"} for row in rows if row["id"] is not None]
        return tribes, int(rows[0]["member_total"])

    def role_of(self, tribe_id: Any, member_id: Any | None) -> str | None:
        if member_id is None:
            return None
        found = self.row(
            "SELECT role FROM tribe_members WHERE tribe_id = %(tribe)s AND member_id = %(member)s",
            {"tribe": tribe_id, "member": member_id},
        )
        return found["role"] if found else None

    def members(self, tribe_id: Any, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Organisers first, then moderators, then everyone else in the order they joined."""
        return self.rows(
            f"""
            SELECT member_id, role, joined_at FROM tribe_members WHERE tribe_id = %(tribe)s
            ORDER BY {ROSTER_ORDER}, joined_at, member_id
            LIMIT %(limit)s OFFSET %(skip)s
            """,
            {"tribe": tribe_id, "limit": limit, "skip": offset},
        )

    def organiser_count(self, tribe_id: Any) -> int:
        found = self.row(
            "SELECT count(*) AS n FROM tribe_members WHERE tribe_id = %(tribe)s AND role = %(role)s",
            {"tribe": tribe_id, "role": ORGANISER},
        )
        return int(found["n"]) if found else 0

    def tribe_ids_of(self, member_id: Any | None) -> list[Any]:
        if member_id is None:
            return []
        found = self.rows("SELECT tribe_id FROM tribe_members WHERE member_id = %(m)s", {"m": member_id})
        return [row["tribe_id"] for row in found]

    def memberships_of(self, member_id: Any) -> list[dict[str, Any]]:
        """The tribes a member belongs to, in the order they joined, for their data export."""
        return self.rows(
            "SELECT t.slug, t.name, m.role, m.joined_at FROM tribe_members m JOIN tribes t ON t.id = m.tribe_id "
            "WHERE m.member_id = %(m)s ORDER BY m.joined_at, t.slug",
            {"m": member_id},
        )

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            *self.rows("SELECT * FROM tribes ORDER BY id"),
            *self.rows("SELECT * FROM tribe_members ORDER BY tribe_id, member_id"),
        ]


class TribeDirectory(CookoutProjection):
    name = "tribe_directory"
    topics = (
        get_topic(Tribe.TribeFounded),
        get_topic(Tribe.TribeRevised),
        get_topic(Tribe.MemberJoined),
        get_topic(Tribe.MemberLeft),
        get_topic(Tribe.RoleGranted),
        get_topic(Tribe.RoleRevoked),
    )
    view_class = TribeDirectoryView

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def tribe_founded(self, event: Tribe.TribeFounded, tracking: Tracking) -> None:
        self.view.founded(tracking, event)

    @process_event.register
    def tribe_revised(self, event: Tribe.TribeRevised, tracking: Tracking) -> None:
        self.view.revised(tracking, event)

    @process_event.register
    def tribe_member_joined(self, event: Tribe.MemberJoined, tracking: Tracking) -> None:
        self.view.joined(tracking, event)

    @process_event.register
    def tribe_member_left(self, event: Tribe.MemberLeft, tracking: Tracking) -> None:
        self.view.left(tracking, event)

    @process_event.register
    def tribe_role_granted(self, event: Tribe.RoleGranted, tracking: Tracking) -> None:
        self.view.set_role(tracking, event.originator_id, event.member_id, event.role)

    @process_event.register
    def tribe_role_revoked(self, event: Tribe.RoleRevoked, tracking: Tracking) -> None:
        self.view.set_role(tracking, event.originator_id, event.member_id, MEMBER)
