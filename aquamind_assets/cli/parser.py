"""The `aquamind` command line: subcommands and their options."""
from __future__ import annotations

import argparse
import os

from ..config.years import YEAR_SPAN


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
        f"Ten years ({YEAR_SPAN}) of synthetic salmon-farming data as a Dagster + dbt platform on PostgreSQL. "
        "With no AQUAMIND_DATABASE_URL set, an embedded PostgreSQL is started under dagster_home/."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    g = sub.add_parser("generate", help="materialize every asset for the years, then dbt and the report")
    g.add_argument("--scale", choices=["tiny", "small", "full", "full2x"], help="size preset (default: the scenario's, small)")
    g.add_argument("--years", default=YEAR_SPAN, help=f"a year or a range, e.g. {YEAR_SPAN}")
    g.add_argument("--seed", type=_positive_int, help="random seed (default: the scenario's)")
    g.add_argument("--scenario", help="scenario JSON file (default: aquamind_assets/config/scenarios/default.json)")
    g.add_argument("--resume", action="store_true", help="only years with no matching load record or a failed last run")
    g.add_argument("--replace-all", action="store_true", help="allow replacing data written under another scenario")
    g.add_argument("--no-dbt", action="store_true", help="skip dbt and the report")
    g.add_argument("--workers", type=_positive_int, default=max(1, (os.cpu_count() or 1) // 2),
                   help="years whose operations are materialized at once, each in its own process "
                        "(default: one per two cores, since a load keeps two busy: its producer and the server's COPY)")
    u = sub.add_parser("ui", help="start the Dagster UI (webserver + daemon) on 127.0.0.1")
    u.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=_positive_int, default=3000)
    u.add_argument("--files-port", type=_positive_int, default=None,
                   help="port of the report and dbt docs server (default: --port + 1)")
    d = sub.add_parser("db", help="the database: up|down|status|url|reset")
    d.add_argument("action", choices=["up", "down", "status", "url", "reset"])
    sub.add_parser("status", help="per asset and year: loaded or not, from load records and from Dagster")
    v = sub.add_parser("validate", help="rerun every rule's SQL over the stored data; non-zero exit on a violation")
    v.add_argument("--json", action="store_true", help="one JSON object per rule evaluation: rule, asset, year, "
                                                        "examined, violations, passed")
    e = sub.add_parser("export", help="stored tables as Parquet or CSV files, with a column dictionary")
    e.add_argument("--format", default="parquet", help="parquet (default) or csv")
    e.add_argument("--tables", help="comma-separated table names (default: every table)")
    e.add_argument("--years", default=YEAR_SPAN, help=f"a year or a range of the yearly tables, e.g. 2020 (default {YEAR_SPAN})")
    e.add_argument("--out", required=True, help="folder to write into (created if missing)")
    r = sub.add_parser("report", help="build the dbt models and render the HTML report")
    r.add_argument("--out", default=None, help="output folder (default reports/)")
    return p
