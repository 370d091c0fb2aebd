"""The letters about a member's own account: confirming the address, and the password reset link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cookout.platform.letters.kind import Context, LetterKind
from cookout.platform.links import RESET_SECONDS, email_confirmation_url, password_reset_url
from cookout.platform.settings import Settings


def reset_context(payload: dict[str, Any], settings: Settings) -> Context:
    # Stamped with the time of the request, so the hour counts from then, however late the letter goes.
    url = password_reset_url(settings, payload["member_id"], payload["requested_at"],
                             datetime.fromisoformat(payload["issued"]))
    return {**payload, "base_url": settings.base_url, "reset_url": url, "minutes": RESET_SECONDS // 60}


def confirm_context(payload: dict[str, Any], settings: Settings) -> Context:
    return {**payload, "base_url": settings.base_url,
            "confirm_url": email_confirmation_url(settings, payload["member_id"], payload["asked_at"])}


LETTERS = (
    LetterKind(
        kind="email_changed",
        template="email_changed",
        context=lambda payload, settings: {**payload, "base_url": settings.base_url},
        subject=lambda c: "Your Cookout email address was changed",
    ),
    LetterKind(
        kind="confirm_email",
        template="confirm_email",
        context=confirm_context,
        subject=lambda c: "Confirm your email for Cookout",
    ),
    LetterKind(
        kind="password_reset",
        template="password_reset",
        context=reset_context,
        subject=lambda c: "Choose a new Cookout password",
    ),
)
