"""`aquamind`: generate the data, open the UI, manage the database, inspect and validate.

Every command resolves the database once (runtime/) and runs against the persistent Dagster
instance in dagster_home/, so a CLI run shows in the UI like any other run. Errors are one line.
Each command's module is imported only when it runs: `aquamind db` never imports Dagster.
"""
from __future__ import annotations

import sys

from ..config.scenario import ScenarioError
from ..runtime.database import DatabaseUnreachable
from ..runtime.settings import InvalidSetting
from ..warehouse.storage import StorageError
from .errors import CliError
from .parser import parser


def _dispatch(args) -> int:
    if args.command == "db":
        from .database import cmd_db

        return cmd_db(args)
    if args.command == "ui":
        from .ui import cmd_ui

        return cmd_ui(args)
    if args.command == "generate":
        from .generate import generate

        return generate(args)
    if args.command == "export":
        from .export import export

        return export(args)
    if args.command in ("status", "validate"):
        from . import inspect

        return inspect.status(args) if args.command == "status" else inspect.validate(args)
    from ..defs.resources import Warehouse
    from .analytics import build_and_report
    from .connection import connect

    return build_and_report(Warehouse(database_url=connect().warehouse_url), out=args.out)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (CliError, ScenarioError, DatabaseUnreachable, InvalidSetting, StorageError) as e:  # InvalidDatabaseURL too
        print(f"aquamind: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aquamind: interrupted; every year either committed or rolled back", file=sys.stderr)
        return 130
