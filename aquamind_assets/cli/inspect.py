"""`aquamind status` and `aquamind validate`: what is stored, by the load records and by Dagster, and
every rule's SQL over everything stored (the audit; `--json`: one object per rule evaluation)."""
from __future__ import annotations

import json

import psycopg

from ..config.years import YEARS
from ..rules.catalogue import audit, publish
from ..warehouse import locks
from ..warehouse.checks import run_checks
from ..warehouse.load_record import write_evaluations
from ..warehouse.status import partition_status
from .connection import connect


def status(args) -> int:
    from ..definitions import YEARLY_ASSETS
    from .runs import instance

    with psycopg.connect(connect().warehouse_url, autocommit=True) as conn:
        loads = {(r["asset"], r["year"]): r for r in partition_status(conn)}
    inst = instance()
    bad = 0
    print(f"{'asset':<24}{'year':>6}{'rows':>14}  {'warehouse':<10}{'dagster':<10}")
    for a in YEARLY_ASSETS:
        name = a.key.to_user_string()
        materialized = inst.get_materialized_partitions(a.key)
        for y in YEARS:
            rec = loads.get((name, y))
            in_dagster = str(y) in materialized
            flag = "" if bool(rec) == in_dagster else "  <- disagree"
            bad += bool(flag)
            print(f"{name:<24}{y:>6}{(rec['total_rows'] if rec else 0):>14,}  {'loaded' if rec else '-':<10}"
                  f"{'yes' if in_dagster else '-':<10}{flag}")
    return 1 if bad else 0


def evaluate(conn, asset: str, year: int, rules) -> list:
    """One asset-year's rules in one transaction that first takes what they read in the loads'
    lock order (warehouse/locks.py), so an audit running beside loads cannot deadlock them; the
    results are stored as the audit's (meta.rule_evaluation, source 'audit') in the same transaction."""
    params = {"year": year, "asset": asset}
    statements = [q for c in rules for q in c.statements]
    with conn.transaction(), conn.cursor() as cur:
        plan = locks.plan_locks(cur, writes=(), statements=statements, extra_reads=(),
                                year=year or None, meta_writes=("meta.rule_evaluation",))
        locks.acquire(cur, plan)
        results = run_checks(cur, rules, params)
        write_evaluations(cur, asset, year, results, source="audit", committed=True)
        return results


def validate(args) -> int:
    failed = 0
    with psycopg.connect(connect().warehouse_url, autocommit=True) as conn:
        publish(conn)
        for asset, year, rules in audit(partition_status(conn)):
            for r in evaluate(conn, asset, year, rules):
                failed += not r.passed
                if args.json:
                    print(json.dumps({"rule": r.name, "asset": asset, "year": year, "examined": r.examined,
                                      "violations": r.violations, "passed": r.passed}))
                elif not r.passed:
                    print(f"FAIL {asset} {year or 'all'}: {r.message()}")
    if not args.json:
        print(f"validate: {failed} failed rule evaluation(s)" if failed else "validate: every rule passed")
    return 1 if failed else 0
