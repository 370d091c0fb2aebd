"""`cookout serve` restarts a child that stopped, and gives up only on one that keeps stopping."""

from cookout.platform.supervision import Restarts


def test_a_child_that_keeps_stopping_is_given_up_after_five_restarts_in_five_minutes() -> None:
    now = [0.0]
    restarts = Restarts(clock=lambda: now[0])
    for _ in range(5):
        assert restarts.allow("worker")
        now[0] += 10
    assert not restarts.allow("worker")
    assert restarts.allow("web")  # each child counts its own


def test_a_child_that_stops_now_and_then_is_restarted_every_time() -> None:
    now = [0.0]
    restarts = Restarts(clock=lambda: now[0])
    for _ in range(50):
        assert restarts.allow("worker")
        now[0] += 301  # once every five minutes and a second, for four hours
