"""The copy button beside a calendar link puts the link on the clipboard in Chromium; without
JavaScript there is no dead button, only the link as selectable text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cookout.platform.container import Container
from tests.helpers import PASSWORD
from tests.meetup_helpers import join

pytestmark = pytest.mark.browser


def signed_in_settings(page: Any, member: dict[str, Any]) -> None:
    page.goto("/login")
    page.get_by_label("Handle or email").fill(member["handle"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/members/{member['handle']}")
    page.goto("/settings")
    page.get_by_role("button", name="Create my private calendar link").click()
    page.wait_for_url("**/settings")


def test_the_copy_button_puts_the_private_calendar_link_on_the_clipboard(
    browser: Any, live_server: str, container: Container
) -> None:
    context = browser.new_context(base_url=live_server, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        signed_in_settings(page, join(container))
        shown = page.get_by_label("Your private calendar link").input_value()
        assert re.fullmatch(r"webcal://[^/]+/feeds/[A-Za-z0-9_-]+\.ics", shown)
        page.get_by_role("button", name="Copy link").click()
        page.get_by_role("button", name="Copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == shown
    finally:
        context.close()


def test_without_javascript_the_link_is_text_to_select_and_no_button_shows(
    browser: Any, live_server: str, container: Container
) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        signed_in_settings(page, join(container))
        assert page.get_by_label("Your private calendar link").input_value().startswith("webcal://")
        assert not page.get_by_role("button", name="Copy link").is_visible()
    finally:
        context.close()
