"""Every page names a favicon that exists: an SVG of Cookout's mark, which the header shows too, so
no page depends on an emoji the visitor's fonts may lack."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient


def test_pages_link_an_svg_favicon_that_is_served_and_the_header_shows_the_same_mark(client: TestClient[Any]) -> None:
    for path in ("/", "/login", "/tribes", "/no-such-page"):
        html = client.get(path).text
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert icon, f"{path} links no SVG favicon"
        header = html[html.index('<header class="site">'):html.index("</header>")]
        assert f'<img src="{icon.group(1)}" alt=""' in header
        assert "🔥" not in html
    served = client.get(icon.group(1))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert served.text.lstrip().startswith("<svg") and "<title>Cookout</title>" in served.text
