"""Tribes: the directory, founding one, a tribe's page and feed, joining, leaving, and roles."""

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

from cookout.domain.errors import Conflict, DomainError, Forbidden, NotAllowedNow
from cookout.domain.text import INT8_MAX
from cookout.domain.tribes import ORGANISER, PUBLIC, ROLES
from cookout.platform.container import Container
from cookout.platform.web.conversation import partial_or_page, people, tribe_by_slug
from cookout.platform.web.base import page, require_member, run_command, see_other, signed_in_id
from cookout.platform.web.forms import form_command
from cookout.platform.web.meetups import upcoming_meetups
from cookout.projections.feed import PAGE_SIZE, TribeFeed
from cookout.projections.members import MemberDirectory
from cookout.projections.tribes import TribeDirectory

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
TRIBE_FIELDS = ("name", "slug", "nickname", "description", "visibility")
TRIBES_PAGE = 48  # tribes on one page of the directory
ROSTER_PAGE = 100  # members on one page of a tribe's roster
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=100_000)]


def paged(rows: list[dict[str, Any]], size: int, number: int) -> dict[str, Any]:
    """One page of rows read with one extra (which says there is a next page), and its neighbours' numbers."""
    return {"rows": rows[:size], "page_number": number, "earlier": number - 1 if number > 1 else None,
            "later": number + 1 if len(rows) > size else None}


@get("/tribes", sync_to_thread=True)
def directory(request: HTMXRequest, container: NamedDependency[Container], number: PageNumber = 1) -> Template:
    found = container.view(TribeDirectory).readable_by(signed_in_id(request), TRIBES_PAGE + 1,
                                                       (number - 1) * TRIBES_PAGE)
    if number > 1 and not found:
        raise NotFoundException("The directory has no such page.")
    listing = paged(found, TRIBES_PAGE, number)
    return page("tribes/index.html", tribes=listing.pop("rows"), **listing)


@get("/tribes/new", sync_to_thread=False)
def new_tribe(request: HTMXRequest) -> Template:
    require_member(request)
    return page("tribes/new.html", form={"visibility": PUBLIC}, errors={})


@post("/tribes", sync_to_thread=True)
def found(request: HTMXRequest, container: NamedDependency[Container], data: Form) -> Template | Redirect:
    require_member(request)
    form = {name: data.get(name, "") for name in TRIBE_FIELDS}
    form_command(
        request, container.tribes.found_tribe,
        form["name"], form["slug"], form["description"], form["nickname"], form["visibility"],
        projections=(TribeDirectory,), template="tribes/new.html", context={"form": form},
    )
    slug = form["slug"].strip().lower()
    return see_other(f"/t/{slug}", request, f"{form['name'].strip()} is founded. Invite your people!")


@get("/t/{slug:str}", sync_to_thread=True)
def show(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
         before: Annotated[int | None, QueryParameter(ge=0, le=INT8_MAX)] = None) -> Template:
    tribe = tribe_by_slug(request, container, slug)
    feed = container.view(TribeFeed)
    rows = feed.front_page(tribe["id"], before, PAGE_SIZE + 1)
    posts, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    context = {
        "tribe": tribe,
        "posts": posts,
        "more": more,
        "before": before,
        "people": {p["author_id"]: {"handle": p["author_handle"], "display_name": p["author_display_name"]}
                   for p in posts if p["author_handle"]},
    }
    if not request.htmx:  # the whole page; htmx asks only for the next posts, in place of "load more"
        context.update(
            # Each post read carries the tribe's count; only a page past the last post counts them again.
            post_count=rows[0]["post_count"] if rows else feed.post_count(tribe["id"]) if before else 0,
            sole_organiser=sole_organiser(tribe),
            next_meetups=upcoming_meetups(container, tribe["id"]),
        )
    return partial_or_page(request, "tribes/_feed.html", "tribes/show.html", **context)


@get("/t/{slug:str}/edit", sync_to_thread=True)
def edit_form(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str]) -> Template:
    tribe = organised_tribe(request, container, slug)
    form = {name: tribe[name] for name in TRIBE_FIELDS}
    return page("tribes/new.html", tribe=tribe, form=form, errors={})


@post("/t/{slug:str}/edit", sync_to_thread=True)
def revise(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
           data: Form) -> Template | Redirect:
    tribe = organised_tribe(request, container, slug)
    form = {name: data.get(name, "") for name in TRIBE_FIELDS if name != "slug"}
    form_command(
        request, container.tribes.revise_tribe,
        tribe["id"], form["name"], form["description"], form["nickname"], form["visibility"],
        projections=(TribeDirectory,), template="tribes/new.html", context={"tribe": tribe, "form": form},
        field=None,
    )
    return see_other(f"/t/{tribe['slug']}", request, f"Saved. The address stays /t/{tribe['slug']}.")


def organised_tribe(request: HTMXRequest, container: Container, slug: str) -> dict[str, Any]:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    if tribe["role"] != ORGANISER:
        raise Forbidden(f"Only the organisers of {tribe['name']} can do that.")
    return tribe


@post("/t/{slug:str}/join", sync_to_thread=True)
def join(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str]) -> Redirect:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    run_command(request, container.tribes.join_tribe, tribe["id"], projections=(TribeDirectory,))
    return see_other(f"/t/{slug}", request, f"Welcome to {tribe['name']}! You are one of the {tribe['nickname']} now.")


def sole_organiser(tribe: dict[str, Any]) -> bool:
    """Whether the viewer is the tribe's only organiser, who can't leave until someone else is one."""
    return tribe["role"] == ORGANISER and tribe["organiser_count"] == 1


@post("/t/{slug:str}/leave", sync_to_thread=True)
def leave(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str]) -> Template | Redirect:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    try:
        run_command(request, container.tribes.leave_tribe, tribe["id"], projections=(TribeDirectory,))
    except NotAllowedNow:
        if not sole_organiser(tribe):
            raise
        return page("tribes/sole_organiser.html", status_code=409, tribe=tribe)
    destination = f"/t/{slug}" if tribe["visibility"] == PUBLIC else "/tribes"
    return see_other(destination, request, f"You left {tribe['name']}.")


@get("/t/{slug:str}/members", sync_to_thread=True)
def members(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
            number: PageNumber = 1) -> Template:
    return members_page(request, container, tribe_by_slug(request, container, slug), number=number)


def members_page(request: HTMXRequest, container: Container, tribe: dict[str, Any], status: int = 200,
                 errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                 number: int = 1) -> Template:
    found = container.view(TribeDirectory).members(tribe["id"], ROSTER_PAGE + 1, (number - 1) * ROSTER_PAGE)
    if number > 1 and not found:
        raise NotFoundException("The roster has no such page.")
    listing = paged(found, ROSTER_PAGE, number)
    roster = listing.pop("rows")
    named = people(container, {row["member_id"] for row in roster})
    return page(
        "tribes/members.html", status_code=status, tribe=tribe, roles=ROLES, errors=errors or {}, form=form or {},
        roster=[{**row, "person": named.get(row["member_id"])} for row in roster],
        organiser=tribe["role"] == ORGANISER, **listing,
    )


@post("/t/{slug:str}/roles", sync_to_thread=True)
def grant(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
          data: Form) -> Template | Redirect:
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    try:
        member_id = UUID(data.get("member_id", ""))
        run_command(request, container.tribes.grant_role, tribe["id"], member_id, data.get("role", ""),
                    projections=(TribeDirectory,))
    except ValueError:
        return members_page(request, container, tribe, 422, {"role": "Choose someone from the list."})
    except DomainError as error:
        if error.field != "role":
            raise
        return members_page(request, container, tribe, 422, {"role": error.message})
    return see_other(f"/t/{slug}/members", request, "Role updated.")


@post("/t/{slug:str}/admit", sync_to_thread=True)
def admit(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
          data: Form) -> Template | Redirect:
    """Moderators bring people in by handle: the way into a members-only tribe."""
    require_member(request)
    tribe = tribe_by_slug(request, container, slug)
    handle = data.get("handle", "").strip().lstrip("@").lower()
    person = container.view(MemberDirectory).by_handle(handle) if handle else None
    if person is None:
        return members_page(request, container, tribe, 422, {"handle": f"Nobody here goes by @{handle}."}, {"handle": handle})
    try:
        run_command(request, container.tribes.admit_member, tribe["id"], person["id"],
                    projections=(TribeDirectory,))
    except Conflict as error:
        return members_page(request, container, tribe, 409, {"handle": error.message}, {"handle": handle})
    return see_other(f"/t/{slug}/members", request, f"{person['display_name']} is one of the {tribe['nickname']} now.")


ROUTES = [directory, new_tribe, found, show, edit_form, revise, join, leave, members, grant, admit]
