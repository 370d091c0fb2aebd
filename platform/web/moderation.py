"""Moderation: a tribe's queue of held and flagged comments, and the moderators' decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from cookout.domain.errors import DomainError, Forbidden
from cookout.platform.container import Container
from cookout.platform.web.conversation import comment_post_and_tribe, people, tribe_by_slug
from cookout.projections.markdown import render
from cookout.platform.web.base import page, require_member, run_command, see_other
from cookout.projections.activity import MemberActivity
from cookout.projections.feed import TribeFeed
from cookout.projections.moderation import ModerationQueue
from cookout.projections.thread import ThreadTree

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
DECISION_PAGES = (ModerationQueue, ThreadTree, TribeFeed, MemberActivity)


@get("/t/{slug:str}/moderation", sync_to_thread=True)
def queue(request: Request[Any, Any, Any], container: NamedDependency[Container], slug: FromPath[str]) -> Template:
    return queue_page(request, container, moderated_tribe(request, container, slug))


def queue_page(request: Request[Any, Any, Any], container: Container, tribe: dict[str, Any], status: int = 200,
               errors: dict[str, str] | None = None) -> Template:
    view = container.view(ModerationQueue)
    waiting, removed = view.queue(tribe["id"]), view.recently_removed(tribe["id"])
    for row in [*waiting, *removed]:
        row["html"] = render(row["body"])
    named = people(container, {row["author_id"] for row in [*waiting, *removed]})
    return page("tribes/moderation.html", status_code=status, tribe=tribe, waiting=waiting, removed=removed,
                people=named, errors=errors or {})


def moderated_tribe(request: Request[Any, Any, Any], container: Container, slug: str) -> dict[str, Any]:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    if not tribe["moderator"]:
        raise Forbidden(f"Only the moderators of {tribe['name']} can do that.")
    return tribe


def decide(request: Request[Any, Any, Any], container: Container, comment_id: UUID, command: Callable[..., Any],
           *args: Any, message: str) -> Template | Redirect:
    require_member(request)
    _, _, tribe = comment_post_and_tribe(request, container, comment_id)
    try:
        run_command(request, command, comment_id, *args, projections=DECISION_PAGES)
    except DomainError as error:
        if error.field is None:
            raise
        return queue_page(request, container, tribe, 422, {"form": error.message})
    return see_other(f"/t/{tribe['slug']}/moderation", request, message)


@post("/c/{comment_id:uuid}/approve", sync_to_thread=True)
def approve(request: Request[Any, Any, Any], container: NamedDependency[Container],
            comment_id: FromPath[UUID]) -> Template | Redirect:
    return decide(request, container, comment_id, container.moderation.approve_comment, message="Approved: everyone sees it now.")


@post("/c/{comment_id:uuid}/hide", sync_to_thread=True)
def hide(request: Request[Any, Any, Any], container: NamedDependency[Container], comment_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    return decide(request, container, comment_id, container.moderation.hide_comment, data.get("reason", ""),
                  message="Hidden. Its author still sees it, with your reason.")


@post("/c/{comment_id:uuid}/spam", sync_to_thread=True)
def spam(request: Request[Any, Any, Any], container: NamedDependency[Container],
         comment_id: FromPath[UUID]) -> Template | Redirect:
    return decide(request, container, comment_id, container.moderation.mark_comment_spam, message="Marked as spam.")


@post("/c/{comment_id:uuid}/keep", sync_to_thread=True)
def keep(request: Request[Any, Any, Any], container: NamedDependency[Container],
         comment_id: FromPath[UUID]) -> Template | Redirect:
    return decide(request, container, comment_id, container.moderation.dismiss_flags, message="Kept; its flags are dismissed.")


ROUTES = [queue, approve, hide, spam, keep]
