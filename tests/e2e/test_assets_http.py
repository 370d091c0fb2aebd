"""Weight and caching: compressed pages, and static files under fingerprinted names a browser keeps a year."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.web.assets import ASSETS

IMMUTABLE = "max-age=31536000, public, immutable"


def test_a_pages_styles_and_scripts_carry_a_content_hash_and_are_cached_for_a_year(client: TestClient[Any]) -> None:
    home = client.get("/")
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', home.text)
    assert any(url.endswith(".css") for url in urls) and any(url.endswith(".js") for url in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{10}\.(css|js|svg)$", url), url
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in response.headers


def test_a_changed_file_gets_a_new_name_and_old_names_still_answer_briefly(client: TestClient[Any]) -> None:
    current = client.get(ASSETS.url("cookout.css"))
    for old in ("/static/cookout.css", "/static/cookout.0123456789.css"):
        response = client.get(old)
        assert response.status_code == 200 and response.text == current.text
        assert "immutable" not in response.headers["cache-control"]
        assert "max-age=300" in response.headers["cache-control"]
    assert client.get("/static/nothing.0123456789.css").status_code == 404


def test_pages_are_gzip_encoded_for_a_client_that_accepts_it_and_keep_their_security_headers(
    client: TestClient[Any],
) -> None:
    page = client.get("/tribes", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "<html" in page.text  # the client inflates it
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    plain = client.get("/tribes", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
