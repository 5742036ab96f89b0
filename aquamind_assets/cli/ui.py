"""`aquamind ui`: `dagster dev` (webserver, daemon, their code servers and the runs they launch)
and the report/docs file server, supervised as one: SIGINT, SIGTERM or SIGHUP stops every process it
started, and so does any of them ending on its own. The database is left running (`aquamind db down`).
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import threading

from ..config.scenario import load_scenario
from ..runtime import settings
from ..runtime.file_server import FileServer
from ..runtime.processes import ProcessGroup
from .connection import connect

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _dagster_dev(host: str, port: int) -> list[str]:
    exe = shutil.which("dagster", path=os.path.dirname(sys.executable)) or "dagster"
    return [exe, "dev", "-w", str(settings.repo_root() / "workspace.yaml"), "-h", host, "-p", str(port)]


def cmd_ui(args) -> int:
    resolved = connect()
    if settings.run_choice().scale is None:  # UI-launched runs generate the scenario's own scale unless told otherwise
        settings.export_to_environ(settings.choice_env(settings.RunChoice(scale=load_scenario().scale)))
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame) -> None:
        received.append(signum)
        stop.set()

    for s in STOP_SIGNALS:
        signal.signal(s, on_signal)
    files_port = args.files_port if args.files_port is not None else args.port + 1
    group = ProcessGroup()
    with FileServer(args.host, files_port, {"report": settings.report_dir(),
                                            "dbt-docs": settings.dbt_docs_dir()}) as files:
        settings.export_to_environ({settings.FILES_URL_VAR: files.url})
        try:
            group.start("dagster dev", _dagster_dev(args.host, args.port), env=settings.child_env(),
                        cwd=settings.repo_root())
            print(f"Dagster UI on http://{args.host}:{args.port}; the report and the dbt docs on {files.url}/\n"
                  f"Ctrl-C (or SIGTERM) stops the UI and everything it started; the database keeps running"
                  + (" (the embedded one: `aquamind db down` stops it)" if resolved.source == "embedded" else ""), flush=True)
            while not stop.wait(0.5) and not group.exited():
                pass
        finally:
            killed = group.stop(timeout=20)
    ended = group.exited()
    if received:
        print(f"aquamind ui: stopped on {signal.Signals(received[0]).name}"
              + (f" ({len(killed)} process(es) needed SIGKILL)" if killed else ""), file=sys.stderr)
        return 0
    name, code = next(iter(ended.items()))
    print(f"aquamind ui: {name} exited with code {code}; everything it started is stopped", file=sys.stderr)
    return code or 1
