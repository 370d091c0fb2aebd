"""Posts: writing one in a tribe, its page with the thread, editing with history, and retracting."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.errors import Forbidden
from cookout.platform.container import Container
from cookout.platform.web.conversation import (
    SAVED,
    UNCHANGED,
    history_page,
    post_and_tribe,
    thread_context,
    thread_url,
    tribe_by_slug,
    viewer_of,
)
from cookout.platform.web.base import page, require_member, run_command, see_other, session_of, signed_in_id
from cookout.platform.web.forms import form_command
from cookout.projections.activity import MemberActivity
from cookout.projections.feed import TribeFeed
from cookout.projections.members import MemberDirectory
from cookout.projections.moderation import ModerationQueue
from cookout.projections.thread import ThreadTree, may_see_post

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
POST_PAGES = (ThreadTree, TribeFeed, ModerationQueue, MemberActivity)
HistoryPage = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]


@get("/t/{slug:str}/posts/new", sync_to_thread=True)
def new_post(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str]) -> Template:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    if tribe["role"] is None:
        raise Forbidden(f"Join {tribe['name']} to post.")
    return page("posts/form.html", tribe=tribe, post=None, form={}, errors={})


@post("/t/{slug:str}/posts", sync_to_thread=True)
def publish(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
            data: Form) -> Template | Redirect:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    form = {"title": data.get("title", ""), "body": data.get("body", "")}
    post_id = form_command(request, container.threads.publish_post, tribe["id"], form["title"], form["body"],
                           projections=POST_PAGES, template="posts/form.html",
                           context={"tribe": tribe, "post": None, "form": form}, field=None)
    return see_other(f"/p/{post_id}", request, "Your post is up.")


@get("/p/{post_id:uuid}", sync_to_thread=True)
def show(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID],
         number: PageNumber = 1) -> Template:
    return post_page(request, container, *post_and_tribe(request, container, post_id), number=number)


@get("/p/{post_id:uuid}/comments", sync_to_thread=True)
def more_comments(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID],
                  number: PageNumber = 1) -> Template | Redirect:
    """The next page of a thread's comments, for htmx to put in place of its "More comments" link; a plain
    request goes to the post's page of that number."""
    if not request.htmx:
        return see_other(f"{thread_url(post_id, number)}#thread")
    post, tribe = post_and_tribe(request, container, post_id)
    return page("comments/_page.html", **thread_context(request, container, post, tribe, number))


def post_page(request: HTMXRequest, container: Container, post: dict[str, Any], tribe: dict[str, Any],
              status: int = 200, hide_form: dict[str, str] | None = None,
              hide_errors: dict[str, str] | None = None, number: int = 1) -> Template:
    viewer = signed_in_id(request)
    context = thread_context(request, container, post, tribe, number)
    author = context["people"].get(post["author_id"])
    me = container.view(MemberDirectory).by_id(viewer) if viewer else None
    subscribed = me is not None and container.threads.is_subscribed(post["id"], me["email"])
    guest = session_of(request).get("guest", {})
    return page("posts/show.html", status_code=status, **context, author=author, me=me, subscribed=subscribed,
                form={"name": guest.get("name", ""), "email": guest.get("email", ""),
                      "website": guest.get("website", "")}, errors={},
                hide_form=hide_form or {}, hide_errors=hide_errors or {})


@get("/p/{post_id:uuid}/edit", sync_to_thread=True)
def edit_form(request: HTMXRequest, container: NamedDependency[Container],
              post_id: FromPath[UUID]) -> Template:
    post, tribe = own_post(request, container, post_id)
    return page("posts/form.html", tribe=tribe, post=post, form={"title": post["title"], "body": post["body"]},
                errors={})


@post("/p/{post_id:uuid}/edit", sync_to_thread=True)
def edit(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    post, tribe = own_post(request, container, post_id)
    form = {"title": data.get("title", ""), "body": data.get("body", "")}
    changed = form_command(request, container.threads.edit_post, post_id, form["title"], form["body"],
                           projections=POST_PAGES, template="posts/form.html",
                           context={"tribe": tribe, "post": post, "form": form}, field=None)
    return see_other(f"/p/{post_id}", request, SAVED if changed else UNCHANGED)


@get("/p/{post_id:uuid}/retract", sync_to_thread=True)
def confirm_retract(request: HTMXRequest, container: NamedDependency[Container],
                    post_id: FromPath[UUID]) -> Template | Redirect:
    """Without JavaScript the Retract button comes here to ask first; with it, htmx asks (hx-confirm)."""
    post, tribe = own_post(request, container, post_id)
    if post["retracted"]:
        return see_other(f"/p/{post_id}", request, "This post is already retracted.")
    return page("conversation/retract.html", subject="post", post=post, tribe=tribe,
                question="Retract this post?", consequence="Its comments stay, and a tombstone keeps their place.",
                preview=post["title"], action=f"/p/{post_id}/retract", back=f"/p/{post_id}")


@post("/p/{post_id:uuid}/retract", sync_to_thread=True)
def retract(request: HTMXRequest, container: NamedDependency[Container],
            post_id: FromPath[UUID]) -> Redirect:
    own_post(request, container, post_id)
    run_command(request, container.threads.retract_post, post_id, projections=POST_PAGES)
    return see_other(f"/p/{post_id}", request, "Your post is retracted. Its replies keep their place.")


@get("/p/{post_id:uuid}/history", sync_to_thread=True)
def post_history(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID],
                 number: HistoryPage = 1) -> Template:
    post, tribe = post_and_tribe(request, container, post_id)
    if not may_see_post(post, viewer_of(request, tribe)):
        raise NotFoundException("This post's history is no longer shown.")
    return page("conversation/history.html", subject="post", post=post, tribe=tribe,
                **history_page(container, post_id, number), here=f"/p/{post_id}/history", back=f"/p/{post_id}")


@post("/p/{post_id:uuid}/hide", sync_to_thread=True)
def hide(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    post, tribe = moderated_post(request, container, post_id)
    form = {"reason": data.get("reason", "")}
    form_command(request, container.moderation.hide_post, post_id, form["reason"], projections=POST_PAGES,
                 render=lambda errors: post_page(request, container, post, tribe, 422, form, errors), field=None)
    return see_other(f"/p/{post_id}", request, "Hidden. Its author and the moderators still see it, with your reason.")


@post("/p/{post_id:uuid}/unhide", sync_to_thread=True)
def unhide(request: HTMXRequest, container: NamedDependency[Container], post_id: FromPath[UUID]) -> Redirect:
    moderated_post(request, container, post_id)
    run_command(request, container.moderation.unhide_post, post_id, projections=POST_PAGES)
    return see_other(f"/p/{post_id}", request, "Shown again: everyone can read it.")


@post("/p/{post_id:uuid}/subscribe", sync_to_thread=True)
def subscribe(request: HTMXRequest, container: NamedDependency[Container],
              post_id: FromPath[UUID]) -> Redirect:
    email = own_email(request, container, post_id)
    run_command(request, container.threads.subscribe, post_id, email, projections=())
    return see_other(f"/p/{post_id}", request, f"We will email {email} about new comments.")


@post("/p/{post_id:uuid}/unsubscribe", sync_to_thread=True)
def unsubscribe(request: HTMXRequest, container: NamedDependency[Container],
                post_id: FromPath[UUID]) -> Redirect:
    email = own_email(request, container, post_id)
    run_command(request, container.threads.unsubscribe, post_id, email, projections=())
    return see_other(f"/p/{post_id}", request, "No more emails about this post's comments.")


def moderated_post(request: HTMXRequest, container: Container,
                   post_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    require_member(request)
    post, tribe = post_and_tribe(request, container, post_id)
    if not tribe["moderator"]:
        raise Forbidden(f"Only the moderators of {tribe['name']} can do that.")
    return post, tribe


def own_email(request: HTMXRequest, container: Container, post_id: UUID) -> str:
    """The signed-in member's address from the directory, once they may read the post."""
    member = require_member(request)
    post_and_tribe(request, container, post_id)
    me = container.view(MemberDirectory).by_id(member)
    if me is None:
        raise NotFoundException("No such member.")
    return str(me["email"])


def own_post(request: HTMXRequest, container: Container,
             post_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    member = require_member(request)
    post, tribe = post_and_tribe(request, container, post_id)
    if post["author_id"] != member:
        raise Forbidden("Only its author can change a post.")
    return post, tribe


ROUTES = [new_post, publish, show, more_comments, edit_form, edit, confirm_retract, retract, post_history, hide, unhide, subscribe, unsubscribe]
