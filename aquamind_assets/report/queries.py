"""What each chart and table of the report shows: one query over a dbt mart each, nothing computed here,
so the numbers in the report are the marts' numbers (a test compares them)."""
from __future__ import annotations

from typing import NamedTuple

from psycopg.rows import dict_row

from ..config.years import FIRST_DATE


class Chart(NamedTuple):
    title: str
    kind: str  # line, line-log, bar
    x: str
    y: str
    series: str
    sql: str
    x_label: str
    y_label: str


CHARTS = {name: Chart(*spec) for name, spec in {
    "sea_temperature": ("Sea temperature, annual mean by geography", "line", "year", "value", "geography",
                        """SELECT year, geography, round(value::numeric, 3)::float AS value FROM analytics.stat_validation
                           WHERE metric = 'sea_temperature_annual_mean_c' ORDER BY geography, year""",
                        "year", "mean temperature (°C)"),
    "growth": ("Growth curves of twelve completed batches, those hatched within the stored years first "
               "(one line per batch, its batch number in the legend)", "line-log", "day",
               "weight_g", "batch", f"""SELECT b.batch_number AS batch, p.day, round(p.w::numeric, 2)::float AS weight_g
                       FROM analytics.batch_lifecycle l JOIN (SELECT batch_id, batch_number, start_date
                             FROM analytics.fcr_by_batch WHERE is_completed
                             ORDER BY start_date < DATE '{FIRST_DATE}', batch_id LIMIT 12) b
                         ON b.batch_id = l.batch_id,
                       LATERAL (VALUES (l.entry_date - b.start_date, l.entry_weight_g),
                                       (l.exit_date - b.start_date, l.exit_weight_g)) p(day, w)
                       WHERE p.day IS NOT NULL AND p.w > 0 ORDER BY batch, day""",
               "days since egg intake", "mean weight (g, log scale)"),
    "mortality": ("Monthly mortality at sea by geography", "line", "month", "mortality_pct", "geography",
                  """SELECT to_char(month_start, 'YYYY-MM') AS month, geography_code AS geography,
                            round(mortality_pct::numeric, 4)::float AS mortality_pct
                     FROM analytics.mortality_monthly_by_geography WHERE environment = 'sea' ORDER BY 2, 1""",
                  "month", "deaths (% of fish at sea)"),
    "fcr": ("Biological and economic FCR of completed batches, by harvest year", "bar", "year", "fcr", "kind",
            """SELECT extract(year FROM last_harvest_date)::int AS year, kind, round(avg(v)::numeric, 3)::float AS fcr
               FROM analytics.fcr_by_batch, LATERAL (VALUES ('biological', biological_fcr), ('economic', economic_fcr)) x(kind, v)
               WHERE is_completed AND v IS NOT NULL GROUP BY 1, 2 ORDER BY 2, 1""",
            "year of last harvest", "FCR (kg feed / kg gain)"),
    "harvest": ("Harvest per year by geography", "bar", "year", "gutted_tonnes", "geography",
                """SELECT year::int AS year, geography_code AS geography, round(sum(gutted_tonnes)::numeric, 1)::float AS gutted_tonnes
                   FROM analytics.harvest_yearly_by_geography GROUP BY 1, 2 ORDER BY 2, 1""",
                "year", "gutted weight (tonnes)"),
    "utilization": ("Facility utilization by geography", "line", "month",
                    "utilization_pct", "geography",
                    """SELECT to_char(month_start, 'YYYY-MM') AS month, geography_code AS geography,
                              round((100.0 * sum(occupied_container_days) / sum(available_container_days))::numeric, 2)::float
                              AS utilization_pct
                       FROM analytics.utilization_monthly WHERE level = 'geography' GROUP BY 1, 2 ORDER BY 2, 1""",
                    "month", "container-days occupied (%)"),
}.items()}
TABLES = {
    "summary": ("Summary per year", """SELECT year, active_batches_at_year_end, fish_harvested,
                   round(harvest_gutted_tonnes::numeric, 1) AS harvest_gutted_tonnes, round(mortality_pct::numeric, 2) AS mortality_pct,
                   round(avg_biological_fcr::numeric, 3) AS avg_biological_fcr, outbreaks_started,
                   round(treatment_success_pct::numeric, 1) AS treatment_success_pct,
                   round(utilization_pct::numeric, 1) AS utilization_pct, total_records
                   FROM analytics.summary_by_year ORDER BY year"""),
    "data_quality": ("Data quality: each rule's results as stored by the loads (and the latest audit); "
                     "violations also count stored years without a result",
                     """SELECT rule, description, coalesce(load_examined, audit_examined) AS examined,
                            coalesce(load_violations, 0) + coalesce(audit_violations, 0) + years_missing AS violations
                        FROM analytics.data_quality ORDER BY violations DESC, rule"""),
    "fault_detection": ("Sensor-fault detection: the detectors' flags against the stored faults (event level, every "
                        "stored year; the detectors cover gap, spike and stuck)",
                        """SELECT kind, faults, faults_found, flags, flags_right, round(recall::numeric, 3) AS recall,
                           round(precision::numeric, 3) AS precision FROM analytics.fault_detection_scores
                           ORDER BY has_detector DESC, kind"""),
    "validation": ("Statistical validation against the reference bands",
                   """SELECT metric, geography, year, round(value::numeric, 3) AS value, lower, upper, within_band,
                      reference_section FROM analytics.stat_validation ORDER BY within_band, metric, geography, year"""),
}


# column headings of the tables; a column not named here is shown as its name in words
LABELS = {"year": "Year", "active_batches_at_year_end": "Active batches on 31 Dec", "fish_harvested": "Fish harvested",
          "harvest_gutted_tonnes": "Harvest, gutted (t)", "mortality_pct": "Mortality, all stages (%)",
          "avg_biological_fcr": "Biological FCR", "outbreaks_started": "Outbreaks started",
          "treatment_success_pct": "Treatments successful (%)", "utilization_pct": "Utilization (%)",
          "total_records": "Rows stored", "rule": "Rule", "description": "What it checks", "examined": "Rows examined",
          "violations": "Violations", "metric": "Metric", "geography": "Geography", "value": "Value",
          "lower": "Band low", "kind": "Fault kind", "faults_found": "Faults found",
          "flags_right": "Flags on a fault", "upper": "Band high", "within_band": "Within band", "reference_section": "Reference"}


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " ").capitalize())


def fetch(conn) -> dict:
    """Every chart's and table's rows, as lists of dicts (JSON-ready)."""
    out = {"charts": {}, "tables": {}}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, c in CHARTS.items():
            out["charts"][name] = [dict(r) for r in cur.execute(c.sql).fetchall()]
        for name, (_, q) in TABLES.items():
            out["tables"][name] = [{k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                                    for k, v in r.items()} for r in cur.execute(q).fetchall()]
    return out
