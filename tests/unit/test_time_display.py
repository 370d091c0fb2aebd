"""How pages write a moment: a `<time>` in the viewer's zone, labelled; UTC, labelled and left for the
browser to rewrite, when the viewer chose none; meetups in the venue's zone and the viewer's."""

from datetime import UTC, datetime

from cookout.platform.templating import DAY_TIME, TIME, meetup_time, moment

WINTER = datetime(2026, 12, 2, 14, 5, tzinfo=UTC)
EVENING = (datetime(2026, 12, 5, 17, 0, tzinfo=UTC), datetime(2026, 12, 5, 20, 0, tzinfo=UTC))


def test_a_moment_in_the_viewers_zone_is_labelled_with_it() -> None:
    assert moment(WINTER, "Europe/Berlin") == '<time datetime="2026-12-02T14:05:00+00:00">2 Dec 2026, 15:05 CET</time>'


def test_without_a_zone_a_moment_is_utc_says_so_and_may_be_rewritten_by_the_browser() -> None:
    assert moment(WINTER, None) == (
        '<time datetime="2026-12-02T14:05:00+00:00" data-local="date">2 Dec 2026, 14:05 UTC</time>')
    assert 'data-local="time">14:05 UTC<' in moment(WINTER, None, TIME)
    assert 'data-local="day">Wed 2 Dec 2026, 14:05 UTC<' in moment(WINTER, None, DAY_TIME)


def test_a_zone_without_an_abbreviation_is_labelled_by_its_offset() -> None:
    assert moment(WINTER, "America/Sao_Paulo", TIME).endswith(">11:05 UTC-03</time>")


def test_a_meetup_shows_the_venues_zone_then_the_viewers_when_it_differs() -> None:
    shown = meetup_time(*EVENING, "Europe/Berlin", "America/New_York", online=False)

    assert shown.index("Sat 5 Dec 2026, 18:00 – 21:00 (Europe/Berlin)") < shown.index(
        "Sat 5 Dec 2026, 12:00 – 15:00 (America/New_York)")
    assert "data-your-time" not in shown


def test_a_meetup_in_the_viewers_own_zone_shows_it_once() -> None:
    shown = meetup_time(*EVENING, "Europe/Berlin", "Europe/Berlin", online=False)

    assert shown.count("(Europe/Berlin)") == 1 and "also" not in shown


def test_an_online_meetup_leads_with_the_viewers_zone() -> None:
    shown = meetup_time(*EVENING, "Europe/Berlin", "Asia/Tokyo", online=True)

    assert shown.index("Sun 6 Dec 2026, 02:00 – 05:00 (Asia/Tokyo)") < shown.index("(Europe/Berlin)")


def test_for_a_viewer_of_unknown_zone_the_browser_gets_what_it_needs_to_add_its_own() -> None:
    shown = meetup_time(*EVENING, "Europe/Berlin", None, online=False)

    assert ('data-your-time="after" data-starts="2026-12-05T17:00:00+00:00" data-ends="2026-12-05T20:00:00+00:00"'
            in shown)
    assert 'data-zone="Europe/Berlin" hidden' in shown
    assert 'data-your-time="first"' in meetup_time(*EVENING, "Europe/Berlin", None, online=True)
