"""Edit histories: each version's diff is worked out once, in bounded time, and long histories come in pages."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.domain.base import acting_as
from cookout.domain.threads import Threads
from cookout.platform.container import Container
from cookout.projections.diffs import word_changes
from tests.conversation_helpers import comment, found_tribe, new_member, new_post, new_tribe, publish, settle, signed_up
from tests.helpers import post_form


def test_a_diff_over_its_time_budget_falls_back_to_one_rewritten_change() -> None:
    old, new = "x " * 500, "y " * 500
    assert word_changes(old, new, seconds=1e-9) == [("removed", old.rstrip()), ("added", new.rstrip()), ("same", " ")]


def test_a_diff_over_its_token_cap_keeps_the_shared_start_and_end_and_rewrites_the_middle() -> None:
    old = "Meet at " + "x " * 50 + "sharp."
    new = "Meet at " + "y " * 50 + "sharp."
    assert word_changes(old, new, max_tokens=10) == [
        ("same", "Meet at "), ("removed", ("x " * 50).rstrip()), ("added", ("y " * 50).rstrip()), ("same", " sharp."),
    ]


def test_an_ordinary_edit_still_reads_as_a_word_diff() -> None:
    assert word_changes("I think it's at six", "I know it's at seven") == [
        ("same", "I "), ("removed", "think"), ("added", "know"), ("same", " it's at "), ("removed", "six"),
        ("added", "seven"),
    ]


def test_a_ten_thousand_character_repetitive_edit_shows_both_versions_in_its_history(client: TestClient[Any]) -> None:
    signed_up(client)
    post_id = publish(client, found_tribe(client))
    before, after = "x " * 4_999 + "x", "y " * 4_999 + "y"
    response = post_form(client, f"/p/{post_id}/comments", {"body": before, "parent_id": ""})
    comment_id = response.headers["location"].split("#c-")[1]
    assert post_form(client, f"/c/{comment_id}/edit", {"body": after}).status_code == 303
    history = client.get(f"/c/{comment_id}/history")
    assert history.status_code == 200
    assert "Version 2" in history.text and "Version 1" in history.text
    assert f"<del>{before}</del>" in history.text and f"<ins>{after}</ins>" in history.text


def test_a_long_history_comes_twenty_versions_a_page_with_links_that_work_without_javascript(
    client: TestClient[Any], container: Container
) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    comment_id = comment(container, author, new_post(container, author, tribe_id), "Draft 1")
    with acting_as(author):
        for number in range(2, 26):
            container.service(Threads).edit_comment(comment_id, f"Draft {number}")
    settle(container)

    first = client.get(f"/c/{comment_id}/history")
    assert first.status_code == 200
    shown = re.findall(r"<h2>Version (\d+)", first.text)
    assert shown == [str(n) for n in range(25, 5, -1)]
    assert "<del>Draft 24</del>" not in first.text and "<del>24</del><ins>25</ins>" in first.text
    assert f'href="/c/{comment_id}/history?page=2"' in first.text and "Newer versions" not in first.text
    assert first.text.count("current") == 1

    second = client.get(f"/c/{comment_id}/history?page=2")
    assert re.findall(r"<h2>Version (\d+)", second.text) == ["5", "4", "3", "2", "1"]
    assert f'href="/c/{comment_id}/history"' in second.text and "Older versions" not in second.text
    assert "current" not in second.text

    assert client.get(f"/c/{comment_id}/history?page=3").status_code == 404
    assert client.get(f"/c/{comment_id}/history?page=0").status_code == 400
    assert client.get(f"/c/{comment_id}/history?page=99999999999999999999").status_code == 400

