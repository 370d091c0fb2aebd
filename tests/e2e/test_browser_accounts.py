"""A person joins, signs out and signs back in through the real pages in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PASSWORD, unique

pytestmark = pytest.mark.browser


def test_a_person_joins_signs_out_and_signs_back_in(page: Any) -> None:
    handle = unique()
    page.goto("/")
    page.get_by_role("link", name="Join", exact=True).click()
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Display name").fill("Browser Person")
    page.get_by_label("Email").fill(f"{handle}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()

    page.wait_for_url(f"**/members/{handle}")
    assert page.get_by_role("heading", name="Browser Person").is_visible()
    assert page.get_by_role("status").inner_text() == (
        "Welcome to Cookout, Browser Person! We sent you a link: please confirm your email.")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()

    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Handle or email").fill(handle)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That handle or email and password do not match an account."
    assert page.get_by_label("Handle or email").input_value() == handle

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/members/{handle}")
    assert page.get_by_role("link", name=f"@{handle}").is_visible()


def test_a_mistake_in_the_sign_up_form_is_shown_beside_the_field(page: Any) -> None:
    page.goto("/signup")
    page.get_by_label("Handle").fill("No Spaces Allowed")
    page.get_by_label("Display name").fill("Typo Person")
    page.get_by_label("Email").fill("typo@example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    assert "3 to 30" in page.locator("#handle-error").inner_text()
    assert page.locator("#email-error").is_visible()
    assert page.get_by_label("Display name").input_value() == "Typo Person"
    assert page.get_by_label("Password").input_value() == ""
