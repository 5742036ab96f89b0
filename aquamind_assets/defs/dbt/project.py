"""The dbt project and its parsed manifest, alone in their module (no @dbt_assets here)."""
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


class ManifestMissing(RuntimeError):
    """The dbt project has not been parsed: str() says how to parse it."""


def manifest_path() -> Path:
    """The parsed project's manifest. Importing the definitions never runs dbt (every run process
    imports them, and concurrent parses would race on target/): `./scripts/setup` parses the
    project (`dbt parse`, no database needed); after editing a model, parse again."""
    if not dbt_project.manifest_path.exists():
        raise ManifestMissing(f"no dbt manifest at {dbt_project.manifest_path}: run ./scripts/setup "
                              f"(or: dbt parse --project-dir {DBT_DIR} --profiles-dir {DBT_DIR})")
    return dbt_project.manifest_path
