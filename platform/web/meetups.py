"""Meetups and conferences: scheduling, answering, agendas, invitations, check-in and calendars."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from limits import parse
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, TooManyRequestsException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from cookout.domain.base import current_actor, last_position
from cookout.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAllowedNow, NotFound
from cookout.domain.meetings import ORGANISER
from cookout.domain.meetups import CHECK_IN_CLOSES, CHECK_IN_OPENS, GOING, HOLDS_ENTRY, MAYBE, WAITLISTED
from cookout.domain.schedule import format_local, to_local
from cookout.platform.container import Container
from cookout.platform.web.headers import NO_STORE
from cookout.projections.markdown import render
from cookout.platform.links import read_cant_make_it_token
from cookout.platform.web.base import page, require_member, run_command, see_other, signed_in_id
from cookout.platform.web.calendar_links import add_links
from cookout.platform.web.privacy import letters_without_addresses, place_of, sees_online_link
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups, MeetupsView
from cookout.projections.members import MemberDirectory
from cookout.platform import ical
from cookout.platform.letters.invitations import organiser_address

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
MEETUP_FIELDS = (
    "title", "description", "starts_at", "ends_at", "timezone",
    "venue", "address", "online_url", "capacity", "rsvp_deadline",
)  # fmt: skip
SESSION_FIELDS = ("title", "starts_at", "ends_at", "room", "speaker")
MEETUPS = (Meetups,)
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Stockholm",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Sao_Paulo", "Africa/Lagos", "Africa/Nairobi", "Asia/Kolkata", "Asia/Singapore",
    "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip


# Reading what a visitor may see


def readable_tribe(request: Request[Any, Any, Any], container: Container,
                   slug: str) -> tuple[dict[str, Any], str | None]:
    """The tribe and the visitor's role in it; outsiders of a members-only tribe get a 404."""
    view = container.view(Meetups)
    tribe = view.tribe_by_slug(slug)
    role = view.role_of(tribe["id"], signed_in_id(request)) if tribe else None
    if tribe is None or (tribe["visibility"] != "public" and role is None):
        raise NotFoundException("No such tribe.")
    return tribe, role


def readable_meetup(request: Request[Any, Any, Any], container: Container,
                    meetup_id: UUID) -> tuple[dict[str, Any], str | None]:
    view = container.view(Meetups)
    meetup = view.meetup(meetup_id)
    role = view.role_of(meetup["tribe_id"], signed_in_id(request)) if meetup else None
    if meetup is None or (meetup["tribe_visibility"] != "public" and role is None):
        raise NotFoundException("No such meetup.")
    return meetup, role


def organised_meetup(request: Request[Any, Any, Any], container: Container, meetup_id: UUID) -> dict[str, Any]:
    require_member(request)
    meetup, role = readable_meetup(request, container, meetup_id)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can do this.")
    return meetup


def meetup_id_of(ref: str, suffix: str = "") -> UUID:
    text = ref.removesuffix(suffix) if suffix else ref
    try:
        return UUID(text)
    except ValueError:
        raise NotFoundException("No such meetup.") from None


def local(instant: datetime, timezone: str, pattern: str = "%a %-d %b %Y, %H:%M") -> str:
    return to_local(instant, timezone).strftime(pattern)


def when(meetup: dict[str, Any]) -> str:
    start = to_local(meetup["starts_at"], meetup["timezone"])
    end = to_local(meetup["ends_at"], meetup["timezone"])
    end_text = end.strftime("%H:%M" if end.date() == start.date() else "%a %-d %b %Y, %H:%M")
    return f"{start.strftime('%a %-d %b %Y, %H:%M')} – {end_text} ({meetup['timezone']})"


def where(meetup: dict[str, Any], with_link: bool = False) -> str:
    """Venue, address and whether it is online; the online link itself only `with_link`."""
    return ical.location_of(place_of(meetup, with_link))


HELPERS = {"local": local, "when": when, "where": where, "markdown": render}


# Forms


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


def form_errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, (Forbidden, NotFound)):
        raise error
    return {error.field or "form": error.message}


# Scheduling


@get("/t/{slug:str}/meetups", sync_to_thread=True)
def tribe_meetups(request: Request[Any, Any, Any], container: NamedDependency[Container],
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
def new_meetup(request: Request[Any, Any, Any], container: NamedDependency[Container], slug: FromPath[str]) -> Template:
    require_member(request)
    tribe, role = readable_tribe(request, container, slug)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can schedule meetups.")
    return form_page("meetups/new.html", tribe=tribe, form={"timezone": "Europe/Berlin"}, errors={})


@post("/t/{slug:str}/meetups", sync_to_thread=True)
def schedule_meetup(request: Request[Any, Any, Any], container: NamedDependency[Container], slug: FromPath[str],
                    data: Form) -> Template | Redirect:
    require_member(request)
    tribe, role = readable_tribe(request, container, slug)
    if role != ORGANISER:
        raise Forbidden("Only the tribe's organisers can schedule meetups.")
    meetings = container.meetings
    form = meetup_form(data)
    try:
        meetup_id = run_command(
            request, meetings.schedule, tribe["id"],
            **meetup_arguments(form), projections=MEETUPS,
        )
    except DomainError as error:
        return form_page("meetups/new.html", 422, tribe=tribe, form=form, errors=form_errors(error))
    return see_other(f"/m/{meetup_id}", request, "Your meetup is scheduled. Invite people when you're ready.")


@get("/m/{meetup_id:uuid}/edit", sync_to_thread=True)
def edit_meetup_form(request: Request[Any, Any, Any], container: NamedDependency[Container],
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
def edit_meetup(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = meetup_form(data)
    try:
        run_command(
            request, meetings.revise, meetup_id,
            **meetup_arguments(form), projections=MEETUPS,
        )
    except DomainError as error:
        return form_page("meetups/edit.html", 422, meetup=meetup, form=form, errors=form_errors(error))
    return see_other(f"/m/{meetup_id}", request, "Saved. Everyone with this meetup in their calendar hears about a new time or place.")


@get("/m/{meetup_id:uuid}/cancel", sync_to_thread=True)
def cancel_meetup_form(request: Request[Any, Any, Any], container: NamedDependency[Container],
                       meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    return page("meetups/cancel.html", meetup=meetup, form={}, errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/cancel", sync_to_thread=True)
def cancel_meetup(request: Request[Any, Any, Any], container: NamedDependency[Container],
                  meetup_id: FromPath[UUID], data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = {"message": data.get("message", "")}
    try:
        run_command(request, meetings.cancel, meetup_id, message=form["message"],
                    projections=MEETUPS)
    except DomainError as error:
        return page("meetups/cancel.html", status_code=422, meetup=meetup, form=form,
                    errors=form_errors(error), **HELPERS)
    return see_other(f"/m/{meetup_id}", request, "The meetup is cancelled. Everyone who had it is told.")


# Inviting


@get("/m/{meetup_id:uuid}/invite", sync_to_thread=True)
def invite_form(request: Request[Any, Any, Any], container: NamedDependency[Container],
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
def invite(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
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
    try:
        invited = run_command(request, meetings.invite, meetup_id, member_ids,
                              projections=MEETUPS)
    except DomainError as error:
        return invite_page(container, meetup, form, form_errors(error), 422)
    count = len(invited)
    message = (f"Invited {count} {'member' if count == 1 else 'members'}." if count
               else "Everyone you named already has an invitation or has answered.")
    return see_other(f"/m/{meetup_id}", request, message)


# The meetup page, and answering


@get("/m/{ref:str}", sync_to_thread=True)
def meetup_page(request: Request[Any, Any, Any], container: NamedDependency[Container],
                ref: FromPath[str]) -> Template | Response[bytes]:
    if ref.endswith(".ics"):
        return meetup_calendar(request, container, meetup_id_of(ref, ".ics"))
    meetup, role = readable_meetup(request, container, meetup_id_of(ref))
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


def meetup_context(request: Request[Any, Any, Any], container: Container, meetup: dict[str, Any],
                   role: str | None) -> dict[str, Any]:
    """What the page and its htmx parts share: the visitor, their answer, who's coming, check-in."""
    view, me = container.view(Meetups), signed_in_id(request)
    now = container.clock()
    attendance = view.attendance(meetup["id"])
    mine = view.state_of(meetup["id"], me)
    return {
        "meetup": view.meetup(meetup["id"]),
        "role": role,
        "me": me,
        "mine": mine,
        "organiser": role == ORGANISER,
        "sees_online_link": sees_online_link(role, mine["state"] if mine else None),
        "going": [a for a in attendance if a["state"] == GOING],
        "waitlisted": [a for a in attendance if a["state"] == WAITLISTED],
        "maybe": [a for a in attendance if a["state"] == MAYBE],
        "attendance": attendance,
        "over": now >= meetup["ends_at"],
        "answers_closed": meetup["rsvp_deadline"] is not None and now > meetup["rsvp_deadline"],
        "can_choose": bool(mine) and mine["state"] in (GOING, MAYBE, WAITLISTED) and not meetup["cancelled"],
        "check_in_open": check_in_open(meetup, now),
        "checked_in": any(a["member_id"] == me and a["checked_in"] for a in attendance),
    }


def check_in_open(meetup: dict[str, Any], now: datetime) -> bool:
    return (not meetup["cancelled"]
            and meetup["starts_at"] - CHECK_IN_OPENS <= now <= meetup["ends_at"] + CHECK_IN_CLOSES)


def partial_or_page(request: Request[Any, Any, Any], container: Container, meetup_id: UUID, partial: str,
                    error: DomainError | None = None, **extra: Any) -> Template | Redirect:
    """htmx gets the part of the page that changed; a plain form post goes back to the page."""
    if error is not None and not request.headers.get("hx-request"):
        raise error
    if request.headers.get("hx-request"):
        meetup, role = readable_meetup(request, container, meetup_id)
        context = meetup_context(request, container, meetup, role)
        return page(partial, **context, error=error.message if error else "", **extra, **HELPERS)
    return see_other(f"/m/{meetup_id}")


@post("/m/{meetup_id:uuid}/rsvp", sync_to_thread=True)
def rsvp(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
         data: Form) -> Template | Redirect:
    require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    try:
        run_command(request, meetings.answer, meetup_id, data.get("answer", ""),
                    projections=MEETUPS)
    except DomainError as error:
        return partial_or_page(request, container, meetup_id, "meetups/_rsvp.html", error)
    return partial_or_page(request, container, meetup_id, "meetups/_rsvp.html")


# The agenda


@get("/m/{meetup_id:uuid}/sessions/new", sync_to_thread=True)
def new_session(request: Request[Any, Any, Any], container: NamedDependency[Container],
                meetup_id: FromPath[UUID]) -> Template:
    meetup = organised_meetup(request, container, meetup_id)
    start = format_local(meetup["starts_at"], meetup["timezone"])
    return page("meetups/session_new.html", meetup=meetup, form={"starts_at": start, "ends_at": start},
                errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/sessions", sync_to_thread=True)
def add_session(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                data: Form) -> Template | Redirect:
    meetup = organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    form = {name: data.get(name, "") for name in SESSION_FIELDS}
    try:
        run_command(request, meetings.add_session, meetup_id, **form, projections=MEETUPS)
    except DomainError as error:
        return page("meetups/session_new.html", status_code=422, meetup=meetup, form=form,
                    errors=form_errors(error), **HELPERS)
    return see_other(f"/m/{meetup_id}#agenda", request, "The session is on the agenda.")


@get("/m/{meetup_id:uuid}/sessions/{ref:str}", sync_to_thread=True)
def session_calendar(request: Request[Any, Any, Any], container: NamedDependency[Container],
                     meetup_id: FromPath[UUID], ref: FromPath[str]) -> Response[bytes]:
    if not ref.endswith(".ics"):
        raise NotFoundException("No such session.")
    meetup, role = readable_meetup(request, container, meetup_id)
    session = container.view(Meetups).session(meetup_id_of(ref, ".ics"))
    if session is None or session["meetup_id"] != meetup_id:
        raise NotFoundException("No such session.")
    entry = session_entry(container, meetup, session, viewer_sees_link(request, container, meetup, role))
    return ics_response(container, [entry], f"session-{session['id']}.ics")


def organised_session(request: Request[Any, Any, Any], container: Container, meetup_id: UUID,
                      session_id: UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    meetup = organised_meetup(request, container, meetup_id)
    session = container.view(Meetups).session(session_id)
    if session is None or session["meetup_id"] != meetup_id:
        raise NotFoundException("No such session.")
    return meetup, session


@get("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/edit", sync_to_thread=True)
def edit_session_form(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                      session_id: FromPath[UUID]) -> Template:
    meetup, session = organised_session(request, container, meetup_id, session_id)
    form = {
        **{name: session[name] for name in ("title", "room", "speaker")},
        "starts_at": format_local(session["starts_at"], meetup["timezone"]),
        "ends_at": format_local(session["ends_at"], meetup["timezone"]),
    }
    return page("meetups/session_edit.html", meetup=meetup, session=session, form=form, errors={}, **HELPERS)


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/edit", sync_to_thread=True)
def edit_session(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                 session_id: FromPath[UUID], data: Form) -> Template | Redirect:
    meetup, session = organised_session(request, container, meetup_id, session_id)
    meetings = container.meetings
    form = {name: data.get(name, "") for name in SESSION_FIELDS}
    try:
        run_command(request, meetings.edit_session, meetup_id, session_id, **form,
                    projections=MEETUPS)
    except DomainError as error:
        return page("meetups/session_edit.html", status_code=422, meetup=meetup, session=session, form=form,
                    errors=form_errors(error), **HELPERS)
    return see_other(f"/m/{meetup_id}#agenda", request,
                     "Saved. Those attending the session hear about a new time or room.")


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/remove", sync_to_thread=True)
def remove_session(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                   session_id: FromPath[UUID]) -> Redirect:
    organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    run_command(request, meetings.remove_session, meetup_id, session_id, projections=MEETUPS)
    return see_other(f"/m/{meetup_id}#agenda", request, "The session is off the agenda; those who chose it are told.")


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/choose", sync_to_thread=True)
def choose_session(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                   session_id: FromPath[UUID]) -> Template | Redirect:
    return session_choice(request, container, meetup_id, session_id, chosen=True)


@post("/m/{meetup_id:uuid}/sessions/{session_id:uuid}/drop", sync_to_thread=True)
def drop_session(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
                 session_id: FromPath[UUID]) -> Template | Redirect:
    return session_choice(request, container, meetup_id, session_id, chosen=False)


def session_choice(request: Request[Any, Any, Any], container: Container, meetup_id: UUID, session_id: UUID,
                   chosen: bool) -> Template | Redirect:
    require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    command = meetings.choose_session if chosen else meetings.drop_session
    error = None
    try:
        run_command(request, command, meetup_id, session_id, projections=MEETUPS)
    except DomainError as failure:
        error = failure
    session = next((s for s in container.view(Meetups).sessions(meetup_id, signed_in_id(request))
                    if s["id"] == session_id), None)
    if session is None:
        raise NotFoundException("No such session.")
    return partial_or_page(request, container, meetup_id, "meetups/_session.html", error, session=session)


# Check-in


TOO_MANY_CODES = "Too many tries at the check-in code. Ask the organiser to check you in, or try again later."


def check_in_code_allowed(container: Container, meetup_id: UUID, member_id: UUID) -> bool:
    """Counts one try at a meetup's code; False once the member is over the limit at this meetup."""
    return container.limiter.hit(parse(container.settings.check_in_code_rate_limit), "check-in-code",
                                 str(meetup_id), str(member_id))


@post("/m/{meetup_id:uuid}/check-in", sync_to_thread=True)
def check_in(request: Request[Any, Any, Any], container: NamedDependency[Container], meetup_id: FromPath[UUID],
             data: Form) -> Template | Redirect:
    organised_meetup(request, container, meetup_id)
    meetings = container.meetings
    try:
        member_id = UUID(data.get("member_id", ""))
    except ValueError:
        raise InvalidInput("Choose who to check in.", field="member_id") from None

    try:
        run_command(request, meetings.check_in, meetup_id, member_id,
                    projections=MEETUPS)
    except DomainError as error:
        return partial_or_page(request, container, meetup_id, "meetups/_check_in.html", error)
    return partial_or_page(request, container, meetup_id, "meetups/_check_in.html")


@post("/m/{meetup_id:uuid}/check-in/code", sync_to_thread=True)
def check_in_with_code(request: Request[Any, Any, Any], container: NamedDependency[Container],
                       meetup_id: FromPath[UUID], data: Form) -> Template | Redirect:
    member_id = require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    if not check_in_code_allowed(container, meetup_id, member_id):
        if not request.headers.get("hx-request"):
            raise TooManyRequestsException(TOO_MANY_CODES)
        return partial_or_page(request, container, meetup_id, "meetups/_check_in.html", Conflict(TOO_MANY_CODES, field="code"))
    try:
        run_command(request, meetings.check_in_with_code, meetup_id,
                    data.get("code", ""), projections=MEETUPS)
    except DomainError as error:
        return partial_or_page(request, container, meetup_id, "meetups/_check_in.html", error)
    return partial_or_page(request, container, meetup_id, "meetups/_check_in.html")


# "Can't make it" links


@get("/rsvp/{token:str}", sync_to_thread=True, cache_control=NO_STORE)
def cant_make_it_page(container: NamedDependency[Container], token: FromPath[str]) -> Template:
    link = read_cant_make_it_token(container.settings, token)
    view = container.view(Meetups)
    meetup = view.meetup(link.meetup_id)
    if meetup is None:
        raise NotFoundException("No such meetup.")
    if container.clock() >= meetup["ends_at"]:
        return page("meetups/cant_make_it.html", status_code=410, meetup=meetup, token=token, over=True, **HELPERS)
    state = view.state_of(link.meetup_id, link.member_id)
    coming = bool(state) and state["state"] in (*HOLDS_ENTRY, WAITLISTED)
    waiting = any(a["state"] == WAITLISTED for a in view.attendance(link.meetup_id))
    return page("meetups/cant_make_it.html", meetup=meetup, token=token, coming=coming,
                seat_goes_on=coming and state["state"] == GOING and waiting, **HELPERS)


@post("/rsvp/{token:str}", sync_to_thread=True)
def cant_make_it(request: Request[Any, Any, Any], container: NamedDependency[Container],
                 token: FromPath[str]) -> Template | Redirect:
    link = read_cant_make_it_token(container.settings, token)
    meetup = container.view(Meetups).meetup(link.meetup_id)
    if meetup is None:
        raise NotFoundException("No such meetup.")
    if container.clock() >= meetup["ends_at"]:
        return page("meetups/cant_make_it.html", status_code=410, meetup=meetup, token=token, over=True, **HELPERS)
    meetings = container.meetings
    thanks = cant_make_it_thanks(container.view(Meetups), link.meetup_id, link.member_id)
    actor, position = current_actor.set(str(link.member_id)), last_position.set(None)
    try:
        meetings.cant_make_it(link.meetup_id, link.since)
        written = last_position.get()
    except NotAllowedNow as refused:
        return page("meetups/cant_make_it.html", status_code=409, meetup=meetup, token=token,
                    refused=refused.message, **HELPERS)
    finally:
        current_actor.reset(actor)
        last_position.reset(position)
    container.wait_for(written, MEETUPS)
    return see_other(f"/rsvp/{token}", request, thanks)


def cant_make_it_thanks(view: MeetupsView, meetup_id: UUID, member_id: UUID) -> str:
    """What withdrawing did, in words: a seat goes to someone only when someone was waiting."""
    state = view.state_of(meetup_id, member_id) or {}
    waiting = any(a["state"] == WAITLISTED for a in view.attendance(meetup_id))
    if state.get("state") == WAITLISTED:
        return "Thanks for letting us know. You're off the waitlist."
    if state.get("state") == GOING and waiting:
        return "Thanks for letting us know. Your seat went to the next person on the waitlist."
    return "Thanks for letting us know. You're down as not going, and the meetup leaves your calendar."


# Calendars


def meetup_entry(container: Container, meetup: dict[str, Any], with_link: bool) -> ical.Entry:
    return ical.Entry(
        uid=meetup["uid"],
        sequence=meetup["sequence"],
        title=meetup["title"],
        description=meetup["description"],
        starts_at=meetup["starts_at"],
        ends_at=meetup["ends_at"],
        timezone=meetup["timezone"],
        location=where(meetup, with_link),
        url=f"{container.settings.base_url}/m/{meetup['id']}",
        cancelled=meetup["cancelled"],
    )


def session_entry(container: Container, meetup: dict[str, Any], session: dict[str, Any],
                  with_link: bool) -> ical.Entry:
    about = f"{session['speaker']}\n\n" if session["speaker"] else ""
    return ical.Entry(
        uid=session["uid"],
        sequence=session["sequence"],
        title=f"{session['title']} ({meetup['title']})",
        description=f"{about}{meetup['title']}",
        starts_at=session["starts_at"],
        ends_at=session["ends_at"],
        timezone=meetup["timezone"],
        location=", ".join(part for part in (session["room"], where(meetup, with_link)) if part),
        url=f"{container.settings.base_url}/m/{meetup['id']}/sessions/{session['id']}.ics",
        cancelled=meetup["cancelled"],
    )


def ics_response(container: Container, entries: list[ical.Entry], filename: str,
                 name: str = "") -> Response[bytes]:
    text = ical.feed(entries, organiser=organiser_address(container.settings),
                     now=container.clock(), name=name)
    return Response(
        text.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-cache"},
    )


def viewer_sees_link(request: Request[Any, Any, Any], container: Container, meetup: dict[str, Any],
                     role: str | None) -> bool:
    mine = container.view(Meetups).state_of(meetup["id"], signed_in_id(request))
    return sees_online_link(role, mine["state"] if mine else None)


def meetup_calendar(request: Request[Any, Any, Any], container: Container, meetup_id: UUID) -> Response[bytes]:
    meetup, role = readable_meetup(request, container, meetup_id)
    entry = meetup_entry(container, meetup, viewer_sees_link(request, container, meetup, role))
    return ics_response(container, [entry], f"meetup-{meetup_id}.ics")


@get("/t/{slug:str}/calendar.ics", sync_to_thread=True)
def tribe_calendar(request: Request[Any, Any, Any], container: NamedDependency[Container],
                   slug: FromPath[str]) -> Response[bytes]:
    view = container.view(Meetups)
    tribe = view.tribe_by_slug(slug)
    if tribe is None or tribe["visibility"] != "public":
        raise NotFoundException("No such calendar.")
    meetups = view.tribe_feed(tribe["id"], container.clock())
    # Anyone may subscribe to a public tribe's feed: it never carries an online link.
    entries = [meetup_entry(container, meetup, with_link=False) for meetup in meetups]
    return ics_response(container, entries, f"{tribe['slug']}.ics", name=f"{tribe['name']} meetups")


@get("/feeds/{ref:str}", sync_to_thread=True)
def member_calendar(request: Request[Any, Any, Any], container: NamedDependency[Container],
                    ref: FromPath[str]) -> Response[bytes]:
    member = container.view(MemberDirectory).by_calendar_token(ref.removesuffix(".ics"))
    if member is None or not ref.endswith(".ics"):
        raise NotFoundException("No such calendar.")
    view = container.view(Meetups)
    meetups, sessions = view.member_feed(member["id"], container.clock())
    by_id = {meetup["id"]: meetup for meetup in meetups}
    links = {meetup["id"]: sees_online_link(view.role_of(meetup["tribe_id"], member["id"]), meetup["my_state"])
             for meetup in meetups}
    entries = [meetup_entry(container, meetup, links[meetup["id"]]) for meetup in meetups]
    entries += [session_entry(container, by_id[s["meetup_id"]], s, links[s["meetup_id"]])
                for s in sessions if s["meetup_id"] in by_id]
    return ics_response(container, entries, "cookout.ics", name=f"Cookout: {member['display_name']}")


# For other pages: a tribe's next meetups, and who a member met


def upcoming_meetups(context: Any, tribe_id: UUID, limit: int = 5) -> list[dict[str, Any]]:
    """Template callable for the tribe page: the tribe's next meetups, with times to show."""
    container: Container = context["request"].app.state.container  # a template callable: no dependencies here
    meetups = container.view(Meetups).of_tribe(tribe_id, container.clock(), upcoming=True, limit=limit)
    return [{**meetup, "when": when(meetup), "where": where(meetup)} for meetup in meetups]


def met_in_real_life(request: Request[Any, Any, Any], container: Container, member_id: UUID) -> list[dict[str, Any]]:
    """The people a member met at meetups, each with the meetups where they met."""
    met: dict[str, dict[str, Any]] = {}
    own = signed_in_id(request) == member_id
    for row in container.view(Meetups).met_in_real_life(member_id, public_only=not own):
        person = met.setdefault(row["handle"], {"handle": row["handle"], "display_name": row["display_name"],
                                                "meetups": []})
        person["meetups"].append({**row, "when": local(row["starts_at"], row["timezone"], "%-d %B %Y")})
    return list(met.values())


ROUTES = [
    tribe_meetups, new_meetup, schedule_meetup, edit_meetup_form, edit_meetup, cancel_meetup_form,
    cancel_meetup, invite_form, invite, meetup_page, rsvp, new_session, add_session, session_calendar,
    edit_session_form, edit_session, remove_session, choose_session, drop_session, check_in, check_in_with_code, cant_make_it_page,
    cant_make_it, tribe_calendar, member_calendar,
]
