"""The home page, the health checks (alive and ready), and the embedded outbox."""

from __future__ import annotations

import ipaddress
import os
import secrets
from email import message_from_bytes, policy
from typing import Annotated, Any

import psycopg
from eventsourcing.persistence import PersistenceError
from kombu import Connection
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
from cookout.projections.runner import running
from cookout.projections.tribes import TribeDirectory

LETTERS_PER_PAGE = 50
READY_LAG = 1000  # events a view may be behind the log and still count as ready
BROKER_TIMEOUT = 2
LAST_PAGE = 10_000


@get("/", sync_to_thread=True)
def home(request: HTMXRequest, container: NamedDependency[Container]) -> Template:
    signed_in = signed_in_id(request) is not None
    tribes, member_count = container.view(TribeDirectory).front(signed_in_id(request), limit=6)
    return page(
        "home.html",
        tribes=tribes,
        # Members are shown to members; visitors see a count.
        newest=container.view(MemberDirectory).newest() if signed_in else [],
        member_count=member_count,
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


@get("/healthz", sync_to_thread=False)
def healthz() -> Response[dict[str, Any]]:
    """Alive: this process answers. It asks nothing of the database, so a restart of Postgres does
    not get every web process killed by its supervisor."""
    return Response({"status": "ok"})


@get("/readyz", sync_to_thread=True)
def readyz(request: Request[Any, Any, Any], container: NamedDependency[Container]) -> Response[dict[str, Any]]:
    """Ready: the database and broker answer, every projection runs within READY_LAG events of the log,
    no event is parked. What is wrong, and each view's lag, only for a trusted caller (loopback, or the
    COOKOUT_HEALTH_TOKEN), since they tell an outsider how busy and how broken."""
    report: dict[str, Any] = {"database": "ok", "broker": broker_state(container.settings)}
    problems = [] if report["broker"] == "ok" else [f"broker unreachable: {report['broker']}"]
    try:
        head = container.log_position()
        parked = container.parked.counts()
        with container.datastore.transaction(commit=False) as cursor:
            alive = running(cursor, [projection.name for projection in PROJECTIONS])
        projections = {}
        for projection in PROJECTIONS:
            position = container.view(projection).position()
            projections[projection.name] = {"position": position, "lag": max(head - position, 0),
                                            "parked": parked.get(projection.name, 0),
                                            "running": projection.name in alive}
        report.update(log_position=head, projections=projections,
                      parked_events=sum(p["parked"] for p in projections.values()))
        for name, state in projections.items():
            if not state["running"]:
                problems.append(f"projection {name} is not running")
            if state["lag"] > READY_LAG:
                problems.append(f"projection {name} is {state['lag']} events behind")
            if state["parked"]:
                problems.append(f"projection {name} has {state['parked']} parked events")
    except (psycopg.Error, PersistenceError) as error:
        report["database"] = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        problems.insert(0, f"database unreachable: {report['database']}")
    status, code = ("not ready", 503) if problems else ("ready", 200)
    if not trusted_for_health(request, container.settings.health_token):
        return Response({"status": status}, status_code=code)
    return Response({"status": status, "problems": problems, **report}, status_code=code)


def broker_state(settings: Any) -> str:
    """"ok", or why the broker cannot be reached. The embedded broker is a folder in the data dir."""
    if not settings.broker_url:
        folder = settings.data_path
        return "ok" if os.access(folder, os.W_OK) else f"{folder} is not writable"
    try:
        with Connection(settings.broker_url, connect_timeout=BROKER_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as error:  # each transport raises its own errors; any of them means not reachable
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return "ok"


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


ROUTES = [home, healthz, readyz, outbox]
