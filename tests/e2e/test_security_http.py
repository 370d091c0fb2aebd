"""The security headers on every kind of response, no-store on pages with secrets, no inline script in
any template, and retracting through a confirmation page in a browser without JavaScript."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from litestar.testing import TestClient

from cookout.platform.web.app import create_app
from cookout.platform.container import Container
from cookout.platform.links import unsubscribe_url
from cookout.platform.templating import TEMPLATES_DIR
from tests.conversation_helpers import comment_id_of, found_tribe, publish, reply, sign_out, signed_up
from tests.helpers import post_form

HTMX = {"HX-Request": "true"}


def policy(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as directive -> sources."""
    header = response.headers.get("content-security-policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


def assert_secured(response: Any) -> None:
    csp = policy(response)
    assert csp.get("default-src") == "'self'", response.request.url
    assert csp.get("script-src") == "'self'" and csp.get("style-src") == "'self'"
    assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'"
    assert csp.get("frame-ancestors") == "'none'" and csp.get("form-action") == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "same-origin"


def test_pages_partials_redirects_errors_static_files_and_health_all_carry_the_security_headers(
    client: TestClient[Any],
) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "A first thought"))

    page = client.get(f"/p/{post_id}")
    partial = client.get(f"/c/{comment_id}/reply", headers=HTMX)
    redirect = client.get(f"/c/{comment_id}", follow_redirects=False)
    missing = client.get("/no/such/page")
    wrong_method = client.delete(f"/p/{post_id}")
    refused = client.post(f"/p/{post_id}/retract", follow_redirects=False)  # no CSRF token
    static = client.get("/static/cookout.css")
    health = client.get("/healthz")

    assert page.status_code == 200 and "<html" in page.text
    assert partial.status_code == 200 and "<html" not in partial.text
    assert redirect.status_code == 303
    assert missing.status_code == 404 and "no such page" in missing.text
    assert wrong_method.status_code == 405
    assert refused.status_code == 403
    assert static.status_code == 200 and "--fire" in static.text
    assert health.status_code in (200, 503)
    for response in (page, partial, redirect, missing, wrong_method, refused, static, health):
        assert_secured(response)


def test_strict_transport_security_is_sent_only_when_the_base_url_is_https(
    client: TestClient[Any], container: Container
) -> None:
    assert "strict-transport-security" not in client.get("/").headers
    settings = container.settings.model_copy(update={"base_url": "https://cookout.example.org"})
    with TestClient(app=create_app(settings, container), base_url="https://cookout.example.org") as secure:
        home, missing = secure.get("/"), secure.get("/no/such/page")
    for response in (home, missing):
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        assert_secured(response)


def test_settings_with_the_private_calendar_link_are_never_stored_by_caches(client: TestClient[Any]) -> None:
    signed_up(client)
    assert post_form(client, "/settings/calendar-feed", {}).status_code == 303
    settings = client.get("/settings")
    assert "/feeds/" in settings.text
    wrong_password = post_form(client, "/settings/password", {"current_password": "not it", "new_password": "x" * 12})
    assert wrong_password.status_code == 422 and "/feeds/" in wrong_password.text
    for response in (settings, wrong_password):
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/tribes").headers.get("cache-control", "")


def test_the_unsubscribe_page_behind_a_signed_link_is_never_stored_by_caches(
    client: TestClient[Any], container: Container
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    link = unsubscribe_url(container.settings, post_id, "reader@example.org").removeprefix(container.settings.base_url)
    asked = client.get(link)
    assert asked.status_code == 200 and "Stop these emails?" in asked.text
    assert asked.headers["cache-control"] == "no-store"
    done = client.post(link)
    assert done.status_code == 200 and "unsubscribed" in done.text
    assert done.headers["cache-control"] == "no-store"


def test_an_error_behind_a_signed_link_is_logged_by_its_route_without_the_links_secret(
    client: TestClient[Any], container: Container, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    link = unsubscribe_url(container.settings, post_id, "reader@example.org").removeprefix(container.settings.base_url)
    token = link.rsplit("/", 1)[1]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a fault of this test's making")

    monkeypatch.setattr(container.threads, "unsubscribe", broken)
    caplog.set_level(logging.ERROR, logger="cookout")
    assert client.post(link).status_code == 500
    logged = [record for record in caplog.records if "unhandled error" in record.getMessage()]
    assert logged and all(token not in record.getMessage() for record in logged)
    assert logged[0].getMessage().endswith("/unsubscribe/{token}")


INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=|<style[\s>]", re.I)
SCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.I)


def test_no_page_template_has_inline_scripts_event_handlers_or_styles_the_policy_would_block() -> None:
    pages = [path for path in TEMPLATES_DIR.rglob("*.html") if "email" not in path.relative_to(TEMPLATES_DIR).parts]
    assert len(pages) > 30
    offenders = []
    for path in pages:
        text = path.read_text()
        for pattern in (INLINE_HANDLER, INLINE_SCRIPT, INLINE_STYLE, SCRIPT_URL):
            offenders += [f"{path.relative_to(TEMPLATES_DIR)}: {found}" for found in pattern.findall(text)]
    assert offenders == []


def test_without_javascript_retracting_a_post_asks_on_a_page_first_then_retracts(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client), "Regrettable plans", "Words I regret")
    reply(client, post_id, "A reply that stays")
    post_page = client.get(f"/p/{post_id}").text
    assert re.search(rf'<form method="get" action="/p/{post_id}/retract"[^>]*hx-confirm="Retract this post\? '
                     rf'Its comments stay\."', post_page)

    asked = client.get(f"/p/{post_id}/retract")
    assert asked.status_code == 200
    assert "Retract this post?" in asked.text and "Its comments stay" in asked.text
    assert "Regrettable plans" in asked.text
    assert f'<form method="post" action="/p/{post_id}/retract"' in asked.text
    assert f'href="/p/{post_id}">Keep it<' in asked.text
    assert "retracted by its author" not in client.get(f"/p/{post_id}").text  # asking changed nothing

    retracted = post_form(client, f"/p/{post_id}/retract", {})
    assert retracted.status_code == 303 and retracted.headers["location"] == f"/p/{post_id}"
    after = client.get(f"/p/{post_id}").text
    assert "Your post is retracted" in after and "retracted by its author" in after
    assert "A reply that stays" in after


def test_without_javascript_retracting_a_comment_asks_on_a_page_first_then_retracts(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    comment_id = comment_id_of(reply(client, post_id, "Soon to be taken back"))
    assert f'<form method="get" action="/c/{comment_id}/retract"' in client.get(f"/p/{post_id}").text

    asked = client.get(f"/c/{comment_id}/retract")
    assert asked.status_code == 200
    assert "Retract this comment?" in asked.text and "Its replies stay" in asked.text
    assert "Soon to be taken back" in asked.text
    assert f'<form method="post" action="/c/{comment_id}/retract"' in asked.text

    assert post_form(client, f"/c/{comment_id}/retract", {}).status_code == 303
    after = client.get(f"/p/{post_id}").text
    assert "Your comment is retracted." in after and "Soon to be taken back" not in after
    again = client.get(f"/c/{comment_id}/retract", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/p/{post_id}#c-{comment_id}"


def test_only_the_author_is_asked_to_retract(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    comment_id = comment_id_of(reply(client, post_id, "Mine alone"))
    sign_out(client)
    signed_up(client)
    for path in (f"/p/{post_id}/retract", f"/c/{comment_id}/retract"):
        refused = client.get(path)
        assert refused.status_code == 403 and "Retract" not in refused.text
