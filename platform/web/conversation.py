"""What the conversation pages share: finding the tribe, post or comment a viewer may read, the people
named on a page, the thread as one viewer sees it, and answering htmx and plain requests alike.

Pages read only the projections; a members-only tribe's content is "not found" for outsiders. What a
viewer may read of a post or comment is decided by `may_see_post` and `may_see_comment` (in the thread
projection), through `viewer_of`, on every page, partial and feed.
"""

from __future__ import annotations

from math import ceil
from typing import Any
from uuid import UUID


from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template

from cookout.domain.comments import MAX_DEPTH
from cookout.domain.tribes import MODERATOR, ORGANISER, PUBLIC
from cookout.projections.markdown import render
from cookout.platform.container import Container
from cookout.platform.web.base import page, session_of, signed_in_id
from cookout.projections.activity import COMMENT, POST, REPLY, MemberActivity
from cookout.projections.members import MemberDirectory
from cookout.projections.thread import (
    Node,
    ThreadTree,
    Viewer,
    arrange,
    container_of,
    may_see_comment,
    may_see_post,
)
from cookout.projections.tribes import TribeDirectory

HELD_KEEP = 20  # held comment ids a guest's session remembers
HISTORY_PAGE = 20  # versions on one page of an edit history
THREAD_PAGE = 50  # top-level comments on one page of a thread, each with all its replies
RETRACTED_POST, HIDDEN_POST = "Retracted post", "A hidden post"
SAVED = "Saved. The earlier version stays in the history."
UNCHANGED = "Nothing changed, so there is no new version."


def readable(tribe: dict[str, Any] | None, what: str = "tribe") -> dict[str, Any]:
    """The tribe, as read for one viewer, with their role in it; outsiders of a members-only tribe get 404."""
    role = tribe["viewer_role"] if tribe else None
    if tribe is None or (tribe["visibility"] != PUBLIC and role is None):
        raise NotFoundException(f"No such {what}.")
    return {**tribe, "role": role, "moderator": role in (ORGANISER, MODERATOR)}


def tribe_by_slug(request: HTMXRequest, container: Container, slug: str) -> dict[str, Any]:
    return readable(container.view(TribeDirectory).by_slug(slug, signed_in_id(request)))


def viewer_of(request: HTMXRequest, tribe: dict[str, Any]) -> Viewer:
    """Who is reading, as the visibility rules need to know them, in a tribe from `readable`."""
    return Viewer(signed_in_id(request), bool(tribe["moderator"]), frozenset(held_comments(request)))


def post_and_tribe(request: HTMXRequest, container: Container,
                   post_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """The post as this viewer may read it (a retracted or hidden one without its title and body)."""
    post = container.view(ThreadTree).post(post_id)
    if post is None:
        raise NotFoundException("No such post.")
    tribe = readable(container.view(TribeDirectory).by_id(post["tribe_id"], signed_in_id(request)), "post")
    return post_as_seen(post, viewer_of(request, tribe)), tribe


def post_as_seen(post: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    if may_see_post(post, viewer):
        return post
    title = RETRACTED_POST if post["retracted"] else HIDDEN_POST
    return {**post, "title": title, "body": "", "body_html": ""}


def comment_post_and_tribe(
    request: HTMXRequest, container: Container, comment_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    comment = container.view(ThreadTree).comment(comment_id)
    if comment is None:
        raise NotFoundException("No such comment.")
    try:
        post, tribe = post_and_tribe(request, container, comment["post_id"])
    except NotFoundException:
        raise NotFoundException("No such comment.") from None
    return comment, post, tribe


def seen_comment(
    request: HTMXRequest, container: Container, comment_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A comment this viewer may read, with its post and tribe; any other is "not found"."""
    comment, post, tribe = comment_post_and_tribe(request, container, comment_id)
    if not may_see_comment(comment, viewer_of(request, tribe)):
        raise NotFoundException("No such comment.")
    return comment, post, tribe


def people(container: Container, ids: set[Any]) -> dict[Any, dict[str, Any]]:
    found = container.view(MemberDirectory).by_ids([i for i in ids if i]) if ids else []
    return {person["id"]: person for person in found}


def held_comments(request: HTMXRequest) -> set[UUID]:
    return {UUID(value) for value in session_of(request).get("held", [])}


def remember_held(request: HTMXRequest, comment_id: UUID) -> None:
    """A guest's held comment shows in their own browser only, through the session."""
    held = [str(comment_id), *session_of(request).get("held", [])][:HELD_KEEP]
    request.session["held"] = held


def thread_context(request: HTMXRequest, container: Container, post: dict[str, Any],
                   tribe: dict[str, Any], number: int = 1) -> dict[str, Any]:
    """Everything the thread partials need to show one page of a post's comments to this viewer: its
    top-level comments with all their replies, and where the pages before and after it are. A page past
    the last is "not found"."""
    thread = container.view(ThreadTree)
    counts = thread.comment_counts(post["id"])
    pages = max(ceil(counts["top"] / THREAD_PAGE), 1)
    if number > pages:
        raise NotFoundException("The conversation has no such page.")
    rows = thread.comment_page(post["id"], THREAD_PAGE, (number - 1) * THREAD_PAGE)
    return {
        **card_context(request, container, post, tribe, rows),
        "nodes": arrange(rows, viewer_of(request, tribe)),
        "count": counts["visible"],
        "page_number": number,
        "pages": pages,
        "earlier": number - 1 if number > 1 else None,
        "later": number + 1 if number < pages else None,
    }


def thread_url(post_id: Any, number: int) -> str:
    return f"/p/{post_id}" if number == 1 else f"/p/{post_id}?page={number}"


def comment_url(container: Container, comment: dict[str, Any]) -> str:
    """Where a comment is read: the page of its thread that holds its top-level comment, opened at it."""
    number = container.view(ThreadTree).top_level_before(comment) // THREAD_PAGE + 1
    return f"{thread_url(comment['post_id'], number)}#c-{comment['id']}"


def card_context(request: HTMXRequest, container: Container, post: dict[str, Any], tribe: dict[str, Any],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    viewer = signed_in_id(request)
    authors = {post["author_id"], *(row["author_id"] for row in rows)}
    return {
        "post": post,
        "tribe": tribe,
        "viewer_id": viewer,
        "people": people(container, authors),
        "liked_ids": container.view(ThreadTree).liked_by(viewer, [post["id"], *(r["id"] for r in rows)]),
    }


def single_node(request: HTMXRequest, container: Container, comment: dict[str, Any], post: dict[str, Any],
                tribe: dict[str, Any]) -> dict[str, Any]:
    """The context to render one comment on its own: after an edit, a like, or a new reply."""
    thread = container.view(ThreadTree)
    parent = thread.comment(comment["parent_id"]) if comment["parent_id"] else None
    node = Node(comment, shown=may_see_comment(comment, viewer_of(request, tribe)))
    if parent is not None and comment["depth"] == MAX_DEPTH and parent["depth"] == MAX_DEPTH:
        node.answers = parent
    rows = [comment, *([parent] if parent else [])]
    return {**card_context(request, container, post, tribe, rows), "node": node}


def reply_container(container: Container, parent: dict[str, Any] | None) -> str:
    """The id of the list a reply to `parent` is added to: below the parent, or beside it at the deepest level."""
    if parent is None:
        return "replies-top"
    if parent["depth"] < MAX_DEPTH:
        return f"replies-{parent['id']}"
    rows = container.view(ThreadTree).comments_under(parent["root_id"])
    owner = container_of(parent, {row["id"]: row for row in rows})
    return f"replies-{owner}" if owner else "replies-top"


def partial_or_page(request: HTMXRequest, partial: str, full: str, status: int = 200,
                    retarget: str | None = None, **context: Any) -> Template:
    """htmx gets the partial (swapped where `retarget` says, when given); a plain request the full page.

    An htmx answer to a failed form is a 200 telling htmx to put the form back in place, since htmx
    swaps no 4xx by default."""
    if request.htmx:
        if retarget:
            return HTMXTemplate(template_name=partial, context=context, re_target=f"#{retarget}", re_swap="outerHTML")
        return Template(template_name=partial, context=context)
    return page(full, status_code=status, **context)


def member_activity(request: HTMXRequest, container: Container,
                    member_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """For a profile: what the member wrote and the replies they received, in tribes the viewer may read."""
    viewer = Viewer(signed_in_id(request))
    readable_tribes = container.view(TribeDirectory).tribe_ids_of(viewer.member_id)
    activity = container.view(MemberActivity)
    found = {kind: activity.of_member(member_id, kind, readable_tribes) for kind in (POST, COMMENT, REPLY)}
    for row in [*found[POST], *found[COMMENT], *found[REPLY]]:
        post = {"title": row["post_title"], "body": "", "body_html": "", "author_id": row["post_author_id"],
                "retracted": row["post_retracted"], "hidden_reason": row["post_hidden"]}
        row["post_title"] = post_as_seen(post, viewer)["title"]
    repliers = people(container, {row["author_id"] for row in found[REPLY]})
    for row in found[REPLY]:
        row["author"] = repliers.get(row["author_id"])
    return {"posts": found[POST], "comments": found[COMMENT], "replies": found[REPLY]}


def history_page(container: Container, target_id: UUID, number: int) -> dict[str, Any]:
    """One page of a post's or comment's versions, newest first, each with what changed since the one
    before (diffed once, when the edit was projected); a page past the last is "not found"."""
    thread = container.view(ThreadTree)
    total = thread.version_count(target_id)
    pages = max(ceil(total / HISTORY_PAGE), 1)
    if number > pages:
        raise NotFoundException("The history has no such page.")
    versions = thread.versions(target_id, HISTORY_PAGE, (number - 1) * HISTORY_PAGE)
    return {
        "versions": [{**version, "html": render(version["body"]), "changes": version["changes"] or [],
                      "title_changes": version["title_changes"] or []} for version in versions],
        "latest": total,
        "page_number": number,
        "newer": number - 1 if number > 1 else None,
        "older": number + 1 if number < pages else None,
    }
