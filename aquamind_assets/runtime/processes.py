"""Processes started as a group and stopped as one: each in its own session, every descendant
tagged by an environment marker, so stopping finds what left the group too (a code server, a run
worker). SIGTERM first, then SIGKILL after a grace period; nothing is left behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

MARKER_VAR = "AQUAMIND_PROCESS_GROUP"  # inherited by every descendant of a ProcessGroup's processes


def marked_pids(marker: str) -> list[int]:
    """Pids whose environment carries MARKER_VAR=marker (this process excluded)."""
    needle = f"{MARKER_VAR}={marker}".encode() + b"\0"
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (d / "environ").read_bytes():
                out.append(int(d.name))
        except (OSError, ValueError):
            continue
    return [p for p in out if p != os.getpid()]


@dataclass
class ProcessGroup:
    """Named processes started by `start`; `stop` ends them and all their descendants."""

    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], *, env: Mapping[str, str], cwd=None,
              stdout=None) -> subprocess.Popen:
        """`env` is the child's whole environment (settings.child_env()), marked with the group's tag."""
        env = {**env, MARKER_VAR: self.marker}
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=subprocess.STDOUT if stdout is not None else None, start_new_session=True)
        self.procs[name] = p
        return p

    def exited(self) -> dict[str, int]:
        """The started processes that have ended, with their exit codes."""
        return {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}

    def _signal_groups(self, sig: int) -> None:
        for p in self.procs.values():
            try:
                os.killpg(p.pid, sig)  # start_new_session: the group id is the leader's pid
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, timeout: float = 20.0) -> list[int]:
        """SIGTERM every group, wait up to `timeout` for every marked process to end, then SIGKILL
        what is left; returns the pids that needed SIGKILL."""
        self._signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs.values():
                p.poll()  # reap the leaders, so they do not linger as zombies
            if not marked_pids(self.marker):
                break
            time.sleep(0.2)
        self._signal_groups(signal.SIGKILL)
        killed = []
        for pid in marked_pids(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        for p in self.procs.values():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return killed
