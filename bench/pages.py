"""Pages against the bare-render ceiling (issue 13, target 3): the home, tribe and meetup pages served by
`cookout web`, against a bare Litestar app (bench/_bare_pages.py) rendering the same templates from the
contexts those pages rendered, at 1 and 2 web workers. Target: every page at least 0.5 of the bare app.

The site is made through the commands: a tribe of a few hundred members (`big_tribe.grow_tribe`), a few
smaller ones, posts with comments, and a meetup with an agenda, most of the tribe invited and many going.
Each page is rendered once in this process through the real app, with its template engine recording the
template name, the context and what the view-reading template callables answered; the bare app replays
those. Both serve from processes of their own, with the projections in a third. Load is `wrk` (one
thread, 8 keep-alive connections, gzip accepted), as a visitor and as a signed-in member who is going;
real and bare alternate page by page, over a few rounds, and the medians are reported.

    python bench/pages.py   (BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_MEMBERS=300; needs `wrk` on PATH;
                             COOKOUT_BENCH_DATABASE_URL optional)
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from jinja2 import pass_context
from litestar.testing import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bare_pages import REPLAYED, create_bare_app  # noqa: E402
from _setup import acting_as, bench_container, machine  # noqa: E402
from big_tribe import PASSWORD, grow_tribe  # noqa: E402
from rsvp_throughput import serve, sign_in  # noqa: E402

from cookout.platform.container import Container  # noqa: E402
from cookout.platform.web.app import create_app  # noqa: E402
from cookout.platform.web.base import VIEWER_KEY  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "300"))
CONNECTIONS = 8
POSTS, COMMENTS = 24, 5
GOING, MAYBE = 60, 20
RATE, WEB, DB = "rate", "web_ms", "db_ms"


def build_site(container: Container) -> dict[str, Any]:
    """The big tribe, five small ones, posts with comments, and a meetup with sessions and answers."""
    tribe_id, people = grow_tribe(container, MEMBERS, "big", bulk=True)
    organiser = people[0]
    with acting_as(organiser):
        for n in range(5):
            container.tribes.found_tribe(f"Small {n}", f"small{n}", f"Small tribe number {n}", "smalls")
        posts = [container.threads.publish_post(tribe_id, f"Post {n}: what we talk about",
                                                f"A post about **topic {n}**, with [a link](https://example.org/{n}).")
                 for n in range(POSTS)]
    for n, post_id in enumerate(posts):
        for c in range(COMMENTS):
            with acting_as(people[1 + (n + c) % (MEMBERS - 1)]):
                container.threads.post_comment(post_id, f"Comment {c} on post {n}: *agreed*.")
    starts = datetime.now(UTC) + timedelta(days=10)
    at = lambda hours: (starts + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    with acting_as(organiser):
        meetup_id = container.meetings.schedule(
            tribe_id, title="The big cookout", description="Bring **food**, meet the tribe.\n\n- games\n- talks",
            starts_at=at(0), ends_at=at(8), timezone="Europe/Berlin", venue="The park", address="1 Main St",
            capacity=GOING + 20)
        for n in range(4):
            container.meetings.add_session(meetup_id, title=f"Talk {n}", starts_at=at(n + 1), ends_at=at(n + 2),
                                           room="Tent", speaker=f"Member {n + 1}")
        container.meetings.invite(meetup_id, people[1:])
    for n, person in enumerate(people[1:GOING + MAYBE + 1]):
        with acting_as(person):
            container.meetings.answer(meetup_id, "going" if n < GOING else "maybe")
    container.wait_for(container.log_position(), timeout=900)
    return {"paths": ["/", "/t/big", f"/m/{meetup_id}"], "member": "big_1"}  # grow_tribe's handle for people[1]


def capture(container: Container, paths: list[str], handle: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Each page as the real app renders it for a visitor and for the member: its template, context, the
    answers of the template callables that read views, and the viewer's zone."""
    app = create_app(container.settings, container)
    engine = app.template_engine
    recorded: dict[str, Any] = {}
    for name in REPLAYED:
        real = engine.engine.globals[name]

        def recording(context: Any, *args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            recorded["callables"][_name] = answer = _real(context, *args, **kwargs)
            return answer
        engine.engine.globals[name] = pass_context(recording)
    get_template = engine.get_template

    class Recording:
        def __init__(self, name: str):
            self.name, self.template = name, get_template(name)

        def render(self, **context: Any) -> str:
            request = context["request"]
            recorded.update(template=self.name, callables={},
                            context={k: v for k, v in context.items() if k not in ("request", "csrf_input")})
            html = self.template.render(**context)
            recorded["viewer"] = request.scope.get(VIEWER_KEY)
            return html

    engine.get_template = Recording  # type: ignore[method-assign]
    pages: dict[tuple[str, str], dict[str, Any]] = {}
    with TestClient(app=app) as client:
        for who in ("visitor", "member"):
            if who == "member":
                client.get("/login")
                signed = client.post("/login", data={"login": handle, "password": PASSWORD,
                                                     "_csrf_token": client.cookies["csrftoken"]})
                assert signed.status_code in (200, 303), signed.status_code
            for path in paths:
                recorded.clear()
                response = client.get(path)
                assert response.status_code == 200, (path, who, response.status_code)
                pages[(path, who)] = {**recorded, "bytes": len(response.content)}
    return pages


def check_bare(captured_file: Path, captured: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The bare app renders each page as the real one did (to the byte, but for the random CSRF token)."""
    os.environ["COOKOUT_BENCH_CAPTURED"] = str(captured_file)
    bare = create_bare_app()
    bare.debug = True  # a failure says why
    with TestClient(app=bare) as client:
        for (path, who), page in captured.items():
            client.cookies.clear()
            if who == "member":
                client.cookies["cookout_session"] = "x"
            response = client.get(path)
            assert response.status_code == 200 and len(response.content) == page["bytes"], (
                path, who, response.status_code, len(response.content), page["bytes"], response.text[-2000:])


def serve_bare(captured: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "COOKOUT_BENCH_CAPTURED": str(captured)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(Path(__file__).parent),
                               "_bare_pages:create_bare_app", "--port", str(port), "--workers", str(workers),
                               "--no-access-log", "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            httpx.get(f"{base_url}/", timeout=1)
            return server, base_url
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    times = {}
    for process in processes:
        try:
            used = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        times[process.pid] = used.user + used.system
    return times


def server_processes(server: subprocess.Popen[bytes], database_url: str) -> list[psutil.Process]:
    """The web server's processes (uvicorn's workers too) and the Postgres backends serving our database."""
    web = psutil.Process(server.pid)
    with psycopg.connect(database_url, autocommit=True) as connection:
        backends = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return [web, *web.children(recursive=True), *(psutil.Process(pid) for pid in backends)]


def wrk(url: str, cookies: str | None, server: subprocess.Popen[bytes], database_url: str) -> dict[str, float]:
    """Requests per second over SECONDS from CONNECTIONS keep-alive connections (every answer a 200), and
    the CPU milliseconds each request cost the web processes and Postgres: on a machine others load, the
    CPU a request takes says more about the ceiling than the rate."""
    headers = ["-H", "Accept-Encoding: gzip"] + (["-H", f"Cookie: {cookies}"] if cookies else [])
    before = cpu_seconds(server_processes(server, database_url))
    out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", *headers, url],
                         capture_output=True, text=True, check=True).stdout
    after = cpu_seconds(server_processes(server, database_url))
    assert "Non-2xx" not in out, out
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    web_pids = {p.pid for p in [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]}
    used = {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
            "web_ms": 1000 * sum(s for pid, s in used.items() if pid in web_pids) / requests,
            "db_ms": 1000 * sum(s for pid, s in used.items() if pid not in web_pids) / requests}


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/pages.py needs wrk (apt-get install -y wrk)")
    with bench_container(separate_projections=True) as container:
        started = time.perf_counter()
        site = build_site(container)
        print(f"site built through the commands in {time.perf_counter() - started:.0f} s, "
              f"{container.log_position():,} events", flush=True)
        captured = capture(container, site["paths"], site["member"])
        captured_file = container.settings.data_path / "captured.pickle"
        captured_file.write_bytes(pickle.dumps({"base_url": container.settings.base_url, "pages": captured}))
        check_bare(captured_file, captured)
        servers: dict[tuple[str, int], tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for workers in (1, 2):
                servers[("real", workers)] = serve(container, workers)
                servers[("bare", workers)] = serve_bare(captured_file, workers)
            member_cookies, _ = sign_in(servers[("real", 1)][1], site["member"])
            # A browser holds the CSRF cookie once it has it: without one, each page would set a new one.
            with httpx.Client() as client:
                visitor_cookies = f"csrftoken={client.get(servers[('real', 1)][1] + '/').cookies['csrftoken']}"
            who_cookies = {"visitor": visitor_cookies, "member": member_cookies}
            runs: dict[tuple[str, str, int, str], list[dict[str, float]]] = {}
            for round_number in range(ROUNDS):
                for workers in (1, 2):
                    for path in site["paths"]:
                        for who, cookies in who_cookies.items():
                            for kind in ("real", "bare"):
                                server, base_url = servers[(kind, workers)]
                                runs.setdefault((path, who, workers, kind), []).append(
                                    wrk(base_url + path, cookies, server, container.url))
                print(f"round {round_number + 1} of {ROUNDS} done", flush=True)
        finally:
            for server, _ in servers.values():
                server.send_signal(signal.SIGINT)
            for server, _ in servers.values():
                server.wait(timeout=60)

    print(f"machine: {machine()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(f"wrk, {CONNECTIONS} connections, {SECONDS} s per measurement, {ROUNDS} rounds, {MEMBERS} members in the "
          f"tribe; req/s per round, the median ratio, and the median CPU per request (web processes + Postgres)")
    names = dict(zip(site["paths"], ("home", "tribe", "meetup"), strict=True))
    ratios: list[float] = []
    for workers in (1, 2):
        for path in site["paths"]:
            for who in ("visitor", "member"):
                real, bare = runs[(path, who, workers, "real")], runs[(path, who, workers, "bare")]
                ratios.append(statistics.median(r["rate"] / b["rate"] for r, b in zip(real, bare, strict=True)))
                cpu = {kind: statistics.median(r["web_ms"] + r["db_ms"] for r in measured)
                       for kind, measured in (("real", real), ("bare", bare))}
                print(f"  {workers} worker{'s' if workers > 1 else ' '} {names[path]:6} {who:7} "
                      f"({captured[(path, who)]['bytes'] / 1024:.0f} KiB): "
                      f"real {', '.join(f'{r[RATE]:.0f}' for r in real)}; "
                      f"bare {', '.join(f'{b[RATE]:.0f}' for b in bare)}; ratio median {ratios[-1]:.2f}; "
                      f"CPU per request real {cpu['real']:.2f} ms (web {statistics.median(r[WEB] for r in real):.2f}, "
                      f"Postgres {statistics.median(r[DB] for r in real):.2f}), bare {cpu['bare']:.2f} ms, "
                      f"ratio {cpu['bare'] / cpu['real']:.2f}")
    print(f"  lowest ratio of rates {min(ratios):.2f} (target >= 0.5 for every page)")


if __name__ == "__main__":
    main()
