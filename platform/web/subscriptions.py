"""Confirming and ending a guest's comment emails through the signed links the letters carry.

Each token names the post and the address, signed with the instance secret (one salt per purpose).
GET shows a page with a button, so a mail scanner that fetches links changes nothing; POST acts.
The unsubscribe POST is also what mail clients send for RFC 8058 one-click unsubscribe, so it needs
no CSRF token: the signature is the proof.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from cookout.platform.container import Container
from cookout.platform.web.conversation import post_as_seen
from cookout.platform.web.headers import NO_STORE
from cookout.platform.links import CONFIRM_PATH, PATH, read_confirm_token, read_token
from cookout.platform.web.base import page, run_command
from cookout.projections.thread import ThreadTree, Viewer

@get(f"{CONFIRM_PATH}/{{token:str}}", sync_to_thread=True, cache_control=NO_STORE)
def confirmation(request: Request[Any, Any, Any], container: NamedDependency[Container],
                 token: FromPath[str]) -> Template:
    post_id, email = read_confirm_token(container.settings, token)
    return page("conversation/confirm_subscription.html", token=token, email=email, done=False,
                post=subscribed_post(container, post_id))


@post(f"{CONFIRM_PATH}/{{token:str}}", sync_to_thread=True, status_code=200)
def confirm_subscription(request: Request[Any, Any, Any], container: NamedDependency[Container],
                         token: FromPath[str]) -> Template:
    post_id, email = read_confirm_token(container.settings, token)
    run_command(request, container.threads.confirm_subscription, post_id, email, projections=())
    return page("conversation/confirm_subscription.html", token=token, email=email, done=True,
                post=subscribed_post(container, post_id))


@get(f"{PATH}/{{token:str}}", sync_to_thread=True, cache_control=NO_STORE)
def confirm(request: Request[Any, Any, Any], container: NamedDependency[Container], token: FromPath[str]) -> Template:
    post_id, email = read_token(container.settings, token)
    return page("conversation/unsubscribe.html", token=token, email=email, done=False,
                post=subscribed_post(container, post_id))


# Mail clients post here without our CSRF token (RFC 8058); the signed token is the proof.
@post(f"{PATH}/{{token:str}}", sync_to_thread=True, status_code=200, cache_control=NO_STORE, opt={"exclude_from_csrf": True})
def unsubscribe(request: Request[Any, Any, Any], container: NamedDependency[Container],
                token: FromPath[str]) -> Template:
    post_id, email = read_token(container.settings, token)
    run_command(request, container.threads.unsubscribe, post_id, email, projections=())
    return page("conversation/unsubscribe.html", token=token, email=email, done=True,
                post=subscribed_post(container, post_id))


def subscribed_post(container: Container, post_id: UUID) -> dict[str, Any] | None:
    """The post a letter was about, as anyone holding the link may see it: a retracted one without its title."""
    post = container.view(ThreadTree).post(post_id)
    return post_as_seen(post, Viewer()) if post else None


ROUTES = [confirmation, confirm_subscription, confirm, unsubscribe]
