"""Download my data: everything a member wrote and answered, as one JSON file, read from the views."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.plugins.htmx import HTMXRequest

from cookout.platform.container import Container
from cookout.platform.web.base import require_member
from cookout.platform.web.headers import NO_STORE
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.projections.thread import ThreadTree
from cookout.projections.tribes import TribeDirectory

EXPORT_FORMAT = 1


def member_data(container: Container, member_id: UUID) -> dict[str, Any]:
    """What the export holds: the profile and settings, tribes joined, posts and comments with every version,
    likes, meetup answers, session choices and check-ins."""
    me = container.view(MemberDirectory).private_settings(member_id) or {}
    written = container.view(ThreadTree).written_by(member_id)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": container.clock(),
        "profile": {
            "id": member_id, "handle": me.get("handle"), "display_name": me.get("display_name"),
            "email": me.get("email"), "joined_at": me.get("joined_at"), "roles": me.get("roles", []),
        },
        "settings": {
            "reply_emails": me.get("reply_emails"),
            "private_calendar_feed": me.get("calendar_token") is not None,
        },
        "tribes": container.view(TribeDirectory).memberships_of(member_id),
        "posts": written["posts"],
        "comments": written["comments"],
        "likes": written["likes"],
        **container.view(Meetups).answers_of(member_id),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@get("/settings/export.json", sync_to_thread=True, cache_control=NO_STORE)
def export_my_data(request: HTMXRequest, container: NamedDependency[Container]) -> Response[bytes]:
    member_id = require_member(request)
    body = json.dumps(member_data(container, member_id), default=_plain, indent=2, ensure_ascii=False)
    return Response(
        body.encode(),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="cookout-my-data.json"'},
    )


ROUTES = [export_my_data]
