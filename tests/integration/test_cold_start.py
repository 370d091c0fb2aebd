"""Processes starting together on an empty database: every table is made under the schema lock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from litestar.testing import TestClient

from cookout.platform.container import SCHEMA_LOCK, Container, bootstrap
from cookout.platform.settings import Settings
from cookout.platform.web.app import create_app
from cookout.projections.members import MemberDirectory
from tests.conftest import FAST_HASHER, HEALTH_TOKEN

# Refuse, in this database, any DDL while no process holds the schema lock: two processes creating
# the same table at once fail with "tuple concurrently updated".
GUARD = f"""
CREATE FUNCTION refuse_unlocked_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0
                   AND objid = {SCHEMA_LOCK} AND objsubid = 1) THEN
        RAISE EXCEPTION 'DDL outside the schema lock: %', tg_tag;
    END IF;
END $$;
CREATE EVENT TRIGGER refuse_unlocked_ddl ON ddl_command_start EXECUTE FUNCTION refuse_unlocked_ddl();
"""


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    name = f"cookout_cold_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    yield url
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_web_projections_and_a_worker_starting_together_make_their_tables_only_under_the_schema_lock(
    empty_database: str, settings: Settings
) -> None:
    with psycopg.connect(empty_database, autocommit=True) as connection:
        connection.execute(GUARD)
    own = settings.model_copy(update={"database_url": empty_database})
    opened, errors = [], []

    def start(run_projections: bool) -> None:
        try:
            container = bootstrap(own, hasher=FAST_HASHER)
            opened.append(container)
            if run_projections:
                container.start_projections()
        except Exception as error:  # noqa: BLE001 - the test reports what each process hit
            errors.append(error)

    starting = [threading.Thread(target=start, args=(name == "projections",)) for name in ("web", "projections", "worker")]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(timeout=60)
    try:
        assert errors == []
        # And `projections run` restarted later, while nothing else is starting.
        first_runner = next(container for container in opened if container.runners)
        first_runner.close()
        opened.remove(first_runner)
        start(run_projections=True)
        assert errors == []
        web, *_ = opened
        member_id = web.accounts.sign_up("coldstart", "Cold Start", "cold@example.org", "correct horse battery")
        runner = next(container for container in opened if container.runners)
        assert runner.wait_for(runner.log_position(), (MemberDirectory,), timeout=20)
        assert web.view(MemberDirectory).by_handle("coldstart")["id"] == member_id
        with TestClient(app=create_app(web.settings, web), base_url="http://testserver.local") as client:
            assert client.get("/readyz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}).json()["problems"] == []
    finally:
        for container in opened:
            container.close()


def test_a_process_starting_beside_a_running_tree_takes_no_table_lock(empty_database: str, settings: Settings) -> None:
    """Even a no-op `ALTER TABLE … ADD COLUMN IF NOT EXISTS` waits for an exclusive lock, which deadlocks
    with a transaction already writing that table (a CLI command started while a worker sends mail)."""
    own = settings.model_copy(update={"database_url": empty_database})
    bootstrap(own, hasher=FAST_HASHER).close()
    with psycopg.connect(empty_database) as writer:
        writer.execute("LOCK TABLE outbox, members IN ROW EXCLUSIVE MODE")  # held until the end of the test
        with psycopg.connect(empty_database, autocommit=True) as connection:
            connection.execute(
                "CREATE FUNCTION refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'DDL on an up-to-date schema: %', tg_tag; END $$; "
                "CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start EXECUTE FUNCTION refuse_ddl();"
            )
        opened: list[Container] = []
        starting = threading.Thread(target=lambda: opened.append(bootstrap(own, hasher=FAST_HASHER)))
        starting.start()
        starting.join(timeout=60)
        writer.rollback()
    starting.join(timeout=60)
    for container in opened:
        container.close()
    assert not starting.is_alive() and opened, "bootstrap waited for a table lock, or refused"
