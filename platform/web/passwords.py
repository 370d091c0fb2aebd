"""Forgot password: asking for a reset link by email, and choosing a new password through it.

The request page answers the same whether or not an account uses the address, so it tells nobody who
has an account here; requests are limited per address and per client address."""

from __future__ import annotations

import time
from typing import Annotated, Any

from limits import parse
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from cookout.domain import members
from cookout.domain.errors import DomainError, InvalidInput, NotAllowedNow
from cookout.platform.container import Container
from cookout.platform.links import RESET_INVALID, PasswordReset, read_password_reset_token
from cookout.platform.web.auth import remember_device, sign_in
from cookout.platform.web.base import page, run_command, see_other
from cookout.platform.web.headers import NO_STORE
from cookout.platform.web.ratelimits import client_ip
from cookout.projections.members import MemberDirectory

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Known and unknown addresses are answered after the same time: only a known one costs a save, which a
# stopwatch could otherwise tell apart.
ANSWER_SECONDS = 0.25
TOO_MANY = "Too many reset links were asked for just now. Wait a while, then try again."


@get("/password/forgot", sync_to_thread=False)
def forgot_form() -> Template:
    return page("password_forgot.html", form={"email": ""}, errors={}, sent=False)


@post("/password/forgot", sync_to_thread=True, cache_control=NO_STORE)
def forgot(request: Request[Any, Any, Any], container: NamedDependency[Container], data: Form) -> Template:
    email = data.get("email", "").strip()
    form = {"email": email}
    try:
        members.parse_email(email)
    except DomainError as error:
        return page("password_forgot.html", status_code=422, form=form, errors={"email": error.message}, sent=False)
    settings, limiter = container.settings, request.app.state.limiter
    # Counted before anything is looked up, so the limit says nothing about whether the address is known.
    if not (limiter.hit(parse(settings.password_reset_rate_limit_ip), "reset-ip", client_ip(request))
            and limiter.hit(parse(settings.password_reset_rate_limit_address), "reset-address", email.lower())):
        return page("password_forgot.html", status_code=429, form=form, errors={"form": TOO_MANY}, sent=False)
    started = time.monotonic()
    container.accounts.request_password_reset(email)
    time.sleep(max(0.0, ANSWER_SECONDS - (time.monotonic() - started)))
    return page("password_forgot.html", form=form, errors={}, sent=True)


def open_reset(container: Container, token: str) -> PasswordReset:
    """The reset a link asks for while it still works; otherwise the reason it does not, as an error."""
    reset = read_password_reset_token(container.settings, token, container.clock())
    if not container.view(MemberDirectory).reset_is_open(reset.member_id, reset.requested_at):
        if container.view(MemberDirectory).by_id(reset.member_id) is None:
            raise InvalidInput(RESET_INVALID)
        raise NotAllowedNow(members.RESET_USED)
    return reset


def link_problem(error: DomainError) -> Template:
    return page("password_reset.html", status_code=410 if isinstance(error, NotAllowedNow) else 404,
                problem=error.message, errors={}, token="")


@get("/password/reset/{token:str}", sync_to_thread=True, cache_control=NO_STORE)
def reset_form(container: NamedDependency[Container], token: FromPath[str]) -> Template:
    try:
        open_reset(container, token)
    except DomainError as error:
        return link_problem(error)
    return page("password_reset.html", problem=None, errors={}, token=token)


@post("/password/reset/{token:str}", sync_to_thread=True, cache_control=NO_STORE)
def reset(request: Request[Any, Any, Any], container: NamedDependency[Container], token: FromPath[str],
          data: Form) -> Template | Redirect:
    try:
        found = open_reset(container, token)
    except DomainError as error:
        return link_problem(error)
    password = data.get("password", "")
    try:
        members.check_password(password)
        epoch = run_command(request, container.accounts.reset_password, found.member_id, found.requested_at,
                            password, projections=(MemberDirectory,))
    except NotAllowedNow as error:
        return link_problem(error)
    except DomainError as error:
        return page("password_reset.html", status_code=422, problem=None, errors={"password": error.message},
                    token=token)
    member = container.view(MemberDirectory).by_id(found.member_id)
    sign_in(request, member, epoch)
    done = see_other(f"/members/{member['handle']}", request,
                     "Your new password is set. You are signed in here and signed out everywhere else.")
    remember_device(request, done, member["id"])
    return done


ROUTES = [forgot_form, forgot, reset_form, reset]
