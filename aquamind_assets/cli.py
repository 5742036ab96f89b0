"""`aquamind`: generate the data, open the UI, manage the database, inspect and validate.

Every command resolves the database through settings.py and runs against the persistent Dagster
instance in dagster_home/, so a CLI run shows in the UI like any other run. Errors are one line.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

from . import settings
from .scenario import FIRST_YEAR, LAST_YEAR, ScenarioError, load_scenario, parse_years


class CliError(Exception):
    """A user-facing problem: printed as one line, exit code 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative: give a number >= 0")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aquamind", description=(
        "Ten years (2015-2024) of synthetic salmon-farming data as a Dagster + dbt platform on PostgreSQL. "
        "With no AQUAMIND_DATABASE_URL set, an embedded PostgreSQL is started under dagster_home/."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    g = sub.add_parser("generate", help="materialize every asset for the years, then dbt and the report")
    g.add_argument("--scale", choices=["tiny", "small", "full", "full2x"], help="size preset (default: the scenario's, small)")
    g.add_argument("--years", default=f"{FIRST_YEAR}-{LAST_YEAR}", help="a year or a range, e.g. 2015-2024")
    g.add_argument("--seed", type=_positive_int, help="random seed (default: the scenario's)")
    g.add_argument("--scenario", help="scenario JSON file (default: aquamind_assets/scenarios/default.json)")
    g.add_argument("--resume", action="store_true", help="only years with no matching load record or a failed last run")
    g.add_argument("--replace-all", action="store_true", help="allow replacing data written under another scenario")
    g.add_argument("--no-dbt", action="store_true", help="skip dbt and the report")
    g.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1),
                   help="years materialized at once, each in its own process (default: 2 on 2+ cores)")
    u = sub.add_parser("ui", help="start the Dagster UI (webserver + daemon) on 127.0.0.1")
    u.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=_positive_int, default=3000)
    d = sub.add_parser("db", help="the database: up|down|status|url|reset")
    d.add_argument("action", choices=["up", "down", "status", "url", "reset"])
    sub.add_parser("status", help="per asset and year: loaded or not, from load records and from Dagster")
    sub.add_parser("validate", help="rerun every rule's SQL over the stored data; non-zero exit on a violation")
    r = sub.add_parser("report", help="build the dbt models and render the HTML report")
    r.add_argument("--out", default=None, help="output folder (default reports/)")
    return p


def connect_env(start_embedded: bool = True) -> settings.DatabaseSettings:
    """Resolve the database, make sure it answers and its databases exist, export the settings."""
    s = settings.resolve(start_embedded=start_embedded)
    settings.check_reachable(s)
    settings.ensure_databases(s)
    os.environ.update(settings.export_env(s))
    return s


def cmd_db(args) -> int:
    from . import embedded_db

    if args.action == "url":
        print(settings.redact(settings.resolve(start_embedded=False).warehouse_url))
    elif args.action == "up":
        host, port = embedded_db.up()
        print(f"embedded PostgreSQL running on {host}:{port} (data in {embedded_db.status()['data_dir']})")
    elif args.action == "down":
        print("stopped" if embedded_db.down() else "not running")
    elif args.action == "reset":
        embedded_db.reset()
        print("embedded PostgreSQL stopped and its data deleted")
    else:
        for k, v in embedded_db.status().items():
            print(f"{k:12} {v}")
    return 0


def cmd_ui(args) -> int:
    connect_env()
    os.environ.setdefault("AQUAMIND_SCALE", load_scenario().scale)
    exe = shutil.which("dagster", path=os.path.dirname(sys.executable)) or "dagster"
    cmd = [exe, "dev", "-w", str(settings.repo_root() / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it; the database keeps running)")
    os.chdir(settings.repo_root())
    os.execv(exe, cmd)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .ops import commands  # imports Dagster only for commands that need it

    try:
        if args.command == "db":
            return cmd_db(args)
        if args.command == "ui":
            return cmd_ui(args)
        return commands.run(args, connect_env)
    except (CliError, ScenarioError, settings.DatabaseUnreachable, settings.InvalidDatabaseURL) as e:
        print(f"aquamind: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aquamind: interrupted; every year either committed or rolled back", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
