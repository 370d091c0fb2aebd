"""Joining, signing in and out, and member profiles."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from cookout.domain import members
from cookout.domain.accounts import Accounts
from cookout.domain.errors import DomainError
from cookout.platform.web import meetups
from cookout.platform.web.auth import SignInLimits, known_device, remember_device, sign_in
from cookout.platform.web.conversation import member_activity
from cookout.platform.web.ratelimits import client_ip
from cookout.platform.container import Container
from cookout.platform.web.base import page, run_command, see_other, signed_in_id
from cookout.projections.members import MemberDirectory

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SIGNUP_FIELDS = ("handle", "display_name", "email")


@get("/signup", sync_to_thread=False)
def signup_form() -> Template:
    return page("signup.html", form={}, errors={})


@post("/signup", sync_to_thread=True)
def signup(request: HTMXRequest, container: NamedDependency[Container],
           sign_in_limits: NamedDependency[SignInLimits], data: Form) -> Template | Redirect:
    form = {name: data.get(name, "") for name in SIGNUP_FIELDS}
    errors = signup_errors(data)
    if not errors and not sign_in_limits.sign_up(client_ip(request)):
        return page("signup.html", status_code=429, form=form,
                    errors={"form": "Too many accounts were created from your network just now. Try again later."})
    if not errors:
        try:
            run_command(
                request,
                container.accounts.sign_up,
                form["handle"], form["display_name"], form["email"], data.get("password", ""),
                projections=(MemberDirectory,),
            )
        except DomainError as error:
            errors[error.field or "form"] = error.message
    if errors:
        return page("signup.html", status_code=422, form=form, errors=errors)
    member = container.view(MemberDirectory).by_handle(members.parse_handle(form["handle"]))
    sign_in(request, member, epoch=0)
    welcome = see_other(f"/members/{member['handle']}", request,
                        f"Welcome to Cookout, {member['display_name']}! We sent you a link: please confirm your email.")
    remember_device(request, welcome, member["id"])
    return welcome


def signup_errors(data: dict[str, str]) -> dict[str, str]:
    """Every field's problem at once, so the person fixes them in one go."""
    errors: dict[str, str] = {}
    checks = (
        (members.parse_handle, "handle"),
        (members.parse_display_name, "display_name"),
        (members.parse_email, "email"),
        (members.check_password, "password"),
    )
    for check, field in checks:
        try:
            check(data.get(field, ""))
        except DomainError as error:
            errors[field] = error.message
    return errors


@get("/login", sync_to_thread=False)
def login_form(next: FromQuery[str] = "") -> Template:
    return page("login.html", form={"login": "", "next": safe_next(next)}, errors={})


@post("/login", sync_to_thread=True)
def login(request: HTMXRequest, container: NamedDependency[Container],
          sign_in_limits: NamedDependency[SignInLimits], data: Form) -> Template | Redirect:
    login_name = data.get("login", "").strip()
    password = data.get("password", "")
    form = {"login": login_name, "next": safe_next(data.get("next", ""))}
    member = container.view(MemberDirectory).credentials(login_name) if login_name else None
    # Handle and email of one member count in one bucket; a login naming nobody counts as typed.
    account = str(member["id"]) if member else login_name.lower()
    device = known_device(request, member["id"]) if member else None
    if not sign_in_limits.attempt(account, client_ip(request), device):
        return page(
            "login.html", status_code=429, form=form,
            errors={"form": "Too many failed attempts. Wait a minute, then try again."},
        )
    # Nobody by that name still costs a hash check, so the answer's timing does not tell who has an account.
    matches = container.passwords.matches(member["password_hash"] if member else None, password)
    if member is None or not matches:
        return page(
            "login.html", status_code=401, form=form,
            errors={"form": "That handle or email and password do not match an account."},
        )
    sign_in(request, member, member["session_epoch"])
    welcome = see_other(form["next"] or f"/members/{member['handle']}", request,
                        f"Welcome back, {member['display_name']}.")
    remember_device(request, welcome, member["id"])
    return welcome


@post("/logout", sync_to_thread=True)
def logout(request: HTMXRequest, accounts: NamedDependency[Accounts]) -> Redirect:
    """Signing out ends the session everywhere it was copied to, not only in this browser."""
    member_id = signed_in_id(request)
    if member_id is not None:
        run_command(request, accounts.end_sessions, projections=(MemberDirectory,))
    request.set_session({})
    return see_other("/", request, "You are signed out. See you soon.")


@get("/members/{handle:str}", sync_to_thread=True)
def profile(request: HTMXRequest, container: NamedDependency[Container], handle: FromPath[str]) -> Template:
    member = container.view(MemberDirectory).by_handle(handle)
    if member is None:
        raise NotFoundException(f"Nobody here goes by @{handle}.")
    return page("member.html", member=member, own=signed_in_id(request) == member["id"],
                met=meetups.met_in_real_life(request, container, member["id"]),
                activity=member_activity(request, container, member["id"]))


def safe_next(path: str) -> str:
    """Only local paths, so a sign-in link cannot bounce people to another site."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else ""


ROUTES = [signup_form, signup, login_form, login, logout, profile]
