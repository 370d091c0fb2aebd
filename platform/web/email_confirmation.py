"""Confirming a member's email address: the link from the confirmation letter, and the layout's reminder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from cookout.domain.errors import Conflict, DomainError, NotFound
from cookout.platform.container import Container
from cookout.platform.links import read_email_confirmation_token
from cookout.platform.web.base import page, run_command, see_other, session_of, viewer_row
from cookout.platform.web.headers import NO_STORE
from cookout.projections.members import MemberDirectory


def email_unconfirmed(context: Mapping[str, Any]) -> bool:
    """For the layout: whether the signed-in member has an address still to confirm."""
    if not session_of(context["request"]).get("member_id"):
        return False
    row = viewer_row(context["request"])
    return not (row and row["email_confirmed"])


@get("/account/confirm/{token:str}", sync_to_thread=True, cache_control=NO_STORE)
def confirm(request: Request[Any, Any, Any], container: NamedDependency[Container],
            token: FromPath[str]) -> Template | Redirect:
    try:
        member_id, asked_at = read_email_confirmation_token(container.settings, token)
        run_command(request, container.accounts.confirm_email, member_id, asked_at, projections=(MemberDirectory,))
    except NotFound as error:
        return page("email_confirm.html", status_code=404, problem=error.message)
    except Conflict as error:  # someone else took the new address meanwhile
        return page("email_confirm.html", status_code=409, problem=error.message)
    except DomainError as error:  # used already, or a newer link was sent
        return page("email_confirm.html", status_code=410, problem=error.message)
    return see_other("/", request, "Thank you: your email is confirmed.")


ROUTES = [confirm]
