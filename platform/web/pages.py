"""The home page, the health check, and the embedded outbox."""

from __future__ import annotations

import ipaddress
import secrets
from email import message_from_bytes, policy
from typing import Annotated, Any

import psycopg
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Response, Template

from cookout.platform.web.headers import NO_STORE
from cookout.platform.container import Container
from cookout.platform.web.base import page, signed_in_id
from cookout.projections.members import MemberDirectory
from cookout.projections.outbox import letter_path
from cookout.projections.registry import PROJECTIONS
from cookout.projections.tribes import TribeDirectory

LETTERS_PER_PAGE = 50
LAST_PAGE = 10_000


@get("/", sync_to_thread=True)
def home(request: HTMXRequest, container: NamedDependency[Container]) -> Template:
    directory = container.view(MemberDirectory)
    signed_in = signed_in_id(request) is not None
    return page(
        "home.html",
        tribes=container.view(TribeDirectory).readable_by(signed_in_id(request), limit=6),
        newest=directory.newest() if signed_in else [],  # members are shown to members; visitors see a count
        member_count=directory.count(),
        signed_in=signed_in,
    )


def from_loopback(request: Request[Any, Any, Any]) -> bool:
    """Whether the connection itself comes from this machine (the ASGI client, never a forwarded header)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def trusted_for_health(request: Request[Any, Any, Any], token: str | None) -> bool:
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode()):
            return True
    return from_loopback(request)


@get("/healthz", sync_to_thread=True)
def healthz(request: Request[Any, Any, Any], container: NamedDependency[Container]) -> Response[dict[str, Any]]:
    """Up or down for anyone; the database, each view's lag and its parked events only for a trusted
    caller (loopback, or the COOKOUT_HEALTH_TOKEN), since they tell an outsider how busy and how broken."""
    trusted = trusted_for_health(request, container.settings.health_token)
    try:
        head = container.log_position()
        if not trusted:
            return Response({"status": "ok"})
        parked = container.parked.counts()
        projections = {}
        for projection in PROJECTIONS:
            position = container.view(projection).position()
            projections[projection.name] = {"position": position, "lag": max(head - position, 0),
                                            "parked": parked.get(projection.name, 0)}
    except psycopg.Error as error:
        if not trusted:
            return Response({"status": "down"}, status_code=503)
        return Response({"status": "down", "database": str(error).splitlines()[0]}, status_code=503)
    return Response({"status": "ok", "database": "ok", "log_position": head, "projections": projections,
                     "parked_events": sum(p["parked"] for p in projections.values())})


@get("/dev/outbox", sync_to_thread=True, cache_control=NO_STORE)
def outbox(
    request: Request[Any, Any, Any], container: NamedDependency[Container],
    page_number: Annotated[int, QueryParameter(name="page", ge=1, le=LAST_PAGE)] = 1,
) -> Template:
    # Every letter, with working links and members-only text: only for the one machine that is all
    # Cookout's own (embedded database and mail), and only to a browser on that machine.
    if not (container.settings.shows_outbox and from_loopback(request)):
        raise NotFoundException()
    rows = container.outbox.letters(limit=LETTERS_PER_PAGE + 1, offset=(page_number - 1) * LETTERS_PER_PAGE)
    letters = [{**row, "message": read_letter(container.settings.outbox_dir, row["key"])}
               for row in rows[:LETTERS_PER_PAGE]]
    return page("outbox.html", letters=letters, page_number=page_number,
                has_next=len(rows) > LETTERS_PER_PAGE)


def read_letter(folder: Any, key: str) -> dict[str, str] | None:
    path = letter_path(folder, key)
    if not path.exists():
        return None
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    return {
        "subject": str(message["Subject"]),
        "to": str(message["To"]),
        "text": body.get_content() if body else "",
        "raw": path.read_text(errors="replace"),
    }


ROUTES = [home, healthz, outbox]
