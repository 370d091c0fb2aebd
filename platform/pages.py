"""The home page, the health check, and the embedded outbox."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import psycopg
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template

from cookout.platform.headers import NO_STORE
from cookout.platform.web import page, runtime_of, signed_in_id
from cookout.projections.members import MemberDirectory
from cookout.projections.outbox import letter_path
from cookout.projections.registry import PROJECTIONS
from cookout.projections.tribes import TribeDirectory


@get("/", sync_to_thread=True)
def home(request: Request[Any, Any, Any]) -> Template:
    directory = runtime_of(request).view(MemberDirectory)
    return page(
        "home.html",
        tribes=runtime_of(request).view(TribeDirectory).readable_by(signed_in_id(request), limit=6),
        newest=directory.newest(),
        member_count=directory.count(),
        signed_in=signed_in_id(request) is not None,
    )


@get("/healthz", sync_to_thread=True)
def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime = runtime_of(request)
    try:
        head = runtime.log_position()
        projections = {}
        for projection in PROJECTIONS:
            position = runtime.view(projection).position()
            projections[projection.name] = {"position": position, "lag": max(head - position, 0)}
    except psycopg.Error as error:
        return Response({"status": "unavailable", "database": str(error).splitlines()[0]}, status_code=503)
    return Response({"status": "ok", "database": "ok", "log_position": head, "projections": projections})


@get("/dev/outbox", sync_to_thread=True, cache_control=NO_STORE)
def outbox(request: Request[Any, Any, Any]) -> Template:
    runtime = runtime_of(request)
    if not runtime.settings.embedded_mail:
        raise NotFoundException("The outbox is shown only when Cookout keeps mail to itself.")
    letters = []
    for row in runtime.outbox.letters():
        letters.append({**row, "message": read_letter(runtime.settings.outbox_dir, row["key"])})
    return page("outbox.html", letters=letters)


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
