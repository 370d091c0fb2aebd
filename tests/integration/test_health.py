"""/healthz says the process is alive; /readyz says whether it can serve: database, broker, projections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar.testing import TestClient

from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import Settings
from cookout.platform.web.app import create_app
from cookout.projections.registry import PROJECTIONS
from tests.conftest import FAST_HASHER, HEALTH_TOKEN
from tests.outage import Outage

TOKEN = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


@pytest.fixture
def own_database(server_url: str) -> Iterator[str]:
    name = f"cookout_health_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_readyz_is_ready_when_every_projection_runs(client: TestClient) -> None:
    answer = client.get("/readyz", headers=TOKEN)
    assert answer.status_code == 200, answer.json()["problems"]
    ready = answer.json()
    assert (ready["status"], ready["problems"], ready["database"], ready["broker"]) == ("ready", [], "ok", "ok")
    assert {name for name, state in ready["projections"].items() if state["running"]} == {p.name for p in PROJECTIONS}


def test_readyz_names_the_projections_no_process_is_running(own_database: str, settings: Settings) -> None:
    # `web` is up, `projections run` is not: pages would wait for views that never move.
    opened = bootstrap(settings.model_copy(update={"database_url": own_database}), hasher=FAST_HASHER)
    try:
        with TestClient(app=create_app(opened.settings, opened), base_url="http://testserver.local") as client:
            trusted = client.get("/readyz", headers=TOKEN)
            outsider = client.get("/readyz", headers={"X-Forwarded-For": "203.0.113.9"})
            alive = client.get("/healthz")
    finally:
        opened.close()
    assert trusted.status_code == 503
    assert trusted.json()["status"] == "not ready"
    assert "projection member_directory is not running" in trusted.json()["problems"]
    assert "projection welcomes is not running" in trusted.json()["problems"]
    assert (outsider.status_code, outsider.json()) == (503, {"status": "not ready"})
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})


def test_while_the_database_is_away_healthz_is_alive_and_readyz_says_the_database_is_unreachable(
    container: Container,
) -> None:
    outage = Outage(container.url)
    through = bootstrap(container.settings, url=outage.url, hasher=FAST_HASHER)
    try:
        with TestClient(app=create_app(through.settings, through), base_url="http://testserver.local") as client:
            assert client.get("/readyz", headers=TOKEN).json()["database"] == "ok"
            outage.down()
            alive = client.get("/healthz")
            ready = client.get("/readyz", headers=TOKEN)
    finally:
        outage.close()
        through.close()
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.json()["problems"][0].startswith("database unreachable")
