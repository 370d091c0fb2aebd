"""Signing in: sessions in a cookie, and limits on guessing passwords."""

from __future__ import annotations

import hashlib
import time
from base64 import b64decode
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import parse, storage, strategies
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.middleware.session.client_side import AAD, ClientSideSessionBackend, CookieBackendConfig
from litestar.serialization import decode_json

from cookout.platform.settings import Settings

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

SESSION_DAYS = 30
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
                and loaded[1] - time.time() > self.config.max_age - RENEW_AFTER
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
    )


def sign_in(request: Request[Any, Any, Any], member: dict[str, Any]) -> None:
    # A fresh session on sign-in, so nothing from before carries over.
    request.set_session({"member_id": str(member["id"]), "handle": member["handle"]})


class SignInLimits:
    """Failed sign-ins counted per account and per IP address, in a moving window."""

    def __init__(self, settings: Settings):
        broker = settings.broker_url or ""
        shared = broker if broker.startswith(("redis://", "rediss://")) else "memory://"
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(shared))
        self.per_account = parse(settings.login_rate_limit_account)
        self.per_ip = parse(settings.login_rate_limit_ip)

    def allows(self, login: str, ip: str) -> bool:
        return self.limiter.test(self.per_account, "account", login.strip().lower()) and self.limiter.test(
            self.per_ip, "ip", ip
        )

    def count_failure(self, login: str, ip: str) -> None:
        self.limiter.hit(self.per_account, "account", login.strip().lower())
        self.limiter.hit(self.per_ip, "ip", ip)
