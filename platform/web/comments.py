"""Comments: posting one or a reply (members and guests), editing with history, retracting, flagging, likes.

Every form works as a plain POST answered with 303, and through htmx, answered with the partial that
replaces or extends the page in place.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from limits import parse
from limits.strategies import MovingWindowRateLimiter
from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, QueryParameter
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.comments import PENDING
from cookout.domain.errors import Conflict, DomainError, Forbidden, NotAllowedNow
from cookout.platform.container import Container
from cookout.platform.web.conversation import (
    SAVED,
    THREAD_PAGE,
    UNCHANGED,
    comment_post_and_tribe,
    comment_url,
    history_page,
    partial_or_page,
    people,
    post_and_tribe,
    remember_held,
    reply_container,
    seen_comment,
    single_node,
    thread_url,
    viewer_of,
)
from cookout.platform.web.errors import DOMAIN_STATUS
from cookout.platform.web.ratelimits import client_ip
from cookout.platform.settings import Settings
from cookout.platform.web.base import page, require_member, run_command, see_other, session_of, signed_in_id
from cookout.platform.web.forms import form_command
from cookout.projections.activity import MemberActivity
from cookout.projections.feed import TribeFeed
from cookout.projections.members import MemberDirectory
from cookout.projections.moderation import ModerationQueue
from cookout.projections.thread import ThreadTree, is_visible, may_see_comment

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
COMMENT_FIELDS = ("body", "parent_id", "name", "email", "website", "notify")
# What the next page reads after a comment changes; the feed and profile follow on their own.
THREAD_PAGES = (ThreadTree,)
COMMENT_PAGES = (ThreadTree, TribeFeed, ModerationQueue, MemberActivity)
HELD = "Thanks! Your comment is awaiting moderation; only you can see it until a moderator approves it."
TOO_FAST = "You're commenting faster than Cookout allows. Take a breath and try again in a minute."
HistoryPage = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]


class CommentLimits:
    """Comments counted in a moving window: per member, and a guest's per email, per client address and per
    post, so rotating emails or addresses does not make a guest unlimited."""

    def __init__(self, settings: Settings, limiter: MovingWindowRateLimiter):
        self.limiter = limiter
        self.limit = parse(settings.comment_rate_limit)
        self.guest_per_ip = parse(settings.guest_comment_rate_limit_ip)
        self.guest_per_post = parse(settings.guest_comment_rate_limit_post)

    def allow(self, who: str) -> bool:
        """Counts one comment; False once `who` is over the limit."""
        return self.limiter.hit(self.limit, "comment", who)

    def allow_guest(self, email: str, ip: str, post_id: UUID) -> bool:
        """Counts one guest comment in each of its buckets, stopping at the first that is full."""
        return (self.limiter.hit(self.guest_per_post, "guest-comment-post", str(post_id))
                and self.limiter.hit(self.guest_per_ip, "guest-comment-ip", ip)
                and self.allow(email))


# It reads no view before the command (which checks the post, parent and tribe in the log itself), so a
# member can comment again at once, without waiting for the views to show the last comment.
@post("/p/{post_id:uuid}/comments", sync_to_thread=True, opt={"catch_up": False})
def add(request: HTMXRequest, container: NamedDependency[Container],
        comment_limits: NamedDependency[CommentLimits], post_id: FromPath[UUID],
        data: Form) -> Template | Redirect | ClientRedirect:
    # The command checks the post, the parent and the tribe itself; the views are read only to answer.
    form = {name: data.get(name, "") for name in COMMENT_FIELDS}
    member_id = signed_in_id(request)
    try:
        parent_id = UUID(form["parent_id"]) if form["parent_id"].strip() else None
    except ValueError:
        return refused(request, container, post_id, None, form, 404, "No such comment.")
    allowed = (comment_limits.allow(str(member_id)) if member_id
               else comment_limits.allow_guest(form["email"].strip().lower(), client_ip(request), post_id))
    if not allowed:
        return refused(request, container, post_id, parent_id, form, 429, TOO_FAST)
    me = member(request, container) if member_id and form["notify"] else None  # a member subscribes with their account's email
    try:
        comment_id = run_command(
            request, container.threads.post_comment, post_id, form["body"], parent_id,
            name=form["name"], email=me["email"] if me else form["email"],
            website=form["website"], notify=bool(form["notify"]), projections=COMMENT_PAGES,
            # A member's plain POST reads nothing after the command: the page it redirects to waits instead.
            wait=bool(request.htmx) or member_id is None,
        )
    except DomainError as error:
        return refused(request, container, post_id, parent_id, form, DOMAIN_STATUS.get(type(error), 400), error.message,
                       error.field)
    thread = container.view(ThreadTree)
    # Only a guest's comment can be held for moderation; a member's is up at once.
    comment = thread.comment(comment_id) if member_id is None or request.htmx else None
    held = comment is not None and comment["status"] == PENDING
    if member_id is None:
        request.session["guest"] = {name: form[name] for name in ("name", "email", "website")}
    if held:
        remember_held(request, comment_id)
    if not request.htmx:
        # A published comment needs no message: the page opens at it.
        return see_other(new_comment_url(container, post_id, comment_id, parent_id, comment), request,
                         HELD if held else None)
    if parent_id is None and data.get("later_pages"):
        # The page shows the thread only in part: a new comment goes at its end, on a page not loaded yet,
        # and added here it would show twice once that page is. Open its page instead, as without JavaScript.
        return ClientRedirect(new_comment_url(container, post_id, comment_id, None, comment))
    post, tribe = post_and_tribe(request, container, post_id)
    parent = thread.comment(parent_id) if parent_id else None
    guest = session_of(request).get("guest", {})
    return Template(
        template_name="comments/_posted.html",
        context={
            **single_node(request, container, comment, post, tribe),
            "count": thread.comment_counts(post_id)["visible"],
            "parent": parent,
            "container": reply_container(container, parent),
            "me": member(request, container),
            "form": {name: guest.get(name, "") for name in ("name", "email", "website")},
            "errors": {},
        },
    )


def new_comment_url(container: Container, post_id: UUID, comment_id: UUID, parent_id: UUID | None,
                    comment: dict[str, Any] | None) -> str:
    """Where a comment just posted is read, before the views may have it: under its parent's top-level
    comment, or after the last top-level one."""
    if comment is not None:
        return comment_url(container, comment)
    number = container.view(ThreadTree).top_level_before_new(post_id, comment_id, parent_id) // THREAD_PAGE + 1
    return f"{thread_url(post_id, number)}#c-{comment_id}"


def refused(request: HTMXRequest, container: Container, post_id: UUID, parent_id: UUID | None,
            form: dict[str, str], status: int, message: str, field: str | None = None) -> Template:
    """The comment form again, with the message and what was written (404 when the post is not readable)."""
    post, tribe = post_and_tribe(request, container, post_id)
    parent = container.view(ThreadTree).comment(parent_id) if parent_id else None
    if parent is not None and not may_see_comment(parent, viewer_of(request, tribe)):
        parent = None  # the form keeps the id the visitor sent, but shows nothing they may not read
    errors = {field or "form": message}
    return partial_or_page(
        request, "comments/_form.html", "comments/compose.html", status, retarget=f"comment-form-{parent_id or 'top'}",
        post=post, tribe=tribe, parent=parent, parent_id=parent_id, form=form, errors=errors,
        container=reply_container(container, parent), me=member(request, container),
        people=people(container, {parent["author_id"]} if parent else set()),
    )


def member(request: HTMXRequest, container: Container) -> dict[str, Any] | None:
    member_id = signed_in_id(request)
    return container.view(MemberDirectory).by_id(member_id) if member_id else None


@get("/c/{comment_id:uuid}", sync_to_thread=True)
def permalink(request: HTMXRequest, container: NamedDependency[Container],
              comment_id: FromPath[UUID]) -> Template | Redirect:
    comment, post, tribe = comment_post_and_tribe(request, container, comment_id)
    context = single_node(request, container, comment, post, tribe)
    # A retracted comment answers its tombstone; one this viewer may not read is not there for them.
    if not context["node"].shown and not comment["retracted"]:
        raise NotFoundException("No such comment.")
    if not request.htmx:
        return see_other(comment_url(container, comment))
    return Template(template_name="comments/_card.html", context=context)


@get("/c/{comment_id:uuid}/reply", sync_to_thread=True)
def reply_form(request: HTMXRequest, container: NamedDependency[Container],
               comment_id: FromPath[UUID]) -> Template:
    parent, post, tribe = seen_comment(request, container, comment_id)
    if not is_visible(parent):
        raise NotAllowedNow("You can't reply to this comment.")
    guest = session_of(request).get("guest", {})
    return partial_or_page(
        request, "comments/_form.html", "comments/compose.html",
        post=post, tribe=tribe, parent=parent, parent_id=parent["id"], container=reply_container(container, parent),
        me=member(request, container), people=people(container, {parent["author_id"]}), form={name: guest.get(name, "") for name in ("name", "email", "website")}, errors={},
    )


@get("/c/{comment_id:uuid}/edit", sync_to_thread=True)
def edit_form(request: HTMXRequest, container: NamedDependency[Container],
              comment_id: FromPath[UUID]) -> Template:
    comment, post, tribe = own_comment(request, container, comment_id)
    return partial_or_page(request, "comments/_edit.html", "comments/edit.html",
                           comment=comment, post=post, tribe=tribe, form={"body": comment["body"]}, errors={})


@post("/c/{comment_id:uuid}/edit", sync_to_thread=True)
def edit(request: HTMXRequest, container: NamedDependency[Container], comment_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    comment, post, tribe = own_comment(request, container, comment_id)
    form = {"body": data.get("body", "")}
    changed = form_command(request, container.threads.edit_comment, comment_id, form["body"], projections=COMMENT_PAGES,
                 render=lambda errors: partial_or_page(request, "comments/_edit.html", "comments/edit.html", 422,
                                                       comment=comment, post=post, tribe=tribe, form=form,
                                                       errors=errors),
                 field=None)
    if not request.htmx:
        return see_other(comment_url(container, comment), request, SAVED if changed else UNCHANGED)
    edited = container.view(ThreadTree).comment(comment_id)
    return Template(template_name="comments/_card.html", context=single_node(request, container, edited, post, tribe))


@get("/c/{comment_id:uuid}/retract", sync_to_thread=True)
def confirm_retract(request: HTMXRequest, container: NamedDependency[Container],
                    comment_id: FromPath[UUID]) -> Template | Redirect:
    """Without JavaScript the Retract button comes here to ask first; with it, htmx asks (hx-confirm)."""
    member_id = require_member(request)
    comment, post, _ = comment_post_and_tribe(request, container, comment_id)
    back = comment_url(container, comment)
    if comment["retracted"] and comment["author_id"] == member_id:  # a second tab, or the back button
        return see_other(back, request, "This comment is already retracted.")
    comment, post, tribe = own_comment(request, container, comment_id)
    return page("conversation/retract.html", subject="comment", post=post, tribe=tribe,
                question="Retract this comment?", consequence="Its replies stay, and a tombstone keeps their place.",
                preview=comment["body"], action=f"/c/{comment_id}/retract", back=back)


@post("/c/{comment_id:uuid}/retract", sync_to_thread=True)
def retract(request: HTMXRequest, container: NamedDependency[Container],
            comment_id: FromPath[UUID]) -> Redirect:
    _, post, _ = own_comment(request, container, comment_id)
    run_command(request, container.threads.retract_comment, comment_id, projections=COMMENT_PAGES)
    return see_other(f"/p/{post['id']}", request, "Your comment is retracted.")


@get("/c/{comment_id:uuid}/history", sync_to_thread=True)
def comment_history(request: HTMXRequest, container: NamedDependency[Container],
                    comment_id: FromPath[UUID], number: HistoryPage = 1) -> Template:
    comment, post, tribe = seen_comment(request, container, comment_id)
    return page("conversation/history.html", subject="comment", post=post, tribe=tribe,
                **history_page(container, comment_id, number), here=f"/c/{comment_id}/history",
                back=comment_url(container, comment))


@post("/c/{comment_id:uuid}/flag", sync_to_thread=True)
def flag(request: HTMXRequest, container: NamedDependency[Container], comment_id: FromPath[UUID],
         data: Form) -> Redirect:
    require_member(request)
    comment, _, _ = seen_comment(request, container, comment_id)
    back = comment_url(container, comment)
    try:
        run_command(request, container.moderation.flag_comment, comment_id, data.get("reason", ""),
                    projections=(ModerationQueue,))
    except Conflict as error:
        return see_other(back, request, error.message, "error")
    return see_other(back, request, "Thanks for telling us. The moderators will take a look.")


@post("/likes/{target_id:uuid}", sync_to_thread=True)
def like(request: HTMXRequest, container: NamedDependency[Container],
         target_id: FromPath[UUID]) -> Template | Redirect:
    require_member(request)
    thread = container.view(ThreadTree)
    comment = thread.comment(target_id)
    if comment is not None:
        comment, post, _ = seen_comment(request, container, target_id)
    else:
        post, _ = post_and_tribe(request, container, target_id)
    liked = run_command(request, container.reactions.toggle_like, target_id, projections=THREAD_PAGES)
    if not request.htmx:
        return see_other(comment_url(container, comment) if comment else f"/p/{post['id']}")
    target = thread.comment(target_id) or thread.post(target_id)
    return Template(template_name="comments/_like.html",
                    context={"target": target, "liked": liked, "viewer_id": signed_in_id(request)})


def own_comment(request: HTMXRequest, container: Container,
                comment_id: UUID) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    member_id = require_member(request)
    comment, post, tribe = seen_comment(request, container, comment_id)  # a retracted one is gone for its author too
    if comment["author_id"] != member_id:
        raise Forbidden("Only its author can change a comment.")
    return comment, post, tribe


ROUTES = [add, permalink, reply_form, edit_form, edit, confirm_retract, retract, comment_history, flag, like]
