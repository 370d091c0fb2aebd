"""While Postgres restarts, pages say so (503, Retry-After) instead of breaking, and nothing half-done is kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container, bootstrap
from cookout.platform.web.app import create_app
from tests.conftest import FAST_HASHER
from tests.helpers import csrf_token, unique
from tests.outage import Outage


@contextmanager
def site_losing_its_database(container: Container) -> Iterator[tuple[TestClient[Any], str]]:
    """A site reaching Postgres through a proxy, and a CSRF token got while it was up; the database
    goes away before the body of the `with` runs."""
    outage = Outage(container.url)
    through = bootstrap(container.settings, url=outage.url, hasher=FAST_HASHER)
    try:
        with TestClient(app=create_app(through.settings, through), base_url="http://testserver.local") as client:
            token = csrf_token(client)
            outage.down()
            yield client, token
    finally:
        outage.close()
        through.close()


def test_while_the_database_is_away_pages_answer_503_with_retry_after_and_a_sign_up_is_not_half_made(
    container: Container,
) -> None:
    handle = unique()
    with site_losing_its_database(container) as (client, token):
        page = client.get("/")
        posted = client.post("/signup", data={"handle": handle, "display_name": "Away Person",
                                              "email": f"{handle}@example.org", "password": "correct horse battery",
                                              "_csrf_token": token})
    for answer in (page, posted):
        assert answer.status_code == 503
        assert int(answer.headers["retry-after"]) > 0
        assert "reach its database right now" in answer.text
    container.accounts.check_available(handle, f"{handle}@example.org")  # no half-made member holds the handle


CLIENT_TIMEOUT = 15  # seconds: well inside what a browser or a reverse proxy waits for an answer


def test_a_form_sent_while_the_database_is_away_is_answered_503_before_the_client_gives_up(
    container: Container,
) -> None:
    handle = unique()
    answers: list[Any] = []
    with site_losing_its_database(container) as (client, token):

        def send() -> None:
            for attempt in ("first", "again"):  # the first meets the dead connections, the next a known outage
                answers.append(client.post("/signup", data={
                    "handle": handle, "display_name": f"Away Person {attempt}", "email": f"{handle}@example.org",
                    "password": "correct horse battery", "_csrf_token": token}))

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        sender.join(timeout=CLIENT_TIMEOUT)
        assert not sender.is_alive(), f"no answer within {CLIENT_TIMEOUT} s"
    assert [answer.status_code for answer in answers] == [503, 503]
    container.accounts.check_available(handle, f"{handle}@example.org")
