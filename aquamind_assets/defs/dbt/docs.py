"""The dbt docs site as an asset: `dbt docs generate --static` over the warehouse (the catalog
reads the stored tables' columns and sizes), one self-contained index.html that `aquamind ui`
serves beside the report and links from the asset's metadata."""
import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ...runtime import settings
from .. import automation
from ..resources import Warehouse
from .assets import dbt_cross_year, dbt_env, dbt_year_incremental, history_complete, project_vars


def publish(site: Path, docs_dir: Path) -> Path:
    """Replace docs_dir/index.html with the generated static site in one rename, so the file
    server never hands out half a page."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=docs_dir, prefix=".index-", suffix=".html")
    os.close(fd)
    shutil.copyfile(site, tmp)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the page from another user's file server
    target = docs_dir / "index.html"
    os.replace(tmp, target)
    return target


@dg.asset(deps=[*dbt_year_incremental.keys, *dbt_cross_year.keys], group_name="reports", kinds={"dbt", "html"},
          automation_condition=automation.REPORT,
          description="The dbt project's documentation: every model's description, columns, lineage and "
                      "the warehouse's catalog, as one page served by `aquamind ui`.")
def dbt_docs(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse) -> dg.MaterializeResult:
    dbt_env(warehouse)
    with warehouse.connect() as conn:
        complete = history_complete(conn)
    with tempfile.TemporaryDirectory(prefix="dbt-docs-") as target:
        invocation = dbt.cli(["docs", "generate", "--static", *project_vars(complete)], target_path=Path(target),
                             raise_on_error=True)
        invocation.wait()
        page = publish(Path(target) / "static_index.html", settings.dbt_docs_dir())
    url = f"{settings.files_url()}/dbt-docs/index.html"
    context.log.info(f"dbt docs written to {page}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page)),
                                          "url": dg.MetadataValue.url(url),  # served by `aquamind ui`
                                          "bytes": page.stat().st_size})
