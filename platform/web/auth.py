"""Signing in: sessions in a cookie that can be ended, known devices, and limits on guessing passwords.

A session carries the member's session epoch from the member directory and the time it was signed in.
Every request checks both: a session from an older epoch (the member signed out, changed the password or
signed out everywhere since) or older than SESSION_DAYS is no session, however often it was renewed."""

from __future__ import annotations

import hashlib
import secrets
from base64 import b64decode
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio.to_thread
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse
from limits.strategies import MovingWindowRateLimiter
from litestar import Request, Response
from litestar.exceptions import SerializationException
from litestar.middleware.session.client_side import AAD, ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import decode_json

from cookout.platform.container import Container
from cookout.platform.settings import Settings
from cookout.platform.web.base import VIEWER_KEY

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

SESSION_DAYS = 30  # a session's absolute lifetime, from sign-in, however often its cookie slides
DEVICE_COOKIE = "cookout_device"
DEVICE_DAYS = 365
DEVICE_SALT = "cookout.known-device"
RENEW_AFTER = 24 * 3600  # an unchanged session's cookie is sent again once it is this old, so it keeps sliding
AS_LOADED = "cookout.session_as_loaded"  # the scope key for the session as it came in, and when its cookie expires


class UnchangedSessionBackend(ClientSideSessionBackend):
    """The cookie session, sent back only when it changed (or is a day old, to keep sliding).

    Litestar encrypts and sets the cookie on every response (a tenth of a comment POST's CPU), though
    most requests leave the session as it was. The cookie's attributes are the same whenever it is set."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        try:
            session = await super().load_from_connection(connection)
        except SerializationException:  # a mangled cookie is no session (Litestar answers 500), and gets cleared
            return {}
        if session.get("member_id"):
            container: Container = connection.app.state.container
            member_id = session_member(container, session)
            row = container.viewers.kept(member_id) if member_id else None  # no thread, no query
            if member_id and (row is None or row["session_epoch"] != session.get("epoch")):
                row = await anyio.to_thread.run_sync(current_viewer, container, session)
            connection.scope[VIEWER_KEY] = row  # type: ignore[literal-required]  # read once, for the whole request
            if row is None:
                return {}  # an ended session: the response clears its cookie
        if session:  # it decrypted, so its expiry (signed alongside it) parses too
            sealed = b64decode(b"".join(connection.cookies[key].encode() for key in self.get_cookie_keys(connection)))
            expires_at = decode_json(sealed[sealed.rfind(AAD) + len(AAD):])["expires_at"]
            as_loaded = (self.serialize_data(session, connection.scope), expires_at)
            connection.scope[AS_LOADED] = as_loaded  # type: ignore[literal-required]
        return session

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        loaded = connection.scope.get(AS_LOADED)
        if (loaded and scope_session and isinstance(scope_session, dict)
                and loaded[1] - now(connection.app.state.container) > self.config.max_age - RENEW_AFTER
                and self.serialize_data(scope_session, connection.scope) == loaded[0]):
            return  # the browser's cookie already says this
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(CookieBackendConfig):
    _backend_class = UnchangedSessionBackend  # type: ignore[assignment]


def session_config(settings: Settings) -> SessionConfig:
    # The cookie is encrypted (AES-GCM) with a key derived from the instance secret.
    return SessionConfig(
        secret=hashlib.sha256(("session:" + settings.secret).encode()).digest(),
        key="cookout_session",
        max_age=SESSION_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.https,
        exclude="/static",  # files need no session, and so no lookup of its epoch
    )


def now(container: Container) -> float:
    """Seconds since the epoch, by the container's clock (tests move it to age a session)."""
    return container.clock().timestamp()


def session_member(container: Container, session: dict[str, Any]) -> UUID | None:
    """The member a session names, unless it is older than SESSION_DAYS (or not ours)."""
    signed_in_at = session.get("signed_in_at")
    if not isinstance(signed_in_at, int) or now(container) - signed_in_at > SESSION_DAYS * 24 * 3600:
        return None
    try:
        return UUID(str(session["member_id"]))
    except ValueError:
        return None


def current_viewer(container: Container, session: dict[str, Any]) -> dict[str, Any] | None:
    """The member's `viewer` row when the session is still theirs; None when it has ended."""
    member_id = session_member(container, session)
    if member_id is None:
        return None
    row = container.viewers.get(member_id)
    if row is not None and session.get("epoch") != row["session_epoch"]:
        # A session newer than the kept row (this process may not have heard of the change yet) or one
        # that ended: the directory decides.
        row = container.viewers.read(member_id)
    return row if row is not None and session.get("epoch") == row["session_epoch"] else None


def sign_in(request: Request[Any, Any, Any], member: dict[str, Any], epoch: int) -> None:
    # A fresh session on sign-in, so nothing from before carries over.
    request.set_session({"member_id": str(member["id"]), "handle": member["handle"], "epoch": epoch,
                         "signed_in_at": int(now(request.app.state.container))})


def continue_session(request: Request[Any, Any, Any], epoch: int) -> None:
    """This browser's session goes on in a new epoch (after a password change ends all the others)."""
    request.session["epoch"] = epoch


def _devices(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret, salt=DEVICE_SALT)


def known_device(request: Request[Any, Any, Any], member_id: Any) -> str | None:
    """The id of this browser when it has signed in as this member before, from a signed cookie."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        signed_for, device = _devices(request.app.state.settings).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(device) if signed_for == str(member_id) else None


def remember_device(request: Request[Any, Any, Any], response: Response[Any], member_id: Any) -> None:
    """Marks this browser as one the member signs in from, so guessing elsewhere cannot lock them out here."""
    settings: Settings = request.app.state.settings
    device = known_device(request, member_id) or secrets.token_urlsafe(12)
    response.set_cookie(DEVICE_COOKIE, _devices(settings).dumps([str(member_id), device]),
                        max_age=DEVICE_DAYS * 24 * 3600, httponly=True, samesite="lax", secure=settings.https)


class SignInLimits:
    """Sign-in attempts counted per account and per IP address, and sign-ups per IP, in a moving window.

    Every attempt is counted before the password is checked, so parallel guesses cannot slip past the
    limit. A browser that signed in as the member before (a known device) counts in a bucket of its own:
    guessing from elsewhere exhausts the account's shared bucket and is refused, while the owner's own
    browser can still sign in."""

    def __init__(self, settings: Settings, limiter: MovingWindowRateLimiter):
        self.limiter = limiter
        self.per_account = parse(settings.login_rate_limit_account)
        self.per_ip = parse(settings.login_rate_limit_ip)
        self.sign_ups_per_ip = parse(settings.signup_rate_limit_ip)

    def attempt(self, account: str, ip: str, device: str | None) -> bool:
        """Counts one attempt on `account` (a member id, or the typed login when it names nobody)."""
        bucket = ("device", account, device) if device else ("account", account)
        return self.limiter.hit(self.per_ip, "login-ip", ip) and self.limiter.hit(self.per_account, "login", *bucket)

    def sign_up(self, ip: str) -> bool:
        """Counts one sign-up from `ip`; False once it is over the limit."""
        return self.limiter.hit(self.sign_ups_per_ip, "signup-ip", ip)
