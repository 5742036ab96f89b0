"""Corruption committed straight into the warehouse (bypassing every load) is caught by
`aquamind validate`, run as a user runs it: a subprocess with AQUAMIND_DATABASE_URL and a throwaway
DAGSTER_HOME holding a copy of dagster_home/dagster.yaml.

The injections are those of the per-rule tests (tests/defs/test_production.py and
tests/defs/test_health_asset.py, imported, not copied); there each is rolled back, here one per rule
module is committed on its own copy of a complete database. Per-rule coverage lives there.
"""
from __future__ import annotations

import shutil
import subprocess

import psycopg
import pytest

from rel_helpers import AQUAMIND, REPO, child_env, create_db, drop_db_later, load_test_module, url_of

PRODUCTION = load_test_module("defs/test_production.py", "rel_injections_production")
HEALTH = load_test_module("defs/test_health_asset.py", "rel_injections_health")
INJECTIONS = {**PRODUCTION.INJECTIONS, **HEALTH.INJECTIONS}
# rule module -> the rule whose injected violation is committed (one per module is enough here)
PICKS = {"batches": "container_capacity", "mortality": "mortality_positive", "harvest": "gutted_below_live",
         "environment": "reading_in_range", "infrastructure": "pen_fish_limit",
         "health": "treatment_withholding_recorded"}


def _validate(url: str, dagster_url: str, home) -> subprocess.Popen:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = child_env(url, home, "rel-validate", AQUAMIND_DAGSTER_DATABASE_URL=dagster_url)
    env.pop("AQUAMIND_SCALE")
    return subprocess.Popen([*AQUAMIND, "validate"], env=env, cwd=str(REPO), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def validated(admin_url, template, tmp_path_factory):
    """{module or 'clean': (returncode, stdout, stderr)}: one copy of the template per rule module,
    its violation committed, then every `aquamind validate` at once (they are independent). They
    share one Dagster storage database (AQUAMIND_DAGSTER_DATABASE_URL; validate does not write it)."""
    tmp = tmp_path_factory.mktemp("validate")
    dagster_db = create_db(admin_url, "corrupt_dagster")  # one Dagster storage database for all of them
    made, procs = [dagster_db], {}
    try:
        for group in ("clean", *PICKS):
            name = create_db(admin_url, f"corrupt_{group}", template=template["name"])
            made.append(name)
            url = url_of(admin_url, name)
            if group != "clean":
                rule = PICKS[group]
                _, injection = INJECTIONS[rule]
                with psycopg.connect(url, autocommit=True) as conn:  # committed, unlike the per-rule tests
                    assert conn.execute(injection).rowcount >= 1, f"the injection for {rule} changed nothing"
            procs[group] = _validate(url, url_of(admin_url, dagster_db), tmp / group)
        outputs = {g: p.communicate(timeout=120) for g, p in procs.items()}
        yield {g: (procs[g].returncode, *outputs[g]) for g in procs}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        drop_db_later(admin_url, *made)


def test_validate_passes_on_the_uncorrupted_copy(validated):
    """`aquamind validate` on an uncorrupted copy of the complete database -> exit 0, every rule passed (so a failure below is the injection's)"""
    # guard: the same as below, seen from its clean side: no false alarm on correct data.
    rc, out, err = validated["clean"]
    assert rc == 0, out[-3000:] + err[-3000:]
    assert "every rule passed" in out and "FAIL" not in out


@pytest.mark.parametrize("group", sorted(PICKS))
def test_committed_corruption_is_named_by_validate(validated, group):
    """A violation of one rule committed straight into the warehouse (per rule module) -> `aquamind validate` exits non-zero and names the rule in a FAIL line"""
    # guard: cli/inspect.py validate (rules/catalogue.audit over every stored load, exit 1 on a failure).
    rc, out, err = validated[group]
    rule = PICKS[group]
    assert rc == 1, f"exit {rc}: {out[-2000:]} {err[-2000:]}"
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    named = [line for line in fails if f"check {rule} failed" in line]
    assert named, f"{rule} not named; FAIL lines: {fails}"
    assert "violate" in named[0] and "Traceback" not in out + err
    assert "failed rule evaluation" in out.splitlines()[-1]
