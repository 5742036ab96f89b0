"""The data dictionary: every column of every mart, as the built table has it, is described.

The module loads a tiny warehouse (static assets and the first stored year), builds the seeds and
models with dbt, and runs `dbt docs generate`: manifest.json holds the descriptions the project
declares (doc blocks rendered), catalog.json the columns the database really has. A mart column
that exists in its table but has no description fails, and so does a description of a column the
table does not have. The two synthetic cases show the check reports both.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from aquamind_assets.config.years import FIRST_YEAR
from aquamind_assets.definitions import YEARLY_ASSETS
from aquamind_assets.defs import static
from aquamind_assets.defs.dbt.project import DBT_DIR

MART_DIR = DBT_DIR / "models" / "marts"


def _dbt_env(db_url: str) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads, pointing at `db_url`."""
    d = conninfo_to_dict(db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AQUAMIND_DBT_")}
    env.update({"AQUAMIND_DBT_HOST": d.get("host") or "127.0.0.1", "AQUAMIND_DBT_PORT": str(d.get("port") or 5432),
                "AQUAMIND_DBT_USER": d.get("user") or "postgres", "AQUAMIND_DBT_PASSWORD": d.get("password") or "",
                "AQUAMIND_DBT_DBNAME": d["dbname"]})
    return env


def _dbt(args: list[str], env: dict[str, str], target: Path) -> None:
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe) if exe.exists() else "dbt", *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
           "--target-path", str(target), "--log-path", str(target / "logs")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


@pytest.fixture(scope="module")
def docs(dagster_env, materialize, tmp_path_factory):
    """(manifest, catalog) of `dbt docs generate` over the marts built from the first stored year."""
    materialize([static.static_assets])
    materialize(YEARLY_ASSETS, partition_key=str(FIRST_YEAR))
    target = tmp_path_factory.mktemp("dbt_docs_target")
    env = _dbt_env(dagster_env.db_url)
    window = json.dumps({"min_year": FIRST_YEAR, "max_year": FIRST_YEAR})
    _dbt(["seed"], env, target)
    _dbt(["run", "--vars", window], env, target)
    _dbt(["docs", "generate", "--vars", window], env, target)
    return (json.loads((target / "manifest.json").read_text()),
            json.loads((target / "catalog.json").read_text()))


def _marts(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")}


def dictionary_gaps(manifest: dict, catalog: dict) -> list[str]:
    """Every way the marts' data dictionary disagrees with the built tables, one line each."""
    gaps = []
    for name, node in sorted(_marts(manifest).items()):
        built = catalog["nodes"].get(node["unique_id"])
        if built is None:
            gaps.append(f"{name}: not in the catalog (table not built)")
            continue
        if not node["description"].strip():
            gaps.append(f"{name}: no model description")
        declared = {c.lower(): col for c, col in node["columns"].items()}
        real = {c.lower() for c in built["columns"]}
        for column in sorted(real):
            text = (declared.get(column) or {}).get("description", "").strip()
            if not text:
                gaps.append(f"{name}.{column}: no description")
            elif "{{" in text or "{%" in text:
                gaps.append(f"{name}.{column}: description not rendered: {text[:60]}")
        for column in sorted(set(declared) - real):
            gaps.append(f"{name}.{column}: described but not a column of the built table")
    return gaps


def test_every_mart_is_built_and_in_the_manifest(docs):
    manifest, catalog = docs
    on_disk = {p.stem for p in MART_DIR.rglob("*.sql")}
    assert len(on_disk) >= 18
    assert set(_marts(manifest)) == on_disk
    assert all(n["unique_id"] in catalog["nodes"] for n in _marts(manifest).values())


def test_every_mart_column_is_described(docs):
    manifest, catalog = docs
    n_columns = sum(len(catalog["nodes"][n["unique_id"]]["columns"]) for n in _marts(manifest).values())
    assert n_columns > 200, "the catalog lists the built tables' columns"
    gaps = dictionary_gaps(manifest, catalog)
    assert not gaps, "\n".join(gaps)


def test_shared_descriptions_come_from_one_doc_block(docs):
    """A column meaning the same thing in several marts is described once (models/marts/_columns.md)."""
    manifest, _ = docs
    block = next(d for d in manifest["docs"].values() if d["name"] == "geography_code")
    users = [n["name"] for n in _marts(manifest).values()
             if n["columns"].get("geography_code", {}).get("description") == block["block_contents"]]
    assert len(users) >= 5, users


def test_the_check_reports_an_undescribed_real_column(docs):
    manifest, catalog = docs
    broken = copy.deepcopy(manifest)
    node = _marts(broken)["harvest_yearly_by_geography"]
    node["columns"]["live_tonnes"]["description"] = " "
    assert dictionary_gaps(broken, catalog) == ["harvest_yearly_by_geography.live_tonnes: no description"]
    # a column the table has and the yml never mentions
    extra = copy.deepcopy(catalog)
    extra["nodes"][node["unique_id"]]["columns"]["added_later"] = {"name": "added_later", "type": "integer"}
    assert dictionary_gaps(manifest, extra) == ["harvest_yearly_by_geography.added_later: no description"]


def test_the_check_reports_a_described_column_the_table_lacks(docs):
    manifest, catalog = docs
    fewer = copy.deepcopy(catalog)
    uid = _marts(manifest)["summary_by_year"]["unique_id"]
    del fewer["nodes"][uid]["columns"]["deaths"]
    assert dictionary_gaps(manifest, fewer) == ["summary_by_year.deaths: described but not a column of the built table"]


def test_sources_and_staging_models_are_described(docs):
    manifest, _ = docs
    sources = [s["unique_id"] for s in manifest["sources"].values() if not s["description"].strip()]
    assert not sources, sources
    staging = [n["name"] for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and n["original_file_path"].startswith("models/staging/")
               and not n["description"].strip()]
    assert not staging, staging
