"""Markdown written by members and guests, turned into HTML that is safe to show.

markdown-it renders CommonMark with raw HTML switched off; nh3 then keeps only
the tags and URL schemes listed here, whatever the renderer let through.
"""

from __future__ import annotations

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Images are left out: a remote image in a post would tell its host who read it.
_renderer = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
    ["table", "strikethrough"]
).disable("image")

_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "nofollow ugc noopener"


@functools.lru_cache(maxsize=256)
def _html(text: str) -> str:
    """markdown-it's HTML; the projections ask for one body's HTML and excerpt in a row, so keep a few."""
    return _renderer.render(text)


def render(text: str) -> Markup:
    """Sanitised HTML for a post or comment body, ready for a template."""
    clean = nh3.clean(
        _html(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=_LINK_REL,
    )
    return Markup(clean)


def excerpt(text: str, length: int = 200) -> str:
    """Plain text from the start of a Markdown body, for lists and notifications.

    It holds no markup at all: templates escape it like any other string.
    """
    markup = nh3.clean(_html(text), tags=set())
    plain = re.sub(r"\s+", " ", html.unescape(markup)).strip()
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"
