"""Meetups and conferences: scheduling, revising, cancelling, inviting, and the meetup page."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Response, Template

from cookout.domain.errors import Forbidden, InvalidInput
from cookout.domain.meetings import ORGANISER
from cookout.domain.schedule import format_local
from cookout.platform.container import Container
from cookout.projections.markdown import render
from cookout.platform.web.base import page, require_member, see_other, signed_in_id, viewer_zone
from cookout.platform.web.calendar_links import add_links
from cookout.platform.web.privacy import letters_without_addresses
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.platform.web.calendars import meetup_calendar
from cookout.platform.web.forms import form_command
from cookout.platform.web.meetup_common import (
    Form, HELPERS, MEETUPS, PAGE_ERRORS, local, meetup_context, meetup_id_of, organised_meetup,
    readable_meetup, readable_tribe, where,
)


MEETUP_FIELDS = (
    "title", "description", "starts_at", "ends_at", "timezone",
    "venue", "address", "online_url", "capacity", "rsvp_deadline",
)  # fmt: skip


COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Stockholm",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Sao_Paulo", "Africa/Lagos", "Africa/Nairobi", "Asia/Kolkata", "Asia/Singapore",
    "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip


def meetup_form(data: dict[str, str]) -> dict[str, str]:
    return {name: data.get(name, "") for name in MEETUP_FIELDS}


def parse_capacity(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput("The capacity must be a whole number of at least 1.", field="capacity") from None


def meetup_arguments(form: dict[str, str]) -> dict[str, Any]:
    return {**form, "capacity": parse_capacity(form["capacity"])}


def form_page(template: str, status_code: int = 200, **context: Any) -> Template:
    return page(template, status_code=status_code, zones=COMMON_ZONES, **context)


@get("/t/{slug:str}/meetups", sync_to_thread=True)
def tribe_meetups(request: HTMXRequest, container: NamedDependency[Container],
                  slug: FromPath[str]) -> Template:
    tribe, role = readable_tribe(request, container, slug)
    view, now = container.view(Meetups), container.clock()
    return page(
        "meetups/list.html",
        tribe=tribe,
        role=role,
        upcoming=view.of_tribe(tribe["id"], now, upcoming=True),
        past=view.of_tribe(tribe["id"], now, upcoming=False),
        **HELPERS,
    )


@get("/t/{slug:str}/meetups/new", sync_to_thread=True)
def new_meetup(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str]) -> Template:
    require_member(request)
    tribe, role = readable_tribe(request, container, slug)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can schedule meetups.")
    # The organiser's own zone; without one, UTC, which times.js replaces with the browser's zone.
    chosen = viewer_zone(request)
    return form_page("meetups/new.html", tribe=tribe, form={"timezone": chosen or "UTC"}, errors={},
                     zone_from_browser=chosen is None)


@post("/t/{slug:str}/meetups", sync_to_thread=True)
def schedule_meetup(request: HTMXRequest, container: NamedDependency[Container], slug: FromPath[str],
                    data: Form) -> Template | Redirect:
    require_member(request)
    tribe, role = readable_tribe(request, container, slug)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can schedule meetups.")
    meetings = container.meetings
    form = meetup_form(data)
    meetup_id = form_command(
        # The capacity is parsed inside the command, so that a bad one comes back on the form too.
        request, lambda: meetings.schedule(tribe["id"], **meetup_arguments(form)), projections=MEETUPS,
        render=lambda errors: form_page("meetups/new.html", 422, tribe=tribe, form=form, errors=errors),
        raises=PAGE_ERRORS,
    )
    return see_other(f"/m/{meetup_id}", request, "Your meetup is scheduled. Invite people when you're ready.")


@get("/m/{meetup_id:uuid}/edit", sync_to_thread=True)
def edit_meetup_form(request: HTMXRequest, container: NamedDependency[Container],
                     meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    tz = meetup["timezone"]
    form = {
        **{name: meetup[name] for name in ("title", "description", "venue", "address", "online_url")},
        "starts_at": format_local(meetup["starts_at"], tz),
        "ends_at": format_local(meetup["ends_at"], tz),
        "timezone": tz,
        "capacity": "" if meetup["capacity"] is None else str(meetup["capacity"]),
        "rsvp_deadline": format_local(meetup["rsvp_deadline"], tz) if meetup["rsvp_deadline"] else "",
    }
    return form_page("meetups/edit.html", meetup=meetup, form=form, errors={})


@post("/m/{meetup_id:uuid}/edit", sync_to_thread=True)
def edit_meetup(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
                data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = meetup_form(data)
    form_command(
        request, lambda: meetings.revise(meetup_id, **meetup_arguments(form)), projections=MEETUPS,
        render=lambda errors: form_page("meetups/edit.html", 422, meetup=meetup, form=form, errors=errors),
        raises=PAGE_ERRORS,
    )
    return see_other(f"/m/{meetup_id}", request, "Saved. Everyone with this meetup in their calendar hears about a new time or place.")


@get("/m/{meetup_id:uuid}/cancel", sync_to_thread=True)
def cancel_meetup_form(request: HTMXRequest, container: NamedDependency[Container],
                       meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    return page("meetups/cancel.html", meetup=meetup, form={}, errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/cancel", sync_to_thread=True)
def cancel_meetup(request: HTMXRequest, container: NamedDependency[Container],
                  meetup_id: FromPath[UUID], data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = {"message": data.get("message", "")}
    form_command(request, meetings.cancel, meetup_id, message=form["message"], projections=MEETUPS,
                 template="meetups/cancel.html", context={"meetup": meetup, "form": form, **HELPERS},
                 raises=PAGE_ERRORS)
    return see_other(f"/m/{meetup_id}", request, "The meetup is cancelled. Everyone who had it is told.")


@get("/m/{meetup_id:uuid}/invite", sync_to_thread=True)
def invite_form(request: HTMXRequest, container: NamedDependency[Container],
                meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    return invite_page(container, meetup, {}, {})


def invite_page(container: Container, meetup: dict[str, Any], form: dict[str, str],
                errors: dict[str, str], status_code: int = 200) -> Template:
    view = container.view(Meetups)
    answered = {row["member_id"] for row in view.attendance(meetup["id"])}
    members = [m for m in view.tribe_members(meetup["tribe_id"]) if m["member_id"] not in answered]
    return page("meetups/invite.html", status_code=status_code, meetup=meetup, form=form, errors=errors,
                uninvited=members, **HELPERS)


@post("/m/{meetup_id:uuid}/invite", sync_to_thread=True)
def invite(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
           data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    form = {"members": data.get("members", ""), "everyone": data.get("everyone", "")}
    tribe = {m["member_id"]: m for m in container.view(Meetups).tribe_members(meetup["tribe_id"])}
    me = signed_in_id(request)
    if form["everyone"]:
        member_ids = [member_id for member_id in tribe if member_id != me]
    else:
        handles = [h.strip().lstrip("@").lower() for h in form["members"].split(",") if h.strip()]
        found = {row["handle"]: row["id"] for row in container.view(MemberDirectory).by_handles(handles)}
        strangers = [h for h in handles if found.get(h) not in tribe]
        if not handles:
            return invite_page(container, meetup, form, {"members": "Name someone, or tick “everyone”."}, 422)
        if strangers:
            listed = ", ".join(f"@{h}" for h in strangers)
            return invite_page(container, meetup, form, {"members": f"Not members of this tribe: {listed}."}, 422)
        member_ids = [found[h] for h in handles]
    meetings = container.meetings
    invited = form_command(request, meetings.invite, meetup_id, member_ids, projections=MEETUPS,
                           render=lambda errors: invite_page(container, meetup, form, errors, 422),
                           raises=PAGE_ERRORS)
    count = len(invited)
    message = (f"Invited {count} {'member' if count == 1 else 'members'}." if count
               else "Everyone you named already has an invitation or has answered.")
    return see_other(f"/m/{meetup_id}", request, message)


@get("/m/{ref:str}", sync_to_thread=True)
def meetup_page(request: HTMXRequest, container: NamedDependency[Container],
                ref: FromPath[str]) -> Template | Response[bytes]:
    if ref.endswith(".ics"):
        return meetup_calendar(request, container, meetup_id_of(ref, ".ics"))
    return show_meetup(request, container, meetup_id_of(ref))


def show_meetup(request: HTMXRequest, container: Container, meetup_id: UUID) -> Template:
    meetup, role = readable_meetup(request, container, meetup_id)
    me = signed_in_id(request)
    view = container.view(Meetups)
    context = meetup_context(request, container, meetup, role)
    sessions = view.sessions(meetup["id"], me)
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for session in sessions:
        days[local(session["starts_at"], meetup["timezone"], "%A %-d %B")].append(session)
    organiser = role == ORGANISER
    invitations = container.view(Invitations)
    return page(
        "meetups/show.html",
        **context,
        days=dict(days),
        description=render(meetup["description"]),
        calendar_links=add_links(context["meetup"], where(meetup, context["sees_online_link"]),
                                 f"{container.settings.base_url}/m/{meetup['id']}"),
        letters=organisers_letters(container, invitations.letters_of(meetup["id"])) if organiser else [],
        letter_counts=invitations.letter_counts(meetup["id"]) if organiser else {},
        **HELPERS,
    )


def organisers_letters(container: Container, letters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = list({UUID(letter["member_id"]) for letter in letters if letter["member_id"]})
    people = {str(person["id"]): person for person in container.view(MemberDirectory).by_ids(ids)}
    return letters_without_addresses(letters, people)


def upcoming_meetups(container: Container, tribe_id: UUID, limit: int = 5) -> list[dict[str, Any]]:
    """For the tribe page: the tribe's next meetups, with where they happen."""
    meetups = container.view(Meetups).of_tribe(tribe_id, container.clock(), upcoming=True, limit=limit)
    return [{**meetup, "where": where(meetup)} for meetup in meetups]


def met_in_real_life(request: HTMXRequest, container: Container, member_id: UUID) -> list[dict[str, Any]]:
    """The people a member met at meetups, each with the meetups where they met."""
    met: dict[str, dict[str, Any]] = {}
    own = signed_in_id(request) == member_id
    for row in container.view(Meetups).met_in_real_life(member_id, public_only=not own):
        person = met.setdefault(row["handle"], {"handle": row["handle"], "display_name": row["display_name"],
                                                "meetups": []})
        person["meetups"].append({**row, "when": local(row["starts_at"], row["timezone"], "%-d %B %Y")})
    return list(met.values())


ROUTES = [
    tribe_meetups, new_meetup, schedule_meetup, edit_meetup_form, edit_meetup, cancel_meetup_form, cancel_meetup, invite_form, invite, meetup_page,
]
