"""The `cookout` command: serve everything at once, or run each part on its own in production."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import uvicorn

from pathlib import Path

from cookout.platform import backup, demo, inbound
from cookout.platform.supervision import Restarts, check_port_free, clear_leftovers, forget_tree, record_tree, start_child
from cookout.platform.database import database_url
from cookout.platform.logs import configure_logging, logging_config
from cookout.platform.metrics import prepare_metrics_folder
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import ConfigurationError, load_settings, mail_destination, served_at
from cookout.projections.outbox import hand_over
from cookout.projections.registry import PROJECTIONS, projection_named
from cookout.projections.runner import ProjectionBusy
from cookout.workers.app import CookoutCelery

def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except (ConfigurationError, ProjectionBusy) as error:
        print(f"cookout: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="cookout", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the database (embedded), web, projections and a worker")
    add_host_port(serve_cmd)
    serve_cmd.add_argument("--demo", action="store_true", help="seed a small demo tribe first")
    serve_cmd.set_defaults(run=serve)

    web_cmd = commands.add_parser("web", help="run the web server only")
    add_host_port(web_cmd)
    web_cmd.add_argument("--workers", type=int, default=1, help="web server processes (one per core)")
    web_cmd.set_defaults(run=web)

    worker_cmd = commands.add_parser("worker", help="run a Celery worker (sends mail)")
    worker_cmd.add_argument("--concurrency", type=int, default=4)
    worker_cmd.add_argument("--beat", action="store_true", help="also run the periodic scheduler")
    worker_cmd.add_argument("--queue", help="consume this queue instead of the default one")
    worker_cmd.set_defaults(run=worker)

    beat_cmd = commands.add_parser("beat", help="run the Celery periodic scheduler only")
    beat_cmd.set_defaults(run=beat)

    projections_cmd = commands.add_parser("projections", help="run, inspect or rebuild the read models")
    actions = projections_cmd.add_subparsers(dest="action", required=True)
    actions.add_parser("run", help="follow the event log and keep every view up to date").set_defaults(
        run=projections_run
    )
    actions.add_parser("status", help="each projection's position, lag and parked events").set_defaults(run=projections_status)
    retry_cmd = actions.add_parser("retry", help="apply one projection's parked events again, after a fix")
    retry_cmd.add_argument("name", choices=[p.name for p in PROJECTIONS])
    retry_cmd.set_defaults(run=projections_retry)
    rebuild_cmd = actions.add_parser("rebuild", help="rebuild one view from the whole log")
    rebuild_cmd.add_argument("name", choices=[p.name for p in PROJECTIONS])
    rebuild_cmd.set_defaults(run=projections_rebuild)

    outbox_cmd = commands.add_parser("outbox", help="the letters waiting to go out")
    outbox_actions = outbox_cmd.add_subparsers(dest="action", required=True)
    outbox_retry_cmd = outbox_actions.add_parser("retry", help="try every pending letter now (after an outage)")
    outbox_retry_cmd.add_argument("--failed", action="store_true", help="also the letters marked failed")
    outbox_retry_cmd.set_defaults(run=outbox_retry)

    export_cmd = commands.add_parser("export", help="write the event log and the outbox's sent state to a file")
    export_cmd.add_argument("file", type=Path)
    export_cmd.set_defaults(run=export_log)
    import_cmd = commands.add_parser("import", help="restore an export into an empty database, and build every view")
    import_cmd.add_argument("file", type=Path)
    import_cmd.set_defaults(run=import_log)

    commands.add_parser("demo", help="seed a small demo tribe").set_defaults(run=seed_demo)
    commands.add_parser(
        "inbound", help="receive calendar answers (iTIP REPLY) where COOKOUT_INBOUND_URL says"
    ).set_defaults(run=receive_answers)
    return top


def add_host_port(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)


def serve(args: argparse.Namespace) -> int:
    """One supervised process tree: the embedded database lives in this process, the rest are children
    that get its URL, so they run exactly as they would in production."""
    settings = served_at(load_settings(), args.host, args.port)
    settings.check_mail()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    cleared = clear_leftovers(settings.data_path)
    if cleared:
        print(f"cookout: stopped what a previous serve left running (pids {', '.join(map(str, cleared))}).",
              file=sys.stderr)
    check_port_free(args.host, args.port)
    holders: list[object] = []
    url = database_url(settings, holders)
    container = bootstrap(settings, url=url)
    if args.demo:
        created = demo.seed(container)
        if created:
            print(f"Demo members created ({', '.join(created)}); their password is {demo.DEMO_PASSWORD!r}.")
    container.close()

    env = {
        **os.environ,
        "COOKOUT_DATABASE_URL": url,
        "COOKOUT_SECRET_KEY": settings.secret,
        "COOKOUT_DATA_DIR": str(settings.data_path),
        # Letters, .ics files and feeds are made in the children: they link to where this tree serves.
        "COOKOUT_BASE_URL": settings.base_url,
        # The children get a URL, but the server behind it is this process's own embedded one.
        "COOKOUT_DATABASE_IS_EMBEDDED": "1" if settings.embedded_database else "0",
    }
    prepare_metrics_folder(settings, env)  # the children count into one folder, which the web's /metrics reads
    me = [sys.executable, "-m", "cookout.platform.cli"]
    children = {
        "web": [*me, "web", "--host", args.host, "--port", str(args.port)],
        "projections": [*me, "projections", "run"],
        "worker": [*me, "worker", "--concurrency", "2"],
        # Its own child, not `worker --beat`: Celery forks that beat off the worker, a grandchild the
        # tree could not stop if the worker had to be killed.
        "beat": [*me, "beat"],
    }
    if settings.inbound_url:
        children["inbound"] = [*me, "inbound"]
    # Each part names itself to Postgres (pg_stat_activity.application_name), so its connections can be told apart.
    running = {name: start_child(command, {**env, "PGAPPNAME": f"cookout {name}"}) for name, command in children.items()}
    record_tree(settings.data_path, list(running.values()))
    print(f"Cookout is running on {settings.base_url}  (Ctrl-C stops it)", flush=True)
    print(f"Mail: {mail_destination(settings)}", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Both, explicitly: a tree started from a background job (a CI script, `nohup … &`) inherits an
    # ignored SIGINT, and Ctrl-C or `kill -INT` must still stop it.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    restarts = Restarts()
    while not stopping:
        time.sleep(0.5)
        for name, process in list(running.items()):
            if process.poll() is None:
                continue
            if not restarts.allow(name):
                print(f"cookout: {name} keeps stopping (exit {process.returncode}); giving up.", file=sys.stderr)
                stopping = True
                break
            print(f"cookout: {name} stopped (exit {process.returncode}); restarting.", file=sys.stderr)
            running[name] = start_child(children[name], {**env, "PGAPPNAME": f"cookout {name}"})
            record_tree(settings.data_path, list(running.values()))
    for process in running.values():
        if process.poll() is None:
            # SIGTERM, not SIGINT: a tree started in the background (nohup, `&` in a script) inherits an
            # ignored SIGINT, and each child stops cleanly on SIGTERM.
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in running.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"cookout: pid {process.pid} did not stop within 15 s; killing it.", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # and anything it started that outlived it
        process.wait()
    forget_tree(settings.data_path)
    holders.clear()
    print("Cookout stopped.")
    return 0


# Not uvicorn's proxy headers: it believes X-Forwarded-For from loopback, so each forged address would get a
# fresh rate-limit bucket. `client_ip` reads it, and only from COOKOUT_TRUSTED_PROXIES.
# A web process that has not answered uvicorn's health ping within 30 s is replaced: its default of 5 s
# kills every process still importing the app on a busy machine, so `--workers N` never came up.
SERVER_OPTIONS = {"proxy_headers": False, "timeout_worker_healthcheck": 30}


def web(args: argparse.Namespace) -> int:
    settings = served_at(load_settings(), args.host, args.port)
    settings.check_mail()  # fail fast, with one line, on a bad or missing value
    # The app (in each uvicorn worker) reads its settings from the environment.
    os.environ["COOKOUT_BASE_URL"] = settings.base_url
    prepare_metrics_folder(settings)  # the N processes count into one folder; each /metrics adds them up
    # uvicorn picks httptools and uvloop (our dependencies) on its own ("auto"): less CPU per request than h11.
    # Each process logs through Cookout's handler; the app logs every request, with its id, instead of uvicorn.
    uvicorn.run("cookout.platform.web.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="info", log_config=logging_config(settings.log_format),
                access_log=False, **SERVER_OPTIONS)
    return 0


def worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.check_mail()
    argv = ["worker", "--loglevel=INFO", "--pool=threads", f"--concurrency={args.concurrency}"]
    if args.beat:
        argv.append("--beat")
    # The threads pool: every task shares the one container built here (a forking pool would copy its
    # open connections into each child).
    with bootstrap(settings) as container:
        CookoutCelery(settings, container, queue=args.queue, logs=True).worker_main(argv)
    return 0


def beat(args: argparse.Namespace) -> int:
    CookoutCelery(load_settings(), logs=True).start(["beat", "--loglevel=INFO"])
    return 0


def projections_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_format)
    tasks = CookoutCelery(settings)
    container = bootstrap(settings, enqueue=tasks.enqueue)
    hand_over(tasks.enqueue, container.outbox.due_keys())  # a deferred letter keeps its next try
    container.start_projections(standby=True)
    signal.signal(signal.SIGTERM, lambda *_: container.stop_projections())
    print("Projections are following the event log.", flush=True)
    try:
        container.run_projections_forever()
    finally:
        container.close()
    return 0


def projections_status(args: argparse.Namespace) -> int:
    with bootstrap(load_settings()) as container:
        head = container.log_position()
        counts = container.parked.counts()
        print(f"{'projection':<24}{'position':>10}{'lag':>8}{'parked':>8}")
        for projection in PROJECTIONS:
            position = container.view(projection).position()
            print(f"{projection.name:<24}{position:>10}{head - position:>8}{counts.get(projection.name, 0):>8}")
        for projection in PROJECTIONS:
            for row in container.parked.of(projection.name):
                print(f"parked: {projection.name} at {row['notification_id']} ({row['topic']}, "
                      f"{row['parked_at']:%Y-%m-%d %H:%M:%S}): {row['error']}")
    return 0


def projections_retry(args: argparse.Namespace) -> int:
    settings = load_settings()
    with bootstrap(settings, enqueue=CookoutCelery(settings).enqueue) as container:
        applied, still = container.retry_parked(projection_named(args.name))
        print(f"{args.name}: {applied} parked events applied, {still} still parked.")
    return 1 if still else 0


def projections_rebuild(args: argparse.Namespace) -> int:
    with bootstrap(load_settings()) as container:
        projection = projection_named(args.name)
        head = rebuild(container, projection)
        print(f"Rebuilt {projection.name} from the log up to position {head}.")
    return 0


def rebuild(container: Container, projection: type, timeout: float = 600) -> int:
    """Build one view again from the whole log beside the live one, which pages go on reading, and switch
    to it: through `cookout projections run` if it is running, or here."""
    try:
        return container.rebuild_beside(projection, timeout)
    except TimeoutError as error:
        raise ConfigurationError(str(error)) from None


def outbox_retry(args: argparse.Namespace) -> int:
    settings = load_settings()
    with bootstrap(settings) as container:
        keys = container.outbox.make_due(failed_too=args.failed)
        hand_over(CookoutCelery(settings).enqueue, keys)
        print(f"{len(keys)} letters handed to the workers again.")
    return 0


def export_log(args: argparse.Namespace) -> int:
    with bootstrap(load_settings()) as container:
        events, letters = backup.export(container, args.file)
        print(f"Exported {events} events and {letters} letters to {args.file}.")
    return 0


def import_log(args: argparse.Namespace) -> int:
    with bootstrap(load_settings()) as container:
        events, letters = backup.restore(container, args.file)
        print(f"Imported {events} events and {letters} letters from {args.file}; every view is built.")
    return 0


def receive_answers(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_format)
    inbound.run(settings)
    return 0


def seed_demo(args: argparse.Namespace) -> int:
    with bootstrap(load_settings()) as container:
        created = demo.seed(container)
        print(f"Created {len(created)} demo members; their password is {demo.DEMO_PASSWORD!r}." if created
              else "The demo tribe is already here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
