"""What a kind of letter declares: its outbox kind, its templates, the context they are given, its
subject, and any extra headers or calendar part. `compose` in this package does the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cookout.platform.settings import Settings

Context = dict[str, Any]


@dataclass(frozen=True)
class CalendarPart:
    """The iMIP part of an email: an iCalendar text and the METHOD it carries."""

    method: str
    text: str


def no_headers(context: Context) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class LetterKind:
    kind: str  # the outbox row's kind
    template: str  # renders email/<template>.txt and email/<template>.html
    context: Callable[[dict[str, Any], Settings], Context]  # from the row's payload
    subject: Callable[[Context], str]
    headers: Callable[[Context], dict[str, str]] = no_headers
    calendar: Callable[[Context, datetime], CalendarPart] | None = None
