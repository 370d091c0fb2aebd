"""The one normalisation every string and number passes before it becomes an event."""

from __future__ import annotations

import pytest

from cookout.domain.comments import parse_guest
from cookout.domain.errors import InvalidInput
from cookout.domain.members import parse_display_name, parse_handle
from cookout.domain.meetups import Place, clean_capacity, clean_place
from cookout.domain.posts import parse_body, parse_title
from cookout.domain.text import INT4_MAX, clean_int, clean_name, clean_text, storable
from cookout.domain.tribes import parse_name

LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused_with_a_message_for_the_field(control: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"hello{control}world", "body", one_line=False, what="What you wrote")
    assert refused.value.field == "body"
    assert refused.value.message == "What you wrote contains invisible control characters; remove them and try again."


def test_tabs_and_newlines_stay_in_text_of_several_lines_and_crlf_becomes_a_newline() -> None:
    assert clean_text("one\tcolumn\r\ntwo\rthree\u2028four", "body", one_line=False) == "one\tcolumn\ntwo\nthree\u2028four"


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_every_line_break_splitlines_knows_is_refused_in_a_one_line_field(line_break: str) -> None:
    assert len(f"a{line_break}b".splitlines()) == 2
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"a{line_break}b", "title", one_line=True, what="The title")
    assert (refused.value.field, refused.value.message) == ("title", "The title must be a single line.")


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1c", "\x85"])
def test_line_breaks_that_are_control_characters_are_refused_in_text_of_several_lines(control: str) -> None:
    with pytest.raises(InvalidInput):
        clean_text(f"a{control}b", "body", one_line=False)


def test_text_is_nfc_normalised_and_trimmed() -> None:
    assert clean_text("  Cafe\u0301  ", "title", one_line=True) == "Caf\u00e9"


def test_text_longer_than_its_limit_is_refused_with_the_limit_in_the_message() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text("x" * 201, "title", one_line=True, max_length=200, what="The title")
    assert refused.value.message == "The title can't be longer than 200 characters."


def test_names_lose_bidi_controls_and_zero_width_characters() -> None:
    assert clean_name("\u202eAnn\u200bie\u2066 \ufeffLee\u200f", "name") == "Annie Lee"


def test_a_name_that_is_only_invisible_characters_is_empty() -> None:
    assert clean_name("\u200b\u200d\u2060", "name") == ""


@pytest.mark.parametrize("number", [-1, 0, INT4_MAX + 1, 99999999999999999999])
def test_numbers_outside_their_column_are_refused(number: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_int(number, "capacity", minimum=1, what="The capacity")
    assert refused.value.message == "The capacity must be a whole number of at least 1 and at most 2,147,483,647."


def test_the_largest_int4_is_accepted() -> None:
    assert clean_int(INT4_MAX, "capacity", minimum=1) == INT4_MAX


def test_only_text_postgres_can_hold_is_storable() -> None:
    assert storable("plain \u2028 text")
    assert not storable("a\x00b")


# The aggregates' own parsers use it.

def test_a_comment_body_with_a_nul_byte_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_body("hello\x00world")
    assert refused.value.field == "body"


def test_a_post_title_with_a_paragraph_separator_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_title("Saturday\u2029run")
    assert refused.value.field == "title"


def test_a_guest_name_with_a_bidi_override_is_kept_without_it() -> None:
    assert parse_guest("\u202eevil", "guest@example.org").name == "evil"


def test_a_guest_website_with_a_line_separator_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_guest("Guest", "guest@example.org", "https://example.org/\u2028x")
    assert refused.value.field == "website"


def test_display_names_and_handles_lose_zero_width_characters() -> None:
    assert parse_display_name("Ann\u200bie") == "Annie"
    assert parse_handle("ann\u200bie") == "annie"


def test_a_tribe_name_with_a_vertical_tab_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_name("Dawn\x0bRunners")


def test_a_meetup_capacity_beyond_int4_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_capacity(2147483648)
    assert refused.value.field == "capacity"


def test_a_venue_with_a_nul_byte_is_refused_and_an_address_keeps_its_lines() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_place(Place("Park\x00", "Street 1"))
    assert refused.value.field == "venue"
    assert clean_place(Place(" Park ", " Street 1\r\nBerlin ", "")) == Place("Park", "Street 1\nBerlin", "")
