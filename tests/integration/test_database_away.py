"""While Postgres restarts, pages say so (503, Retry-After) instead of breaking, and nothing half-done is kept."""

from __future__ import annotations

import threading
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container, bootstrap
from cookout.platform.web.app import create_app
from tests.conftest import FAST_HASHER
from tests.helpers import csrf_token, unique
from tests.outage import Outage


def test_while_the_database_is_away_pages_answer_503_with_retry_after_and_a_sign_up_is_not_half_made(
    container: Container,
) -> None:
    outage = Outage(container.url)
    through = bootstrap(container.settings, url=outage.url, hasher=FAST_HASHER)
    handle = unique()
    try:
        with TestClient(app=create_app(through.settings, through), base_url="http://testserver.local") as client:
            token = csrf_token(client)
            outage.down()
            page = client.get("/")
            posted = client.post("/signup", data={"handle": handle, "display_name": "Away Person",
                                                  "email": f"{handle}@example.org", "password": "correct horse battery",
                                                  "_csrf_token": token})
    finally:
        outage.close()
        through.close()
    for answer in (page, posted):
        assert answer.status_code == 503
        assert int(answer.headers["retry-after"]) > 0
        assert "reach its database right now" in answer.text
    container.accounts.check_available(handle, f"{handle}@example.org")  # no half-made member holds the handle


CLIENT_TIMEOUT = 15  # seconds: well inside what a browser or a reverse proxy waits for an answer


def test_a_form_sent_while_the_database_is_away_is_answered_503_before_the_client_gives_up(
    container: Container,
) -> None:
    outage = Outage(container.url)
    through = bootstrap(container.settings, url=outage.url, hasher=FAST_HASHER)
    handle = unique()
    answers: list[Any] = []
    try:
        with TestClient(app=create_app(through.settings, through), base_url="http://testserver.local") as client:
            token = csrf_token(client)
            outage.down()

            def send() -> None:
                for attempt in ("first", "again"):  # the first meets the dead connections, the next a known outage
                    answers.append(client.post("/signup", data={
                        "handle": handle, "display_name": f"Away Person {attempt}", "email": f"{handle}@example.org",
                        "password": "correct horse battery", "_csrf_token": token}))

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            sender.join(timeout=CLIENT_TIMEOUT)
            assert not sender.is_alive(), f"no answer within {CLIENT_TIMEOUT} s"
    finally:
        outage.close()
        through.close()
    assert [answer.status_code for answer in answers] == [503, 503]
    container.accounts.check_available(handle, f"{handle}@example.org")
