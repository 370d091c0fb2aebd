"""Local wall-clock times become UTC instants, or a clear refusal."""

from datetime import UTC, datetime

import pytest

from cookout.domain.errors import InvalidInput
from cookout.domain.schedule import format_local, parse_window


def test_local_times_are_stored_as_utc_instants_with_the_zone_name():
    window = parse_window("2030-07-01T18:00", "2030-07-01T21:30", "Europe/Berlin")

    assert window.starts_at == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    assert window.ends_at == datetime(2030, 7, 1, 19, 30, tzinfo=UTC)
    assert window.timezone == "Europe/Berlin"


def test_a_form_shows_back_the_local_time_it_was_given():
    window = parse_window("2030-12-01T09:15", "2030-12-01T10:00", "America/New_York")

    assert format_local(window.starts_at, window.timezone) == "2030-12-01T09:15"


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InvalidInput) as error:
        parse_window("2030-07-01T18:00", "2030-07-01T21:00", "Mars/Olympus_Mons")

    assert error.value.field == "timezone"


@pytest.mark.parametrize("name", ["", "../etc/passwd", "America", "europe/berlin"])
def test_things_that_are_not_zone_names_are_refused(name):
    with pytest.raises(InvalidInput) as error:
        parse_window("2030-07-01T18:00", "2030-07-01T21:00", name)

    assert error.value.field == "timezone"


def test_a_time_skipped_by_the_spring_forward_gap_is_refused_not_shifted():
    with pytest.raises(InvalidInput, match="does not exist") as error:
        parse_window("2030-03-31T02:30", "2030-03-31T05:00", "Europe/Berlin")

    assert error.value.field == "starts_at"


def test_a_time_that_happens_twice_when_clocks_go_back_is_refused():
    with pytest.raises(InvalidInput, match="happens twice") as error:
        parse_window("2030-10-27T00:30", "2030-10-27T02:30", "Europe/Berlin")

    assert error.value.field == "ends_at"


def test_the_end_must_come_after_the_start():
    with pytest.raises(InvalidInput) as error:
        parse_window("2030-07-01T18:00", "2030-07-01T18:00", "Europe/Berlin")

    assert error.value.field == "ends_at"


@pytest.mark.parametrize("text", ["2030-07-01 18:00", "2030-07-01T18:00:00", "tomorrow", ""])
def test_times_in_another_shape_are_refused(text):
    with pytest.raises(InvalidInput) as error:
        parse_window(text, "2030-07-01T21:00", "Europe/Berlin")

    assert error.value.field == "starts_at"


def test_a_date_that_does_not_exist_is_refused():
    with pytest.raises(InvalidInput, match="not a real date") as error:
        parse_window("2030-02-30T18:00", "2030-07-01T21:00", "Europe/Berlin")

    assert error.value.field == "starts_at"
