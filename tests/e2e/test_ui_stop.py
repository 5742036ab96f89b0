"""`aquamind ui` as a user starts it in the background: the UI and the report server answer, and
one SIGTERM to the `aquamind` process alone stops it and every process it started (webserver,
daemon, code servers), freeing both ports. The chaos benchmark kills and restarts it on this basis.
"""
from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from conftest import aquamind_ui

pytestmark = pytest.mark.slow


def _descendants(root: int) -> set[int]:
    """Live (non-zombie) descendants of `root`, from /proc's parent links."""
    parents: dict[int, int] = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(d.name)] = int(fields[1])
    out, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_ui_and_everything_it_started(e2e_env, dagster_instance, tmp_path):
    with aquamind_ui(e2e_env, tmp_path / "ui.log") as ui:
        with urlopen(f"http://127.0.0.1:{ui.files_port}/", timeout=10) as resp:
            assert resp.status == 200 and b"/report/" in resp.read()
        started = _descendants(ui.proc.pid)
        assert len(started) >= 3, f"expected dagster dev, its webserver, daemon and code servers: {started}"

        os.kill(ui.proc.pid, signal.SIGTERM)  # the supervisor alone, not its group
        assert ui.proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in started):
            time.sleep(0.2)
        left = sorted(p for p in started if _alive(p))
        assert not left, f"left behind after SIGTERM: {left}"
        assert not _port_open(ui.port) and not _port_open(ui.files_port)
        out = ui.log.read_text()
        # dagster dev's proxy can respawn a code server while it shuts down; `aquamind ui` then
        # SIGKILLs that straggler itself (and says so): what counts is that nothing is left
        assert "stopped on SIGTERM" in out, out[-2000:]
