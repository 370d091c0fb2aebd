"""Wall-clock times: turning a local `YYYY-MM-DDTHH:MM` in an IANA time zone into a UTC instant.

A local time that falls in a daylight-saving gap does not exist, and one in a fall-back hour
happens twice; both are refused with a message rather than silently shifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from cookout.domain.errors import InvalidInput

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_LOCAL_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True)
class Window:
    """When something happens: UTC instants, and the zone people read them in."""

    starts_at: datetime
    ends_at: datetime
    timezone: str


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    if name not in _zone_names():
        raise InvalidInput(
            f"“{name}” is not a time zone we know, such as Europe/Berlin.", field=field
        )
    return ZoneInfo(name)


def parse_local(text: str, tz: ZoneInfo, field: str) -> datetime:
    """The UTC instant of a local wall-clock time that happens exactly once in `tz`."""
    text = text.strip()
    if not _LOCAL_PATTERN.fullmatch(text):
        raise InvalidInput("Give a date and time as YYYY-MM-DDTHH:MM.", field=field)
    try:
        naive = datetime.strptime(text, LOCAL_FORMAT)
    except ValueError:
        raise InvalidInput(f"{text} is not a real date and time.", field=field) from None
    earlier = naive.replace(tzinfo=tz, fold=0)
    later = naive.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        if earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise InvalidInput(
                f"{text} does not exist in {tz.key}: the clocks skip it. Pick another time.",
                field=field,
            )
        raise InvalidInput(
            f"{text} happens twice in {tz.key}: the clocks go back. Pick another time.",
            field=field,
        )
    return earlier.astimezone(UTC)


def parse_window(starts_at: str, ends_at: str, timezone: str) -> Window:
    tz = zone(timezone)
    start = parse_local(starts_at, tz, "starts_at")
    end = parse_local(ends_at, tz, "ends_at")
    if end <= start:
        raise InvalidInput("The end must come after the start.", field="ends_at")
    return Window(start, end, tz.key)


def to_local(instant: datetime, timezone: str) -> datetime:
    return instant.astimezone(ZoneInfo(timezone))


def format_local(instant: datetime, timezone: str) -> str:
    """The `YYYY-MM-DDTHH:MM` a form shows for an instant, the inverse of `parse_local`."""
    return to_local(instant, timezone).strftime(LOCAL_FORMAT)
