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
# Built once: configuring a cleaner costs several times what cleaning a comment does, and the views
# clean every body they apply.
_cleaner = nh3.Cleaner(tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES, link_rel=_LINK_REL)
_text_only = nh3.Cleaner(tags=set())


@functools.lru_cache(maxsize=256)
def _html(text: str) -> str:
    """markdown-it's HTML; the projections ask for one body's HTML and excerpt in a row, so keep a few."""
    return _renderer.render(text)


def render(text: str) -> Markup:
    """Sanitised HTML for a post or comment body, ready for a template."""
    return Markup(_cleaner.clean(_html(text)))


def excerpt(text: str, length: int = 200) -> str:
    """Plain text from the start of a Markdown body, for lists and notifications.

    It holds no markup at all: templates escape it like any other string.
    """
    markup = _text_only.clean(_html(text))
    plain = re.sub(r"\s+", " ", html.unescape(markup)).strip()
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + "…"
