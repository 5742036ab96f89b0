"""The report asset: renders reports/report.html from the marts, linked from its metadata."""
import json
from pathlib import Path

import dagster as dg

from ..runtime import settings
from . import automation
from ..report.queries import CHARTS
from ..report.render import write_report
from .resources import Warehouse

MARTS = ("summary_by_year", "data_quality", "stat_validation", "fcr_by_batch", "batch_lifecycle",
         "mortality_monthly_by_geography", "harvest_yearly_by_geography", "utilization_monthly",
         "fault_detection_scores")


def report_dir() -> Path:
    return settings.report_dir()


def column_descriptions(model: str) -> dict[str, str]:
    """A mart's column descriptions as dbt documents them (the manifest renders the doc blocks)."""
    from .dbt.assets import MANIFEST

    node = json.loads(MANIFEST.read_text())["nodes"].get(f"model.aquamind.{model}", {})
    return {name: col.get("description", "") for name, col in node.get("columns", {}).items()}


@dg.asset(deps=[dg.AssetKey(["analytics", m]) for m in MARTS], group_name="reports", kinds={"html"},
          automation_condition=automation.REPORT,
          description="Self-contained HTML report: six charts with their data embedded, summary, data quality "
                      "and statistical validation tables, all read from the dbt marts.")
def report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    scenario = warehouse.scenario()
    with warehouse.connect() as conn:
        path = write_report(conn, report_dir(), meta=f"scale {scenario.scale}, seed {scenario.seed}, "
                                                     f"scenario {scenario.data_hash()};",
                            definitions=column_descriptions("summary_by_year"))
    context.log.info(f"report written to {path}")
    url = f"{settings.files_url()}/report/{path.relative_to(report_dir()).as_posix()}"
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                          "url": dg.MetadataValue.url(url),  # served by `aquamind ui`
                                          "charts": len(CHARTS), "bytes": path.stat().st_size})
