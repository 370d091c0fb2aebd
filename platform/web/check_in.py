"""Check-in at the door: by an organiser, or by the member with the meetup's code."""

from __future__ import annotations

from uuid import UUID

from limits import parse
from litestar import post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.errors import Conflict, DomainError, InvalidInput
from cookout.platform.container import Container
from cookout.platform.web.base import require_member, run_command
from cookout.platform.web.meetup_common import Form, MEETUPS, organised_meetup, partial_or_page, readable_meetup


TOO_MANY_CODES = "Too many tries at the check-in code. Ask the organiser to check you in, or try again later."


def check_in_code_allowed(container: Container, meetup_id: UUID, member_id: UUID) -> bool:
    """Counts one try at a meetup's code; False once the member is over the limit at this meetup."""
    return container.limiter.hit(parse(container.settings.check_in_code_rate_limit), "check-in-code",
                                 str(meetup_id), str(member_id))


@post("/m/{meetup_id:uuid}/check-in", sync_to_thread=True)
def check_in(request: HTMXRequest, container: NamedDependency[Container], meetup_id: FromPath[UUID],
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
def check_in_with_code(request: HTMXRequest, container: NamedDependency[Container],
                       meetup_id: FromPath[UUID], data: Form) -> Template | Redirect:
    member_id = require_member(request)
    readable_meetup(request, container, meetup_id)
    meetings = container.meetings
    if not check_in_code_allowed(container, meetup_id, member_id):
        if not request.htmx:
            raise TooManyRequestsException(TOO_MANY_CODES)
        return partial_or_page(request, container, meetup_id, "meetups/_check_in.html", Conflict(TOO_MANY_CODES, field="code"))
    try:
        run_command(request, meetings.check_in_with_code, meetup_id,
                    data.get("code", ""), projections=MEETUPS)
    except DomainError as error:
        return partial_or_page(request, container, meetup_id, "meetups/_check_in.html", error)
    return partial_or_page(request, container, meetup_id, "meetups/_check_in.html")


ROUTES = [
    check_in, check_in_with_code,
]
