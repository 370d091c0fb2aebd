"""Rate limits: the client address the web's limits are keyed on.

Every limit counts in the container's one limiter (`new_limiter` in platform/container.py). Its `hit()`
counts and answers in one atomic step: callers hit first and refuse when it says no, so parallel requests
cannot all pass a check made before any counted.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from litestar import Request

from cookout.platform.settings import Settings


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The address a request came from. X-Forwarded-For counts only when the peer is a trusted proxy
    (COOKOUT_TRUSTED_PROXIES); then the nearest address that is not itself a trusted proxy is the client."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer, request.headers.get("x-forwarded-for", ""), settings.trusted_proxy_networks)


def forwarded_client(peer: str, forwarded_for: str, trusted: tuple[Any, ...]) -> str:
    if not trusted or not is_trusted(peer, trusted):
        return peer
    client = peer
    # Proxies append the address they saw, so the list is read from the right, through our own proxies.
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_address(hop):
            break  # a forged or mangled entry: stop at the last address a trusted proxy vouched for
        client = hop
        if not is_trusted(hop, trusted):
            break
    return client


def is_address(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def is_trusted(address: str, trusted: tuple[Any, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)
