"""How `cookout serve` keeps its process tree together: children that die with it, and a record of them
so the next `serve` can clear what a killed one left running.

Each child runs in a session of its own (the tree stops it, and whatever it started, as one process
group) and asks Linux for a parent-death signal: when `serve` dies, even by SIGKILL, every child gets
SIGTERM. The tree's pids are also written to `DATA_DIR/serve.json`; a `serve` that finds one whose owner
is dead kills the process groups still there (on systems without parent-death signals, or from a
child that ignored it), so their port and their advisory locks are free again.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import psutil

from cookout.platform.settings import ConfigurationError

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
RECORD = "serve.json"
LEFTOVERS_SECONDS = 10  # how long the killed groups get to go before a new tree starts


class Restarts:
    """How often each child may be restarted: `limit` times within `window` seconds. A child that keeps
    stopping is given up on; one that stops now and then, over weeks, is restarted each time."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self.times: dict[str, deque[float]] = {}

    def allow(self, name: str) -> bool:
        """Whether `name` may be restarted now; counts the restart if so."""
        now = self.clock()
        recent = self.times.setdefault(name, deque())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        return True


def die_with(parent: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: SIGTERM when `parent` dies. Checked once more after
    asking, in case the parent died in between (the child would then belong to init already)."""

    def ask() -> None:
        if LIBC is not None:
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return ask


def start_child(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child in a process group of its own, which the tree stops whole: whatever the child started
    goes with it. Ctrl-C reaches only `serve`, which stops the children in order; if `serve` is killed,
    the children get SIGTERM from the kernel."""
    return subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=die_with(os.getpid()))


def started_at(pid: int) -> float | None:
    """A process's start time, which tells it apart from a later process given the same pid."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def record_tree(data_path: Path, children: list[subprocess.Popen[bytes]]) -> None:
    """Write who is in the tree now (this process and each child), atomically."""
    entries = [{"pid": pid, "started": started_at(pid)} for pid in [os.getpid(), *(c.pid for c in children)]]
    temporary = data_path / f"{RECORD}.tmp"
    temporary.write_text(json.dumps({"serve": entries[0], "children": entries[1:]}))
    os.replace(temporary, data_path / RECORD)


def forget_tree(data_path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_path / RECORD).unlink()


def running(entry: dict[str, object]) -> bool:
    return entry.get("started") is not None and started_at(int(entry["pid"])) == entry["started"]  # type: ignore[arg-type]


def clear_leftovers(data_path: Path) -> list[int]:
    """Kill the process groups a dead `serve` in this data dir left running; returns their pids.
    Refused while that `serve` still runs: two trees on one data dir would fight over it."""
    try:
        record = json.loads((data_path / RECORD).read_text())
    except (FileNotFoundError, ValueError):
        return []
    if running(record["serve"]) and record["serve"]["pid"] != os.getpid():
        raise ConfigurationError(f"cookout serve is already running on {data_path} (pid {record['serve']['pid']});"
                                 " stop it first")
    left = [int(entry["pid"]) for entry in record["children"] if running(entry)]
    members = []
    for group in left:
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if os.getpgid(process.pid) == group:
                    members.append(process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    psutil.wait_procs(members, timeout=LEFTOVERS_SECONDS)
    forget_tree(data_path)
    return left


def check_port_free(host: str, port: int) -> None:
    """Say which port is taken, in one line, rather than let the web child fail five times."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(f"port {port} on {host} is taken ({error.strerror}): stop what listens"
                                     " there, or choose another with --port") from None
