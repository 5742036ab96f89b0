"""Fixtures of the reliability tests: one simulated plan and one loaded template database per session.

`plan_cache`: the tiny scenario's plan, simulated once and copied into every throwaway DAGSTER_HOME
(children then load it instead of re-simulating). `template`: a database holding static plus
batches, mortality_events, health, harvest and environmental_readings for 2015 and 2016, all
materialized through Dagster by an undisturbed run; its load records and the 2016 readings'
fingerprint are the reference "complete previous version". `fresh_db` copies it (CREATE DATABASE
... TEMPLATE, a fraction of a second) so each test breaks its own copy.
"""
from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from rel_helpers import JANITOR, READING, create_db, drop_db_later, loads, url_of, year_fingerprint

TEMPLATE_ASSETS = ("batches", "mortality_events", "health", "harvest", "environmental_readings")
TEMPLATE_YEARS = ("2015", "2016")


@pytest.fixture(scope="session", autouse=True)
def _drop_databases_at_the_end():
    """Databases are dropped in the background (see rel_helpers._Janitor); wait for them at the end."""
    yield
    errors = JANITOR.drain()
    assert not errors, errors


@pytest.fixture(scope="session")
def rel_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rel_session_home")


@pytest.fixture(scope="session")
def plan_cache(rel_home) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(rel_home))
        from aquamind_assets.runtime.plan_cache import get_plan
        from aquamind_assets.config.scenario import load_scenario

        get_plan(load_scenario(scale="tiny"))
    path = rel_home / "plan_cache"
    assert any(path.iterdir()), "the plan was not cached on disk"
    return path


@pytest.fixture(scope="session")
def template(admin_url, plan_cache, rel_home):
    """{'name', 'url', 'loads', 'reading_2016'} of a database loaded by an undisturbed run."""
    import dagster as dg

    from aquamind_assets.definitions import YEARLY_ASSETS, defs
    from aquamind_assets.defs import static

    name = create_db(admin_url, "template")
    url = url_of(admin_url, name)
    assets = [a for a in YEARLY_ASSETS if a.key.to_user_string() in TEMPLATE_ASSETS]
    try:
        with pytest.MonkeyPatch.context() as mp:
            for var in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL", "AQUAMIND_DAGSTER_DATABASE_URL"):
                mp.delenv(var, raising=False)
            mp.setenv("AQUAMIND_DATABASE_URL", url)
            mp.setenv("AQUAMIND_SCALE", "tiny")
            mp.setenv("DAGSTER_HOME", str(rel_home))
            with dg.instance_for_test(temp_dir=str(rel_home)) as inst:
                res = {"warehouse": defs.resources["warehouse"]}
                assert dg.materialize([static.static_assets], instance=inst, resources=res).success
                for y in TEMPLATE_YEARS:
                    assert dg.materialize(assets, instance=inst, partition_key=y, resources=res).success
        with psycopg.connect(url, autocommit=True) as conn:
            snapshot = {"loads": loads(conn), "reading_2016": year_fingerprint(conn, READING, 2016)}
        n, distinct, _ = snapshot["reading_2016"]
        assert n == distinct > 10_000, snapshot["reading_2016"]
        yield {"name": name, "url": url, **snapshot}
    finally:
        drop_db_later(admin_url, name)


@pytest.fixture
def new_db(admin_url):
    """Factory: new_db(purpose, template=None, owner=None) -> (name, url); dropped (with any
    `<name>_dagster` the CLI created next to it) after the test."""
    made: list[str] = []

    def make(purpose: str, template: str | None = None, owner: str | None = None) -> tuple[str, str]:
        name = create_db(admin_url, purpose, template=template, owner=owner)
        made.append(name)
        return name, url_of(admin_url, name)

    yield make
    drop_db_later(admin_url, *made, *(f"{n}_dagster" for n in made))


@pytest.fixture
def fresh_db(new_db, template):
    """Factory: a copy of the template (complete 2015 and 2016), made in a fraction of a second."""
    return lambda purpose="copy": new_db(purpose, template=template["name"])


@pytest.fixture
def restore_environ():
    """In-process CLI commands export settings into os.environ (cli/connection.connect); undo that afterwards."""
    saved, cwd = dict(os.environ), os.getcwd()
    yield
    os.environ.clear()
    os.environ.update(saved)
    os.chdir(cwd)


@pytest.fixture
def materialize_here(monkeypatch):
    """Factory: materialize(assets, partition_key, url, home) in this process, real resources,
    throwaway sqlite instance in `home` (which also holds the plan cache), tiny scale."""
    import dagster as dg

    from aquamind_assets.definitions import defs

    for var in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL", "AQUAMIND_DAGSTER_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AQUAMIND_SCALE", "tiny")

    def run(assets, partition_key, url: str, home: Path, instance=None):
        monkeypatch.setenv("AQUAMIND_DATABASE_URL", url)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        kw = dict(partition_key=partition_key, resources={"warehouse": defs.resources["warehouse"]},
                  raise_on_error=False)
        if instance is not None:
            return dg.materialize(assets, instance=instance, **kw)
        with dg.instance_for_test(temp_dir=str(home)) as inst:
            return dg.materialize(assets, instance=inst, **kw)

    return run
