"""Backup and restore: the whole event log and the outbox's record of what was sent, as JSON Lines.

The log is the truth and every view is made from it, so a backup is the log's stored events, in log
order, plus the outbox rows (which letters were sent, failed or still wait): a restored site replays
its dispatchers into an outbox that already knows what went out, so no letter is sent twice.

A file is a header line, one line per record, and a last line with the sha256 of every line before
it; an import checks the sum before it writes anything, and restores into an empty database only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from psycopg.sql import SQL, Identifier

from cookout.platform.container import Container
from cookout.platform.keys import TABLE as KEYS_TABLE
from cookout.platform.settings import ConfigurationError

FORMAT = "cookout-export"
VERSION = 1
READ_BATCH = 2_000


class BackupError(ConfigurationError):
    """A file that is not a whole Cookout export, or a database an import must not write to."""


def export(container: Container, path: Path) -> tuple[int, int]:
    """Write the log and the outbox to `path`, as one consistent snapshot; returns (events, letters)."""
    events = letters = 0
    digest = hashlib.sha256()
    with path.open("wb") as out, container.datastore.get_connection() as connection:

        def write(record: dict[str, Any]) -> None:
            line = (json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n").encode()
            digest.update(line)
            out.write(line)

        write({"format": FORMAT, "version": VERSION})
        # One snapshot for both reads: the outbox says what was sent of exactly this log.
        with connection.transaction(), connection.cursor(name="cookout_export") as rows:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            rows.execute(SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {0} "
                "ORDER BY notification_id").format(Identifier(events_table(container))))
            while batch := rows.fetchmany(READ_BATCH):
                for row in batch:
                    write({"event": {
                        "id": row["notification_id"], "originator_id": str(row["originator_id"]),
                        "version": row["originator_version"], "topic": row["topic"],
                        "state": base64.b64encode(row["state"]).decode(),
                    }})
                    events += 1
            # Each person's key opens their data in the events: without them a restored site would show
            # everyone as a former member. A member deleted before the export has no key here.
            keys = 0
            for row in connection.execute(SQL("SELECT subject, key FROM {0} ORDER BY subject").format(
                    Identifier(KEYS_TABLE))):
                write({"key": {"subject": str(row["subject"]), "key": base64.b64encode(row["key"]).decode()}})
                keys += 1
            for row in connection.execute("SELECT row_to_json(outbox) AS letter FROM outbox ORDER BY key"):
                write({"letter": row["letter"]})
                letters += 1
        out.write((json.dumps({"sha256": digest.hexdigest(), "records": events + keys + letters}) + "\n").encode())
    return events, letters


def verify(path: Path) -> None:
    """Refuse a file that is not a complete, unaltered export."""
    digest = hashlib.sha256()
    count = 0
    last: bytes | None = None
    with path.open("rb") as lines:
        for line in lines:
            if last is not None:
                digest.update(last)
                count += 1
            last = line
    if count == 0 or last is None:
        raise BackupError(f"{path} is not a Cookout export: it is empty or has no checksum line.")
    try:
        trailer = json.loads(last)
    except json.JSONDecodeError:
        trailer = None
    if not isinstance(trailer, dict) or "sha256" not in trailer:
        raise BackupError(f"{path} has no checksum line at its end: it was cut short or is not a Cookout export.")
    if trailer["sha256"] != digest.hexdigest() or trailer.get("records") != count - 1:
        raise BackupError(f"{path} does not match its checksum: it was changed or damaged after the export.")
    with path.open("rb") as lines:
        header = json.loads(lines.readline())
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupError(f"{path} is not a Cookout export of version {VERSION}.")


def records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a verified export, in order: the events, the people's keys, then the letters."""
    with path.open("rb") as lines:
        lines.readline()  # the header
        for line in lines:
            record = json.loads(line)
            if "sha256" not in record:
                yield record


def restore(container: Container, path: Path, timeout: float = 600) -> tuple[int, int]:
    """Load an export into this (empty) database, then build every view from the log; returns
    (events, letters). The views and their positions come from the replay, not from the file."""
    verify(path)
    table = events_table(container)
    events = letters = 0
    with container.datastore.get_connection() as connection, connection.transaction():
        refuse_unless_empty(connection, table)
        with connection.cursor().copy(SQL(
            "COPY {0} (notification_id, originator_id, originator_version, topic, state) FROM STDIN"
        ).format(Identifier(table))) as copy:
            for record in records(path):
                if "event" in record:
                    event = record["event"]
                    copy.write_row((event["id"], uuid.UUID(event["originator_id"]), event["version"],
                                    event["topic"], base64.b64decode(event["state"])))
                    events += 1
        for record in records(path):
            if "key" in record:
                connection.execute(SQL("INSERT INTO {0} (subject, key) VALUES (%s, %s)").format(Identifier(KEYS_TABLE)),
                                   (uuid.UUID(record["key"]["subject"]), base64.b64decode(record["key"]["key"])))
        for record in records(path):
            if "letter" in record:
                connection.execute("INSERT INTO outbox SELECT * FROM json_populate_record(NULL::outbox, %s)",
                                   (json.dumps(record["letter"]),))
                letters += 1
        # New events go on numbering after the restored ones.
        connection.execute(SQL(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'),"
            " (SELECT coalesce(max(notification_id), 0) + 1 FROM {0}), false)").format(Identifier(table)), (table,))
    head = container.log_position()
    container.start_projections()
    try:
        if not container.wait_for(head, timeout=timeout):
            raise BackupError(f"the views did not reach position {head} within {timeout} s")
    finally:
        container.stop_projections()
    return events, letters


def refuse_unless_empty(connection: Any, table: str) -> None:
    held = connection.execute(SQL("SELECT count(*) AS n FROM {0}").format(Identifier(table))).fetchone()["n"]
    sent = connection.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"]
    if held or sent:
        raise BackupError(
            f"this database already holds {held} events and {sent} letters; `cookout import` restores into an "
            "empty database only. Create a new database and point COOKOUT_DATABASE_URL at it.")


def events_table(container: Container) -> str:
    return container.accounts.recorder.events_table_name
