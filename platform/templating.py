"""Where templates live, the Jinja environment emails are rendered with, and how pages write a moment in time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import cookout.templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

TEMPLATES_DIR = Path(next(iter(cookout.templates.__path__)))
STATIC_DIR = Path(__file__).parent / "static"

mail_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


# How pages show a moment: "2 Dec 2026, 14:05" and, for a time of day, "14:05".
DATE_TIME = "%-d %b %Y, %H:%M"
DAY_TIME = "%a %-d %b %Y, %H:%M"
TIME = "%H:%M"


def zone_label(local: datetime) -> str:
    """The zone a local time is in, as people write it: "CET", "UTC", "UTC-03" (for zones without a name)."""
    name = local.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def moment(instant: datetime, zone: str | None, pattern: str = DATE_TIME) -> Markup:
    """A `<time>` for an instant, in the viewer's `zone` and labelled with it. With no zone (a visitor, or a
    member who did not choose one) it is written in UTC, labelled so, and marked `data-local`: the static
    script `times.js` rewrites such times in the browser's own zone."""
    local = instant.astimezone(ZoneInfo(zone or "UTC"))
    text = f"{local.strftime(pattern)} {zone_label(local)}"
    marker = "" if zone else f' data-local="{pattern_kind(pattern)}"'
    return Markup('<time datetime="{}"{}>{}</time>').format(instant.astimezone(UTC).isoformat(), Markup(marker), text)


def pattern_kind(pattern: str) -> str:
    """What times.js should write for a `data-local` time: a date and time, with the weekday, or just the time."""
    return {DAY_TIME: "day", TIME: "time"}.get(pattern, "date")


def span(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """A start and end read in `zone`: "Sat 5 Dec 2026, 18:00 – 21:00 (Europe/Berlin)"."""
    start, end = starts_at.astimezone(ZoneInfo(zone)), ends_at.astimezone(ZoneInfo(zone))
    end_text = end.strftime(TIME if end.date() == start.date() else DAY_TIME)
    return f"{start.strftime(DAY_TIME)} – {end_text} ({zone})"


def meetup_time(starts_at: datetime, ends_at: datetime, venue_zone: str, viewer_zone: str | None,
                online: bool) -> Markup:
    """When a meetup happens, for one viewer: in the venue's zone, then in the viewer's when that differs.
    An online meetup has no venue to travel to, so it leads with the viewer's zone. A viewer whose zone
    is not known gets the venue's, and an empty `data-your-time` line that times.js fills in when the
    browser's zone differs (and, for an online meetup, moves to the front)."""
    start = Markup('<time datetime="{}">').format(starts_at.astimezone(UTC).isoformat())
    zones = [venue_zone] + ([viewer_zone] if viewer_zone and viewer_zone != venue_zone else [])
    if online:
        zones.reverse()
    lines = [Markup("{}{}</time>").format(start, span(starts_at, ends_at, zones[0]))]
    lines += [Markup('<span class="also">{}</span>').format(span(starts_at, ends_at, zone)) for zone in zones[1:]]
    if viewer_zone is None:
        lines.append(Markup('<span class="also" data-your-time="{}" data-starts="{}" data-ends="{}" data-zone="{}" hidden>'
                            '</span>').format("first" if online else "after", starts_at.astimezone(UTC).isoformat(),
                                              ends_at.astimezone(UTC).isoformat(), venue_zone))
    return Markup(" ").join(lines)
