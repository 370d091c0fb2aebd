"""Test fixtures: a fresh database per test process (embedded by default, a real server when
COOKOUT_TEST_DATABASE_URL is set), projections running in-process, the app, and a browser."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Settings are read from the environment: set ours before any cookout module reads them.
_DATA_DIR = tempfile.mkdtemp(prefix="cookout-data-")
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
os.environ["COOKOUT_DATA_DIR"] = _DATA_DIR
os.environ["COOKOUT_SECRET_KEY"] = "test-secret-key-not-for-production-use"
for _name in ("COOKOUT_DATABASE_URL", "COOKOUT_SMTP_URL", "COOKOUT_BROKER_URL", "COOKOUT_BASE_URL"):
    os.environ.pop(_name, None)
if os.environ.get("COOKOUT_TEST_BROKER_URL"):
    os.environ["COOKOUT_BROKER_URL"] = os.environ["COOKOUT_TEST_BROKER_URL"]

import psycopg  # noqa: E402
import pytest  # noqa: E402
import uvicorn  # noqa: E402
from litestar import Litestar  # noqa: E402
from litestar.testing import TestClient  # noqa: E402

from argon2 import PasswordHasher  # noqa: E402

from cookout.platform.web.app import create_app  # noqa: E402
from cookout.platform.database import embedded_server  # noqa: E402
from cookout.platform.container import Container, bootstrap  # noqa: E402
from cookout.platform.settings import Settings, load_settings  # noqa: E402
from cookout.projections.outbox import Enqueue  # noqa: E402
from cookout.workers.app import CookoutCelery  # noqa: E402
from tests.meetup_helpers import hold_the_clock  # noqa: E402

# Argon2 at production strength costs ~100 ms a sign-up; tests sign up hundreds of people.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

HEALTH_TOKEN = "test-health-token"

# One embedded server per test run (its xdist workers share it); concurrent runs don't.
EMBEDDED_TEST_DIR = Path(tempfile.gettempdir()) / f"cookout-test-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"


@pytest.fixture(autouse=True)
def _one_now_per_test() -> None:
    hold_the_clock()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A Postgres server to create test databases on."""
    configured = os.environ.get("COOKOUT_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    # The run's workers start together; one of them creates the server, the others join it.
    with open(f"{EMBEDDED_TEST_DIR}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = embedded_server(EMBEDDED_TEST_DIR, cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()
    if not (EMBEDDED_TEST_DIR / "pgdata").exists():  # the last worker out tidies up
        shutil.rmtree(EMBEDDED_TEST_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_url: str, worker_id: str) -> Iterator[str]:
    """A database of our own for this test process, dropped at the end."""
    name = f"cookout_test_{worker_id}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        # Tests need no durability across a power cut; skipping the WAL flush per commit halves the run.
        connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        login_rate_limit_account="5 per 3 second",
        login_rate_limit_ip="1000 per 1 minute",
        smtp_url="off",  # a real database must say where mail goes: tests keep it as .eml files
        health_token=HEALTH_TOKEN,
        # The suite signs up and comments as many people from one address; tests of these limits set their own.
        signup_rate_limit_ip="100000 per 1 minute",
        guest_comment_rate_limit_ip="100000 per 1 minute",
        guest_comment_rate_limit_post="100000 per 1 minute",
        password_reset_rate_limit_ip="100000 per 1 minute",
    )


@pytest.fixture(scope="session")
def task_queue(worker_id: str) -> str:
    """Test processes may share one broker (Redis in CI); each consumes only its own tasks."""
    return f"cookout-test-{worker_id}-{os.getpid()}"


class Workers:
    """The container's `enqueue`, faked: the dispatchers' letters go to whoever listens (a test watching
    when they come, a real Celery worker), and nowhere otherwise, as when no worker is running."""

    def __init__(self) -> None:
        self.listeners: list[Enqueue] = []

    def __call__(self, keys: list[str]) -> None:
        for listener in list(self.listeners):
            listener(keys)

    @contextmanager
    def listening(self, listener: Enqueue) -> Iterator[None]:
        self.listeners.append(listener)
        try:
            yield
        finally:
            self.listeners.remove(listener)


@pytest.fixture(scope="session")
def workers() -> Workers:
    return Workers()


@pytest.fixture(scope="session")
def container(settings: Settings, workers: Workers) -> Iterator[Container]:
    """The data layer with every projection following the log in this process."""
    opened = bootstrap(settings, hasher=FAST_HASHER, enqueue=workers)
    opened.start_projections()
    yield opened
    opened.close()


class Clock:
    """The container's clock, faked: real time, moved on as far as a test says."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def tree_dir() -> Iterator[Path]:
    """A working directory for a whole `cookout serve` tree. Not pytest's tmp_path: the embedded Postgres
    runs as its own user, and pytest makes its tmp root private again whenever a session starts."""
    directory = Path(tempfile.mkdtemp(prefix="cookout-tree-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_client(container: Container, clock: Clock) -> Iterator[TestClient[Litestar]]:
    """A client of an app over the suite's data whose container tells the time by `clock`."""
    own = bootstrap(container.settings, url=container.url, hasher=FAST_HASHER, clock=clock)
    try:
        with TestClient(app=create_app(container=own), base_url="http://testserver.local") as test_client:
            yield test_client
    finally:
        own.close()


@pytest.fixture(scope="session")
def worker_app(container: Container, task_queue: str) -> CookoutCelery:
    """A Celery app on the suite's container: the workers tests start, the tasks they run in place."""
    return CookoutCelery(container.settings, container, queue=task_queue)


@pytest.fixture(scope="session")
def app(container: Container) -> Litestar:
    return create_app(container.settings, container)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server(app: Litestar) -> Iterator[str]:
    """The app served over real HTTP on a free local port, for the browser."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("COOKOUT_REQUIRE_BROWSER"):
            pytest.fail("COOKOUT_REQUIRE_BROWSER is set but no chromium is on PATH")
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    context = browser.new_context(base_url=live_server)  # type: ignore[attr-defined]
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()
