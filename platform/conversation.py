"""What the conversation pages share: finding the tribe, post or comment a viewer may read, the people
named on a page, the thread as one viewer sees it, and answering htmx and plain requests alike.

Pages read only the projections; a members-only tribe's content is "not found" for outsiders.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from cookout.domain.comments import MAX_DEPTH
from cookout.domain.conversation import Conversation
from cookout.domain.tribes import MODERATOR, ORGANISER, PUBLIC
from cookout.platform.markdown import render
from cookout.platform.web import page, runtime_of, session_of, signed_in_id
from cookout.projections.activity import COMMENT, POST, REPLY, MemberActivity
from cookout.projections.members import MemberDirectory
from cookout.projections.thread import Node, ThreadTree, arrange, container_of, visible_count
from cookout.projections.tribes import TribeDirectory

HELD_KEEP = 20  # held comment ids a guest's session remembers


def conversation(request: Request[Any, Any, Any]) -> Conversation:
    return runtime_of(request).service(Conversation)


def readable(request: Request[Any, Any, Any], tribe: dict[str, Any] | None, what: str = "tribe") -> dict[str, Any]:
    """The tribe with the viewer's role in it; outsiders of a members-only tribe get 404."""
    role = runtime_of(request).view(TribeDirectory).role_of(tribe["id"], signed_in_id(request)) if tribe else None
    if tribe is None or (tribe["visibility"] != PUBLIC and role is None):
        raise NotFoundException(f"No such {what}.")
    return {**tribe, "role": role, "moderator": role in (ORGANISER, MODERATOR)}


def tribe_by_slug(request: Request[Any, Any, Any], slug: str) -> dict[str, Any]:
    return readable(request, runtime_of(request).view(TribeDirectory).by_slug(slug))


def post_and_tribe(request: Request[Any, Any, Any], post_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    runtime = runtime_of(request)
    post = runtime.view(ThreadTree).post(post_id)
    if post is None:
        raise NotFoundException("No such post.")
    return post, readable(request, runtime.view(TribeDirectory).by_id(post["tribe_id"]), "post")


def comment_post_and_tribe(
    request: Request[Any, Any, Any], comment_id: UUID
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    comment = runtime_of(request).view(ThreadTree).comment(comment_id)
    if comment is None:
        raise NotFoundException("No such comment.")
    try:
        post, tribe = post_and_tribe(request, comment["post_id"])
    except NotFoundException:
        raise NotFoundException("No such comment.") from None
    return comment, post, tribe


def people(request: Request[Any, Any, Any], ids: set[Any]) -> dict[Any, dict[str, Any]]:
    found = runtime_of(request).view(MemberDirectory).by_ids([i for i in ids if i]) if ids else []
    return {person["id"]: person for person in found}


def held_comments(request: Request[Any, Any, Any]) -> set[UUID]:
    return {UUID(value) for value in session_of(request).get("held", [])}


def remember_held(request: Request[Any, Any, Any], comment_id: UUID) -> None:
    """A guest's held comment shows in their own browser only, through the session."""
    held = [str(comment_id), *session_of(request).get("held", [])][:HELD_KEEP]
    request.session["held"] = held


def thread_context(request: Request[Any, Any, Any], post: dict[str, Any], tribe: dict[str, Any]) -> dict[str, Any]:
    """Everything the thread partials need to show one post's comments to this viewer."""
    rows = runtime_of(request).view(ThreadTree).comments(post["id"])
    viewer = signed_in_id(request)
    return {
        **card_context(request, post, tribe, rows),
        "nodes": arrange(rows, viewer, held_comments(request)),
        "count": visible_count(rows),
    }


def card_context(request: Request[Any, Any, Any], post: dict[str, Any], tribe: dict[str, Any],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:
    viewer = signed_in_id(request)
    authors = {post["author_id"], *(row["author_id"] for row in rows)}
    return {
        "post": post,
        "tribe": tribe,
        "viewer_id": viewer,
        "people": people(request, authors),
        "liked_ids": runtime_of(request).view(ThreadTree).liked_by(viewer, [post["id"], *(r["id"] for r in rows)]),
    }


def single_node(request: Request[Any, Any, Any], comment: dict[str, Any], post: dict[str, Any],
                tribe: dict[str, Any]) -> dict[str, Any]:
    """The context to render one comment on its own: after an edit, a like, or a new reply."""
    thread = runtime_of(request).view(ThreadTree)
    parent = thread.comment(comment["parent_id"]) if comment["parent_id"] else None
    node = Node(comment, shown=True)
    if parent is not None and comment["depth"] == MAX_DEPTH and parent["depth"] == MAX_DEPTH:
        node.answers = parent
    rows = [comment, *([parent] if parent else [])]
    return {**card_context(request, post, tribe, rows), "node": node}


def reply_container(request: Request[Any, Any, Any], parent: dict[str, Any] | None) -> str:
    """The id of the list a reply to `parent` is added to: below the parent, or beside it at the deepest level."""
    if parent is None:
        return "replies-top"
    if parent["depth"] < MAX_DEPTH:
        return f"replies-{parent['id']}"
    rows = runtime_of(request).view(ThreadTree).comments(parent["post_id"])
    owner = container_of(parent, {row["id"]: row for row in rows})
    return f"replies-{owner}" if owner else "replies-top"


def partial_or_page(request: Request[Any, Any, Any], partial: str, full: str, status: int = 200,
                    retarget: str | None = None, **context: Any) -> Template:
    """htmx gets the partial (swapped where `retarget` says, when given); a plain request the full page.

    An htmx answer to a failed form is a 200 telling htmx to put the form back in place, since htmx
    swaps no 4xx by default."""
    if request.htmx:  # type: ignore[attr-defined]
        headers = {"HX-Retarget": f"#{retarget}", "HX-Reswap": "outerHTML"} if retarget else {}
        return Template(template_name=partial, context=context, headers=headers)
    return page(full, status_code=status, **context)


def member_activity(request: Request[Any, Any, Any], member_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """For a profile: what the member wrote and the replies they received, in tribes the viewer may read."""
    runtime = runtime_of(request)
    readable_tribes = runtime.view(TribeDirectory).tribe_ids_of(signed_in_id(request))
    activity = runtime.view(MemberActivity)
    found = {kind: activity.of_member(member_id, kind, readable_tribes) for kind in (POST, COMMENT, REPLY)}
    repliers = people(request, {row["author_id"] for row in found[REPLY]})
    for row in found[REPLY]:
        row["author"] = repliers.get(row["author_id"])
    return {"posts": found[POST], "comments": found[COMMENT], "replies": found[REPLY]}


def history(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version with what changed since the one before, newest first, for the history pages."""
    entries = []
    previous: dict[str, Any] | None = None
    for version in versions:
        entries.append({
            **version,
            "html": render(version["body"]),
            "title_changes": (changes(previous["title"], version["title"])
                              if previous and previous["title"] != version["title"] else []),
            "changes": changes(previous["body"], version["body"]) if previous else [],
        })
        previous = version
    return entries[::-1]


def changes(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level diff as (kind, text) pieces, kind one of same, removed, added; templates escape the text."""
    before, after = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    pieces: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", "".join(before[i1:i2])))
        if j2 > j1:
            pieces.append(("added", "".join(after[j1:j2])))
    return pieces
