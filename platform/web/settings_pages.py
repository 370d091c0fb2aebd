"""A member's own settings: name, reply emails, time zone, email address, password, and the private calendar
feed link."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain.accounts import Accounts
from cookout.domain.errors import DomainError
from cookout.platform.web.headers import NO_STORE
from cookout.platform.web.auth import continue_session
from cookout.platform.container import Container
from cookout.platform.web.base import page, require_member, run_command, see_other
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.projections.registry import PROJECTIONS
from cookout.projections.thread import ThreadTree

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
DIRECTORY = (MemberDirectory,)
ALL_ZONES = sorted(available_timezones())


def settings_page(request: HTMXRequest, container: Container, status_code: int = 200,
                  form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  email: str | None = None, leave_retract: bool = False) -> Template:
    me = container.view(MemberDirectory).private_settings(require_member(request))
    token = me["calendar_token"]
    return page(
        "settings.html",
        status_code=status_code,
        me=me,
        form=form or {"display_name": me["display_name"], "reply_emails": me["reply_emails"],
                      "time_zone": me["time_zone"] or ""},
        zones=ALL_ZONES,
        errors=errors or {},
        feed_url=f"{container.settings.base_url}/feeds/{token}.ics" if token else None,
        new_email=email,
        own_email=me["email"],
        leave_retract=leave_retract,
    )


@get("/settings", sync_to_thread=True, cache_control=NO_STORE)
def show_settings(request: HTMXRequest, container: NamedDependency[Container]) -> Template:
    return settings_page(request, container)


@post("/settings", sync_to_thread=True, cache_control=NO_STORE)
def save_settings(request: HTMXRequest, container: NamedDependency[Container],
                  data: Form) -> Template | Redirect:
    require_member(request)
    form = {"display_name": data.get("display_name", ""), "reply_emails": data.get("reply_emails") == "on",
            "time_zone": data.get("time_zone", "")}
    try:
        run_command(request, container.accounts.update_profile, form["display_name"],
                    form["reply_emails"], form["time_zone"], projections=DIRECTORY)
    except DomainError as error:
        return settings_page(request, container, 422, form, {error.field or "form": error.message})
    return see_other("/settings", request, "Your settings are saved.")


@post("/settings/password", sync_to_thread=True, cache_control=NO_STORE)
def change_password(request: HTMXRequest, container: NamedDependency[Container],
                    data: Form) -> Template | Redirect:
    member_id = require_member(request)
    current_hash = container.view(MemberDirectory).password_hash(member_id)
    if not container.passwords.matches(current_hash, data.get("current_password", "")):
        return settings_page(request, container, 422,
                             errors={"current_password": "That is not your current password."})
    try:
        epoch = run_command(request, container.accounts.change_password, data.get("new_password", ""),
                            projections=DIRECTORY)
    except DomainError as error:
        return settings_page(request, container, 422, errors={"new_password": error.message})
    continue_session(request, epoch)
    return see_other("/settings", request, "Your password is changed. You are signed out everywhere else.")


@post("/settings/email", sync_to_thread=True, cache_control=NO_STORE)
def change_email(request: HTMXRequest, container: NamedDependency[Container],
                 data: Form) -> Template | Redirect:
    """A new address takes effect once the link sent to it is followed; the current password proves it is you."""
    member_id = require_member(request)
    email = data.get("email", "").strip()
    if not container.passwords.matches(container.view(MemberDirectory).password_hash(member_id),
                                       data.get("password", "")):
        return settings_page(request, container, 422, email=email,
                             errors={"password": "That is not your current password."})
    try:
        run_command(request, container.accounts.request_email_change, email, projections=DIRECTORY)
    except DomainError as error:
        return settings_page(request, container, 422, email=email, errors={"email": error.message})
    return see_other("/settings", request,
                     f"We sent a link to {email}. Your address changes when you follow it.")


@post("/settings/delete", sync_to_thread=True, cache_control=NO_STORE)
def leave_cookout(request: HTMXRequest, container: NamedDependency[Container],
                  data: Form) -> Template | Redirect:
    """Deletes the account, with the current password as proof. The member's places at meetups go to the next
    people first; with `retract_comments` their comments are retracted too, else they stay, by "a former member"."""
    member_id = require_member(request)
    retract = data.get("retract_comments") == "on"
    if not container.passwords.matches(container.view(MemberDirectory).password_hash(member_id),
                                       data.get("password", "")):
        return settings_page(request, container, 422, leave_retract=retract, errors={
            "leave_password": "That is not your current password. Nothing was deleted."})
    run_command(request, container.meetings.give_up_places, container.view(Meetups).held_places(member_id),
                wait=False)
    if retract:
        run_command(request, container.threads.retract_comments,
                    container.view(ThreadTree).standing_comment_ids(member_id), wait=False)
    run_command(request, container.accounts.leave, projections=PROJECTIONS)
    request.set_session({})
    return see_other("/", request, "Your account is deleted. Goodbye, and thank you for being part of Cookout.")


@post("/settings/sessions/end", sync_to_thread=True)
def end_sessions(request: HTMXRequest, accounts: NamedDependency[Accounts]) -> Redirect:
    require_member(request)
    run_command(request, accounts.end_sessions, projections=DIRECTORY)
    request.set_session({})
    return see_other("/login", request, "You are signed out everywhere, on this device too.")


@post("/settings/calendar-feed", sync_to_thread=True)
def issue_feed(request: HTMXRequest, accounts: NamedDependency[Accounts]) -> Redirect:
    require_member(request)
    run_command(request, accounts.issue_calendar_feed, projections=DIRECTORY)
    return see_other("/settings", request, "Here is your private calendar link. Any earlier link no longer works.")


@post("/settings/calendar-feed/revoke", sync_to_thread=True)
def revoke_feed(request: HTMXRequest, accounts: NamedDependency[Accounts]) -> Redirect:
    require_member(request)
    run_command(request, accounts.revoke_calendar_feed, projections=DIRECTORY)
    return see_other("/settings", request, "Your private calendar link is switched off.")


ROUTES = [show_settings, save_settings, change_password, change_email, leave_cookout, end_sessions, issue_feed,
          revoke_feed]
