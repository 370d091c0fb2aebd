"""The welcome letter a member gets when they join."""

from __future__ import annotations

from typing import Any

from cookout.platform.letters.kind import Context, LetterKind
from cookout.platform.settings import Settings


def context(payload: dict[str, Any], settings: Settings) -> Context:
    return {**payload, "base_url": settings.base_url}


LETTERS = (
    LetterKind(
        kind="welcome",
        template="welcome",
        context=context,
        subject=lambda c: f"Welcome to Cookout, {c['display_name']}",
    ),
)
