"""Posts: writing one in a tribe, its page with the thread, editing with history, and retracting."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from cookout.domain.errors import DomainError, Forbidden
from cookout.platform.conversation import (
    conversation,
    history,
    post_and_tribe,
    thread_context,
    tribe_by_slug,
)
from cookout.platform.web import page, require_member, run_command, runtime_of, see_other, session_of, signed_in_id
from cookout.projections.activity import MemberActivity
from cookout.projections.feed import TribeFeed
from cookout.projections.members import MemberDirectory
from cookout.projections.moderation import ModerationQueue
from cookout.projections.thread import ThreadTree

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
POST_PAGES = (ThreadTree, TribeFeed, ModerationQueue, MemberActivity)


@get("/t/{slug:str}/posts/new", sync_to_thread=True)
def new_post(request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
    require_member(request)
    tribe = tribe_by_slug(request, slug)
    if tribe["role"] is None:
        raise Forbidden(f"Join {tribe['name']} to post.")
    return page("posts/form.html", tribe=tribe, post=None, form={}, errors={})


@post("/t/{slug:str}/posts", sync_to_thread=True)
def publish(request: Request[Any, Any, Any], slug: FromPath[str], data: Form) -> Template | Redirect:
    require_member(request)
    tribe = tribe_by_slug(request, slug)
    form = {"title": data.get("title", ""), "body": data.get("body", "")}
    try:
        post_id = run_command(request, conversation(request).publish_post, tribe["id"], form["title"], form["body"],
                              projections=POST_PAGES)
    except DomainError as error:
        if error.field is None:
            raise
        return page("posts/form.html", status_code=422, tribe=tribe, post=None, form=form,
                    errors={error.field: error.message})
    return see_other(f"/p/{post_id}", request, "Your post is up.")


@get("/p/{post_id:uuid}", sync_to_thread=True)
def show(request: Request[Any, Any, Any], post_id: FromPath[UUID]) -> Template:
    post, tribe = post_and_tribe(request, post_id)
    context = thread_context(request, post, tribe)
    author = context["people"].get(post["author_id"])
    viewer = signed_in_id(request)
    me = runtime_of(request).view(MemberDirectory).by_id(viewer) if viewer else None
    guest = session_of(request).get("guest", {})
    return page("posts/show.html", **context, author=author, me=me,
                form={"name": guest.get("name", ""), "email": guest.get("email", ""),
                      "website": guest.get("website", "")}, errors={})


@get("/p/{post_id:uuid}/edit", sync_to_thread=True)
def edit_form(request: Request[Any, Any, Any], post_id: FromPath[UUID]) -> Template:
    post, tribe = own_post(request, post_id)
    return page("posts/form.html", tribe=tribe, post=post, form={"title": post["title"], "body": post["body"]},
                errors={})


@post("/p/{post_id:uuid}/edit", sync_to_thread=True)
def edit(request: Request[Any, Any, Any], post_id: FromPath[UUID], data: Form) -> Template | Redirect:
    post, tribe = own_post(request, post_id)
    form = {"title": data.get("title", ""), "body": data.get("body", "")}
    try:
        run_command(request, conversation(request).edit_post, post_id, form["title"], form["body"],
                    projections=POST_PAGES)
    except DomainError as error:
        if error.field is None:
            raise
        return page("posts/form.html", status_code=422, tribe=tribe, post=post, form=form,
                    errors={error.field: error.message})
    return see_other(f"/p/{post_id}", request, "Saved. The earlier version stays in the history.")


@post("/p/{post_id:uuid}/retract", sync_to_thread=True)
def retract(request: Request[Any, Any, Any], post_id: FromPath[UUID]) -> Redirect:
    own_post(request, post_id)
    run_command(request, conversation(request).retract_post, post_id, projections=POST_PAGES)
    return see_other(f"/p/{post_id}", request, "Your post is retracted. Its replies keep their place.")


@get("/p/{post_id:uuid}/history", sync_to_thread=True)
def post_history(request: Request[Any, Any, Any], post_id: FromPath[UUID]) -> Template:
    post, tribe = post_and_tribe(request, post_id)
    if post["retracted"] or post["hidden_reason"]:
        raise NotFoundException("This post's history is no longer shown.")
    versions = history(runtime_of(request).view(ThreadTree).versions(post_id))
    return page("conversation/history.html", subject="post", post=post, tribe=tribe, versions=versions,
                back=f"/p/{post_id}")


def own_post(request: Request[Any, Any, Any], post_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    member = require_member(request)
    post, tribe = post_and_tribe(request, post_id)
    if post["author_id"] != member:
        raise Forbidden("Only its author can change a post.")
    return post, tribe


ROUTES = [new_post, publish, show, edit_form, edit, retract, post_history]
