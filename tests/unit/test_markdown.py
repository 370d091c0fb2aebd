"""Markdown bodies become HTML that cannot run script, and excerpts hold no markup."""

from html.parser import HTMLParser

import pytest
from markupsafe import Markup, escape

from cookout.projections.markdown import excerpt, render


class Elements(HTMLParser):
    """The tags and attributes a browser would build from some HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_markdown_renders_the_usual_formatting():
    html = render("# Dawn run\n\nMeet at the **gate**, bring *water*.\n\n- shoes\n- `socks`")

    assert "<h1>Dawn run</h1>" in html
    assert "<strong>gate</strong>" in html and "<em>water</em>" in html
    assert "<li><code>socks</code></li>" in html
    assert isinstance(html, Markup)


def test_links_are_marked_as_user_content_nobody_vouches_for():
    html = render("[route](https://maps.example/dawn) and <https://club.example>")

    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://maps.example/dawn"' in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        '<a href="javascript:alert(1)">x</a>',
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<div onclick="alert(1)">x</div>',
    ],
)
def test_script_and_data_urls_never_survive(text):
    elements = Elements(render(text)).found

    assert {tag for tag, _ in elements} <= {"p", "a"}
    assert not [attrs for _, attrs in elements if set(attrs) - {"rel"}]


def test_excerpt_is_plain_text_cut_at_a_word():
    text = "# Dawn run\n\nMeet at the **gate** & bring <b>water</b>. " + "We run far. " * 30

    short = excerpt(text, 60)

    assert short.startswith("Dawn run Meet at the gate & bring <b>water</b>.")
    assert short.endswith("…") and len(short) <= 60
    assert "<strong>" not in short
    assert "&lt;b&gt;" in escape(short)


def test_short_text_is_its_own_excerpt():
    assert excerpt("Six *sharp*.") == "Six sharp."
