"""Signing in: sessions in a cookie, and limits on guessing passwords."""

from __future__ import annotations

import hashlib
from typing import Any

from limits import parse, storage, strategies
from litestar import Request
from litestar.middleware.session.client_side import CookieBackendConfig

from cookout.platform.settings import Settings

SESSION_DAYS = 30


def session_config(settings: Settings) -> CookieBackendConfig:
    # The cookie is encrypted (AES-GCM) with a key derived from the instance secret.
    return CookieBackendConfig(
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
