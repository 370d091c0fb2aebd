"""Backup and restore: `cookout export` of a furnished site, imported into a fresh database, gives every
view the same rows and an outbox that sends nothing again; a damaged file and a used database are refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from cookout.platform import backup
from cookout.platform.cli import main
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import Settings
from cookout.projections.registry import PROJECTIONS
from tests.conftest import FAST_HASHER
from tests.site_helpers import Site, demo_site


@pytest.fixture(scope="module")
def site(server_url: str, settings: Settings) -> Iterator[Site]:
    with demo_site(server_url, settings) as furnished:
        assert furnished.container.wait_for(furnished.container.log_position(), timeout=60)
        yield furnished


@contextmanager
def fresh_database(server_url: str, settings: Settings) -> Iterator[Container]:
    name = f"cookout_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    container = bootstrap(settings.model_copy(update={"database_url": url}), hasher=FAST_HASHER)
    try:
        yield container
    finally:
        container.close()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def view_tables() -> list[str]:
    """Every table a projection writes: its rows, its position and, for the dispatchers, the outbox."""
    found = ["outbox"]
    for projection in PROJECTIONS:
        found += [*projection.view_class.tables, f"{projection.name}_tracking"]
    return found


def contents(container: Container, table: str) -> list[str]:
    with container.datastore.transaction(commit=False) as cursor:
        cursor.execute(SQL("SELECT to_jsonb(t)::text AS r FROM {0} t ORDER BY r").format(Identifier(table)))
        return [row["r"] for row in cursor.fetchall()]


def test_an_export_imported_into_a_fresh_database_gives_every_view_the_same_rows(
    site: Site, server_url: str, settings: Settings, tmp_path: Path
) -> None:
    original = site.container
    with original.datastore.transaction(commit=True) as cursor:  # as a worker leaves what it sent
        cursor.execute("UPDATE outbox SET status = 'sent', sent_at = now(), attempts = 1 WHERE key IN ("
                       "SELECT key FROM outbox ORDER BY key LIMIT 3)")
    exported = tmp_path / "cookout.jsonl"
    events, letters = backup.export(original, exported)
    assert events == original.log_position() and letters > 3

    with fresh_database(server_url, settings) as restored:
        assert backup.restore(restored, exported) == (events, letters)
        differing = [table for table in view_tables() if contents(restored, table) != contents(original, table)]
        assert differing == []
        assert contents(original, "members") != []
        assert restored.log_position() == original.log_position()
        sent = [row for row in restored.outbox.letters() if row["status"] == "sent"]
        assert len(sent) == 3


def test_the_restored_log_goes_on_numbering_after_its_last_event(
    site: Site, server_url: str, settings: Settings, tmp_path: Path
) -> None:
    exported = tmp_path / "cookout.jsonl"
    backup.export(site.container, exported)
    with fresh_database(server_url, settings) as restored:
        backup.restore(restored, exported)
        restored.accounts.sign_up(f"n{uuid.uuid4().hex[:8]}", "New Person", f"{uuid.uuid4().hex}@example.org",
                                  "correct horse battery", confirmed=True)
        after = site.container.log_position()
        first_new, *_ = restored.accounts.recorder.select_notifications(start=after, limit=1, inclusive_of_start=False)
        assert first_new.id == after + 1


def test_a_changed_export_is_refused_before_anything_is_written(
    site: Site, server_url: str, settings: Settings, tmp_path: Path
) -> None:
    exported = tmp_path / "cookout.jsonl"
    backup.export(site.container, exported)
    lines = exported.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"version":1', b'"version":2', 1)
    exported.write_bytes(b"".join(lines))
    with fresh_database(server_url, settings) as restored:
        with pytest.raises(backup.BackupError, match="does not match its checksum"):
            backup.restore(restored, exported)
        assert restored.log_position() == 0


def test_an_export_cut_short_is_refused(site: Site, server_url: str, settings: Settings, tmp_path: Path) -> None:
    exported = tmp_path / "cookout.jsonl"
    backup.export(site.container, exported)
    exported.write_bytes(b"".join(exported.read_bytes().splitlines(keepends=True)[:-1]))
    with fresh_database(server_url, settings) as restored, pytest.raises(backup.BackupError, match="no checksum"):
        backup.restore(restored, exported)


def test_import_refuses_a_database_that_already_holds_events(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    exported = tmp_path / "cookout.jsonl"
    backup.export(site.container, exported)
    before = site.container.log_position()
    monkeypatch.setenv("COOKOUT_DATABASE_URL", site.container.url)
    monkeypatch.setenv("COOKOUT_SMTP_URL", "off")
    assert main(["import", str(exported)]) == 2
    assert "restores into an empty database only" in capsys.readouterr().err
    assert site.container.log_position() == before


def test_the_cli_exports_and_imports(site: Site, server_url: str, settings: Settings, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    exported = tmp_path / "cookout.jsonl"
    monkeypatch.setenv("COOKOUT_SMTP_URL", "off")
    monkeypatch.setenv("COOKOUT_DATABASE_URL", site.container.url)
    assert main(["export", str(exported)]) == 0
    with fresh_database(server_url, settings) as restored:
        monkeypatch.setenv("COOKOUT_DATABASE_URL", restored.url)
        assert main(["import", str(exported)]) == 0
        assert "every view is built" in capsys.readouterr().out
        assert contents(restored, "thread_comments") == contents(site.container, "thread_comments")

