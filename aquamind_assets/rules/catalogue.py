"""The rule catalogue: every invariant of the stored data, once, with the asset that owns it, the
domain sections it enforces and its forms.

Each asset's module (batches.py, health.py, ...) writes its rules; this module is the one list
everything else reads: a load runs `at_load(asset)` (a rule's frame form where it has one, else its
SQL), `aquamind validate` runs `audit(loads)` (the SQL form of every rule, over everything stored),
the load and the audit store their results under the rule's name (meta.rule_evaluation), and
docs/rules.md is `markdown()`. A rule's scope says where it runs: `year` (each stored year, at load
and in the audit), `static` (the static load, the audit), `all` (the audit only, across years).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..warehouse.checks import Check
from ..warehouse.frame_checks import FrameCheck, FrameTotal
from ..warehouse.locks import named_tables
from . import (batches, environment, feeding, growth, harvest, health, infrastructure, infrastructure_changes,
               mortality)

STATIC_ASSET = "static"  # the load record's name for the reference data and infrastructure
_SECTION = re.compile(r"§([\d.]+)")
_TABLE = re.compile(r"^(infrastructure|batch|inventory|health|environmental|harvest)\.\w+$")


@dataclass(frozen=True)
class Rule:
    asset: str
    sql: Check  # the audit's form, and the load's when there is no frame form
    frame: FrameCheck | FrameTotal | None = None  # evaluated on the frames as they are written
    scope: str = "year"

    @property
    def name(self) -> str:
        return self.sql.name

    @property
    def description(self) -> str:
        return self.sql.description

    @property
    def sections(self) -> tuple[str, ...]:
        """The domain sections (docs/domain.md) the description cites."""
        return tuple(_SECTION.findall(self.description))

    @property
    def at_load(self) -> Check | FrameCheck | FrameTotal:
        return self.frame if self.frame is not None else self.sql

    @property
    def forms(self) -> str:
        return "frame + sql" if self.frame else "sql"

    def tables(self) -> list[str]:
        """The warehouse tables its SQL reads (what a frame form would need beside the frame)."""
        return sorted(n for n in named_tables(self.sql.statements) if _TABLE.match(n))

    def row(self) -> tuple:
        """Its meta.rule row (what dbt's data-quality marts expect to find evaluated)."""
        return (self.name, self.asset, self.scope, self.description, ", ".join(self.sections), self.forms,
                self.at_load.min_examined, ", ".join(self.tables()))


def _rules_of(asset: str, module) -> list[Rule]:
    frames = {f.name: f for f in getattr(module, "FRAME_RULES", [])}
    out = [Rule(asset, c, frames.get(c.name)) for c in [*module.RULES, *getattr(module, "AUDIT", [])]]
    return out + [Rule(asset, c, scope="all") for c in getattr(module, "CROSS_YEAR", [])]


BY_ASSET = {"infrastructure_changes": infrastructure_changes, "batches": batches, "mortality_events": mortality,
            "harvest": harvest, "environmental_readings": environment, "health": health, "growth_samples": growth,
            "feeding": feeding}
CATALOGUE: tuple[Rule, ...] = (
    *(Rule(STATIC_ASSET, c, scope="static") for c in infrastructure.RULES),
    *(r for asset, module in BY_ASSET.items() for r in _rules_of(asset, module)),
)


def at_load(asset: str) -> list[Check | FrameCheck | FrameTotal]:
    """What a load of the asset evaluates, in catalogue order."""
    return [r.at_load for r in CATALOGUE if r.asset == asset and r.scope in ("year", "static")]


def audit(loads: list[dict]):
    """(asset, year, SQL rules) for every stored load, then the cross-year rules (year 0) of every
    asset with a stored year."""
    stored = {rec["asset"] for rec in loads}
    for rec in loads:
        scope = "static" if rec["asset"] == STATIC_ASSET else "year"
        rules = [r.sql for r in CATALOGUE if r.asset == rec["asset"] and r.scope == scope]
        if rules:
            yield rec["asset"], rec["year"], rules
    for asset in BY_ASSET:
        rules = [r.sql for r in CATALOGUE if r.asset == asset and r.scope == "all"]
        if asset in stored and rules:
            yield asset, 0, rules


def publish(conn, asset: str | None = None) -> None:
    """Write the catalogue's rules (of one asset, or all) into meta.rule, so the stored results can
    be held against what should have been evaluated. Each statement is its own transaction holding
    one table lock, so it cannot join a lock cycle; rows go in name order, so concurrent publishers
    of the same asset meet their row locks in one order."""
    rules = sorted((r for r in CATALOGUE if asset is None or r.asset == asset), key=lambda r: r.name)
    with conn.cursor() as cur:
        if cur.execute("SELECT to_regclass('meta.rule')").fetchone()[0] is None:
            return  # no warehouse yet (its first load creates the table)
        cur.executemany(
            """INSERT INTO meta.rule AS r (rule, asset, scope, description, sections, forms, min_examined, reads)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (rule) DO UPDATE SET asset = EXCLUDED.asset, scope = EXCLUDED.scope,
                   description = EXCLUDED.description, sections = EXCLUDED.sections, forms = EXCLUDED.forms,
                   min_examined = EXCLUDED.min_examined, reads = EXCLUDED.reads
               WHERE (r.*) IS DISTINCT FROM (EXCLUDED.*)""", [r.row() for r in rules])
        names = [r.name for r in rules]
        if asset is None:
            cur.execute("DELETE FROM meta.rule WHERE rule <> ALL(%s)", (names,))
        else:
            cur.execute("DELETE FROM meta.rule WHERE asset = %s AND rule <> ALL(%s)", (asset, names))


def markdown() -> str:
    """docs/rules.md: the catalogue as a table (regenerate: python -m aquamind_assets.rules.catalogue)."""
    lines = ["# The rule catalogue", "",
             "Generated from `aquamind_assets/rules/catalogue.py` (`python -m aquamind_assets.rules.catalogue "
             "> docs/rules.md`); a test keeps it current. *Forms*: `frame` rules are decided on every row as it "
             "is written, `sql` rules by a query in the load's transaction; the audit (`aquamind validate`) runs "
             "every rule's SQL. *Reads*: the tables a rule without a frame form needs.", "",
             "| rule | asset | scope | §domain | forms | reads |", "|---|---|---|---|---|---|"]
    for r in CATALOGUE:
        reads = "" if r.frame else ", ".join(f"`{t}`" for t in r.tables())
        lines.append(f"| `{r.name}` | {r.asset} | {r.scope} | {', '.join(r.sections)} | {r.forms} | {reads} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
