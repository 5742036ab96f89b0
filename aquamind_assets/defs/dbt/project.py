"""The dbt project, alone in its module (no @dbt_assets here) so `dbt parse` can be prepared first."""
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def ensure_manifest() -> Path:
    """Parse the project when no manifest exists yet (a fresh checkout); parse needs no database."""
    if not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path
